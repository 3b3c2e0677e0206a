namespace OrleansOps.Bench;

/// <summary>
/// One silo of the chaos cluster: its name and fixed ports, its current process while it runs, and the HTTP client
/// the load sends through. Restarted on the same ports, a silo replaces its dead incarnation in the membership at once.
/// </summary>
public sealed class ChaosSilo(string name, SiloPorts ports) : IDisposable
{
    private volatile bool _up;

    public string Name => name;
    public SiloPorts Ports => ports;
    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{ports.Http}/");
    public LoopbackServer? Process { get; set; }
    public int Incarnations { get; set; }

    /// <summary>Whether the load may send here: from the moment /healthz answered until the bench kills it (a load balancer's view).</summary>
    public bool Up
    {
        get => _up;
        set => _up = value;
    }

    /// <summary>
    /// The load's client for this silo, kept across restarts (same port). Its connections to a killed incarnation fail
    /// on their next use, and the sender retries elsewhere; the connection cap bounds what a stalled silo can hold.
    /// </summary>
    public HttpClient Client { get; } = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64, ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{ports.Http}/"),
        Timeout = Timeout.InfiniteTimeSpan, // each attempt has its own deadline
    };

    public void Dispose()
    {
        Process?.Dispose();
        Client.Dispose();
    }
}

/// <summary>The silos of the chaos bench, all on one PostgreSQL, started, SIGKILLed and restarted by name.</summary>
public sealed class ChaosCluster(string dll, string folder, IReadOnlyDictionary<string, string> settings, int silos) : IDisposable
{
    private int _cursor = -1;

    public IReadOnlyList<ChaosSilo> Silos { get; } =
        Enumerable.Range(1, silos).Select(i => new ChaosSilo($"silo-{i}", SiloPorts.Free())).ToList();

    public int LiveCount => Silos.Count(s => s.Up);

    /// <summary>
    /// A new cluster: the first silo alone, then the rest together, finding it in the membership table. A restart: all
    /// at once, since a silo that starts alone waits for its dead peers' entries to go stale (90 s) before it joins,
    /// while each restarted silo replaces its own dead entry at once.
    /// </summary>
    public async Task StartAllAsync(CancellationToken cancel)
    {
        if (Silos[0].Incarnations == 0) await StartAsync(Silos[0], cancel);
        await Task.WhenAll(Silos.Where(silo => silo.Process is null).Select(silo => StartAsync(silo, cancel)));
    }

    /// <summary>Starts that exited before /healthz answered, and were started again, as a supervisor would: silo, incarnation, why.</summary>
    public IReadOnlyList<string> FailedStarts
    {
        get { lock (_failedStarts) return _failedStarts.ToList(); }
    }

    private readonly List<string> _failedStarts = [];
    private const int StartAttempts = 3;

    /// <summary>
    /// Starts a new incarnation of the silo on its ports (its log: name.incarnation.log) and waits until /healthz
    /// answers; one that exits during its start is started again, up to <see cref="StartAttempts"/> times, as systemd or
    /// Kubernetes would restart it.
    /// </summary>
    public async Task StartAsync(ChaosSilo silo, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            silo.Incarnations++;
            try
            {
                silo.Process = await OrleansOpsServer.StartAsync(dll, $"{silo.Name}.{silo.Incarnations}", folder, settings, silo.Ports, cancel);
                silo.Up = true;
                return;
            }
            catch (InvalidOperationException e) when (attempt < StartAttempts && e.Message.Contains("exited during start", StringComparison.Ordinal))
            {
                var reason = e.Message.Split('\n').FirstOrDefault(l => l.StartsWith("Unhandled exception", StringComparison.Ordinal)) ?? e.Message.Split('\n')[0];
                var failure = $"{silo.Name}.{silo.Incarnations}: {reason[..Math.Min(reason.Length, 400)]}";
                lock (_failedStarts) _failedStarts.Add(failure);
                Console.WriteLine($"  start failed, starting it again: {failure}");
            }
        }
    }

    /// <summary>SIGKILL: no graceful shutdown, no leaving the membership; whatever it held in memory is gone.</summary>
    public void Kill(ChaosSilo silo)
    {
        silo.Up = false;
        silo.Process?.Dispose(); // ChildProcess kills with Process.Kill, which is SIGKILL on Linux
        silo.Process = null;
    }

    public void KillAll()
    {
        foreach (var silo in Silos) Kill(silo);
    }

    /// <summary>The next live silo in round-robin order, or null while none is up.</summary>
    public ChaosSilo? NextLive()
    {
        for (var tried = 0; tried < Silos.Count; tried++)
        {
            var silo = Silos[(int)((uint)Interlocked.Increment(ref _cursor) % Silos.Count)];
            if (silo.Up) return silo;
        }
        return null;
    }

    /// <summary>Copies every incarnation's log to <paramref name="destination"/> (the bench's own folder is removed at the end).</summary>
    public void CopyLogs(string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var log in Directory.EnumerateFiles(folder, "silo-*.log"))
            File.Copy(log, Path.Combine(destination, Path.GetFileName(log)), overwrite: true);
    }

    public void Dispose()
    {
        foreach (var silo in Silos) silo.Dispose();
    }
}
