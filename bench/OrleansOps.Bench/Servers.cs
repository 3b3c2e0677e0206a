using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace OrleansOps.Bench;

/// <summary>A program the bench runs as its child on a loopback port, ready once a path of it answers; stopped on dispose.</summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly ChildProcess _process;

    private LoopbackServer(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }
    public int ProcessId => _process.Id;

    /// <summary>Starts <paramref name="program"/> listening on <paramref name="port"/> and waits until <paramref name="readyPath"/> answers 2xx.</summary>
    public static Task<LoopbackServer> StartAsync(string name, string program, IEnumerable<string> arguments, int port, string readyPath, string logPath,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancel) =>
        StartAsync(name, program, arguments, port, readyPath, logPath, environment, timeout, Loopback.ReadyPoll, cancel);

    /// <summary>As above, asking <paramref name="readyPath"/> every <paramref name="poll"/>.</summary>
    public static async Task<LoopbackServer> StartAsync(string name, string program, IEnumerable<string> arguments, int port, string readyPath, string logPath,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, TimeSpan poll, CancellationToken cancel)
    {
        var process = ChildProcess.Start(program, arguments, logPath, environment);
        var server = new LoopbackServer(process, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            await Loopback.WaitUntilAnswersAsync(name, $"{server.BaseAddress}{readyPath}", process, timeout, poll, cancel);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    public void Dispose() => _process.Dispose();
}

/// <summary>The OrleansOps server as the bench runs it: the embedded server, or one silo of a PostgreSQL cluster.</summary>
public static class OrleansOpsServer
{
    /// <summary>
    /// The server's Release build output; built first (incrementally, so it never runs code older than the tree) unless
    /// <paramref name="build"/> is false.
    /// </summary>
    public static async Task<string> LocateAsync(bool build, CancellationToken cancel)
    {
        var project = Path.Combine(Repository.Root, "src", "OrleansOps.Server");
        if (build)
        {
            Console.WriteLine("building OrleansOps.Server (Release) …");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await ChildProcess.RunToEndAsync("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "quiet"], cancel: cancel);
            Console.WriteLine($"  built in {clock.Elapsed.TotalSeconds:0} s");
        }
        var dll = Path.Combine(project, "bin", "Release", "net10.0", "OrleansOps.Server.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing; run without --no-build.");
    }

    /// <summary>
    /// Starts the server on free loopback ports and waits until /healthz answers (a grain round-trip). Settings go through
    /// the environment, as deploy/local-cluster.sh passes them, so the admin token and connection string stay out of the
    /// process list.
    /// </summary>
    public static Task<LoopbackServer> StartAsync(string dll, string name, string folder, IReadOnlyDictionary<string, string> settings, CancellationToken cancel) =>
        StartAsync(dll, name, folder, settings, SiloPorts.Free(), cancel);

    /// <summary>
    /// As above on the given ports: a silo restarted on its previous silo port replaces its dead incarnation in the
    /// membership at once, instead of waiting until that one is voted dead (docs/operations.md).
    /// </summary>
    public static Task<LoopbackServer> StartAsync(string dll, string name, string folder, IReadOnlyDictionary<string, string> settings, SiloPorts ports,
        CancellationToken cancel) =>
        StartAsync(dll, name, folder, settings, ports, TimeSpan.FromSeconds(120), Loopback.ReadyPoll, cancel);

    /// <summary>
    /// As above, waiting up to <paramref name="timeout"/> for /healthz and asking it every <paramref name="poll"/>: the
    /// recovery bench times a restart on a large data folder to the poll.
    /// </summary>
    public static Task<LoopbackServer> StartAsync(string dll, string name, string folder, IReadOnlyDictionary<string, string> settings, SiloPorts ports,
        TimeSpan timeout, TimeSpan poll, CancellationToken cancel)
    {
        var environment = new Dictionary<string, string>(settings)
        {
            ["OrleansOps__SiloPort"] = ports.Silo.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["OrleansOps__GatewayPort"] = ports.Gateway.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return LoopbackServer.StartAsync(name, "dotnet", [dll, "--urls", $"http://127.0.0.1:{ports.Http}"], ports.Http, "healthz", Path.Combine(folder, $"{name}.log"),
            environment, timeout, poll, cancel);
    }
}

/// <summary>The settings the benches start the server with: embedded, or every silo of a PostgreSQL cluster.</summary>
public static class ServerSettings
{
    /// <summary>
    /// PostgreSQL storage and clustering, loopback addresses, one admin token for all silos, and the per-credential
    /// rate limits off.
    /// </summary>
    public static Dictionary<string, string> Cluster(ThrowawayPostgres postgres, string adminToken) => new(Common(adminToken))
    {
        ["OrleansOps__Storage"] = "Postgres",
        ["OrleansOps__PostgresConnection"] = postgres.ConnectionString,
        ["OrleansOps__AdvertisedAddress"] = "127.0.0.1",
    };

    /// <summary>The embedded server on SQLite in <paramref name="dataPath"/>, with the per-credential rate limits off.</summary>
    public static Dictionary<string, string> Embedded(string dataPath, string adminToken) => new(Common(adminToken))
    {
        ["OrleansOps__DataPath"] = dataPath,
    };

    /// <summary>
    /// The rate limits off: Alertmanager limits nothing, and the benches measure throughput and durability, not that guard
    /// (docs/security.md). The young generation's size as every launcher of the server sets it (the runtime reads it from
    /// the environment only; docs/operations.md, "Runtime settings").
    /// </summary>
    private static Dictionary<string, string> Common(string adminToken) => new()
    {
        ["DOTNET_GCgen0size"] = "0x4000000",
        ["OrleansOps__AdminToken"] = adminToken,
        ["OrleansOps__RateLimits__IngestPerSecond"] = "0",
        ["OrleansOps__RateLimits__ApiPerSecond"] = "0",
    };
}

/// <summary>The loopback ports of one server process: HTTP, Orleans' silo-to-silo port and its client gateway.</summary>
public sealed record SiloPorts(int Http, int Silo, int Gateway)
{
    public static SiloPorts Free() => new(Loopback.FreePort(), Loopback.FreePort(), Loopback.FreePort());
}

/// <summary>A fresh account with one integration key, created over the admin API; the bench's ingest authenticates with the key.</summary>
public sealed record BenchAccount(string Id, string Key)
{
    /// <summary>Alerts group by alertname within their service (the <c>service</c> label): the same groups as the Alertmanager route's.</summary>
    /// <param name="configure">Adds to the configuration before it is written (escalation, channels); null for none.</param>
    public static async Task<BenchAccount> CreateAsync(HttpClient admin, string adminToken, string prefix, CancellationToken cancel,
        Action<JsonObject>? configure = null)
    {
        var account = new BenchAccount($"{prefix}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}", RandomNumberGenerator.GetHexString(32, lowercase: true));
        var config = new JsonObject
        {
            ["id"] = account.Id,
            ["name"] = $"Ingest benchmark {account.Id}",
            ["correlation"] = new JsonObject { ["groupBy"] = new JsonArray("alertname") },
            ["integrationKeys"] = new JsonArray(new JsonObject { ["name"] = "bench", ["key"] = account.Key }),
        };
        configure?.Invoke(config);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/accounts/{account.Id}/config") { Content = JsonContent.Create(config) };
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await admin.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT config of {account.Id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
        return account;
    }
}

/// <summary>
/// Debian's prometheus-alertmanager on a free loopback port with a fresh storage folder, gossip off, and one route that
/// groups by service and alertname into a receiver with no integrations: it takes and groups alerts, and sends nothing.
/// </summary>
public static class Alertmanager
{
    public static readonly string? Binary = new[] { "/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager" }.FirstOrDefault(File.Exists);

    private const string Config = """
        route:
          receiver: "null"
          group_by: [service, alertname]
        receivers:
          - name: "null"
        """;

    public static async Task<LoopbackServer> StartAsync(string folder, CancellationToken cancel)
    {
        var binary = Binary ?? throw new InvalidOperationException("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)");
        var storage = Path.Combine(folder, "alertmanager");
        Directory.CreateDirectory(storage);
        var config = Path.Combine(storage, "alertmanager.yml");
        await File.WriteAllTextAsync(config, Config, cancel);
        var port = Loopback.FreePort();
        return await LoopbackServer.StartAsync("Alertmanager", binary,
        [
            $"--config.file={config}",
            $"--storage.path={Path.Combine(storage, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ], port, "-/ready", Path.Combine(folder, "alertmanager.log"), null, TimeSpan.FromSeconds(30), cancel);
    }
}

/// <summary>The server's own runtime metrics, read from its /metrics (Prometheus text format) with the admin token.</summary>
public static class ServerMetrics
{
    /// <summary>Every sample of /metrics, summed per metric name over its label sets.</summary>
    public static async Task<IReadOnlyDictionary<string, double>> ReadAsync(HttpClient server, string adminToken, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await server.SendAsync(request, cancel);
        response.EnsureSuccessStatusCode();
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in (await response.Content.ReadAsStringAsync(cancel)).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd <= 0 || !double.TryParse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
                continue;
            sums[line[..nameEnd]] = sums.GetValueOrDefault(line[..nameEnd]) + value;
        }
        return sums;
    }

    /// <summary>Seconds the runtime has spent compiling methods (tier 0 and the tier-1 recompilations of hot ones).</summary>
    public const string JitSeconds = "dotnet_jit_compilation_time_seconds_total";

    /// <summary>Methods compiled so far, counting each recompilation.</summary>
    public const string JitMethods = "dotnet_jit_compiled_methods_total";

    /// <summary>Seconds the runtime has paused threads for garbage collection so far.</summary>
    public const string GcPauseSeconds = "dotnet_gc_pause_time_seconds_total";

    /// <summary>Garbage collections so far, every generation.</summary>
    public const string GcCollections = "dotnet_gc_collections_total";

    /// <summary>The managed heap after the last collection, per generation (summed, it is the whole heap).</summary>
    public const string HeapAfterLastCollection = "dotnet_gc_last_collection_heap_size_bytes";
}
