using System.Globalization;
using System.Security.Cryptography;

namespace OrleansOps.Bench;

/// <summary>One measured case: a stream and a batch size.</summary>
public sealed record IngestCase(StreamKind Stream, int BatchSize)
{
    public static readonly IReadOnlyList<IngestCase> All =
    [
        new(StreamKind.Repeat, 1), new(StreamKind.Repeat, 100), new(StreamKind.Distinct, 1), new(StreamKind.Distinct, 100), new(StreamKind.Storm, 100),
    ];

    /// <summary>As the --cases option names it: repeat-1, repeat-100, distinct-1, distinct-100, storm-100.</summary>
    public string Id => $"{Stream.ToString().ToLowerInvariant()}-{BatchSize}";
    public string Title => Stream == StreamKind.Storm ? $"storm, batch {BatchSize}" : $"{Stream.ToString().ToLowerInvariant()}-heavy, batch {BatchSize}";
}

/// <param name="StormAlerts">Alerts per storm run (rounded up to whole batches); the storm makes three runs and a half-peak one of this many.</param>
public sealed record IngestSettings(
    int Seed, TimeSpan Duration, TimeSpan Warmup, TimeSpan MaxWarmup, int Runs, int Connections, bool Build, bool Postgres, int Silos, IReadOnlyList<IngestCase> Cases,
    int StormAlerts);

/// <summary>What one run measured: the client's view, and the CPU and peak memory of the system's processes during it.</summary>
public sealed record Measured(LoadResult Load, double ServerCpuSeconds, double DatabaseCpuSeconds, long PeakRss, RuntimeWork? Runtime = null)
{
    public double CpuSeconds => ServerCpuSeconds + DatabaseCpuSeconds;
}

/// <summary>
/// A system under test: where its ingest listens, which processes' CPU and memory count, and how a run gets its
/// integration key (OrleansOps: a fresh account per run, so every run starts from the same empty state, except the
/// storm's runs, which share one target; Alertmanager: none). In the cluster mode the PostgreSQL server's CPU counts
/// too, apart. <paramref name="jit"/> reads how long a .NET server has spent compiling so far, and how many methods
/// (Alertmanager is compiled ahead of time: no such thing).
/// </summary>
public sealed class SystemUnderTest(string name, IReadOnlyList<Uri> endpoints, IReadOnlyList<int> processIds,
    Func<CancellationToken, Task<string?>> newKey, Func<double>? databaseCpu = null, Func<CancellationToken, Task<RuntimeWork>>? jit = null)
{
    public string Name => name;
    public Func<CancellationToken, Task<RuntimeWork>>? Jit => jit;

    /// <summary>Where to send, with a fresh integration key (for OrleansOps: a new, empty account).</summary>
    public async Task<IngestTarget> NewTargetAsync(CancellationToken cancel) => new(name, endpoints, await newKey(cancel));

    /// <summary>A run on a target of its own.</summary>
    public async Task<Measured> MeasureAsync(Func<IngestTarget, Task<LoadResult>> run, CancellationToken cancel) =>
        await MeasureAsync(await NewTargetAsync(cancel), run, cancel);

    /// <summary>A run on <paramref name="target"/>, which may hold what earlier runs sent.</summary>
    public async Task<Measured> MeasureAsync(IngestTarget target, Func<IngestTarget, Task<LoadResult>> run, CancellationToken cancel)
    {
        var runtime = jit is null ? null : await jit(cancel);
        foreach (var pid in processIds) ProcStats.ResetPeak(pid);
        var cpu = processIds.Sum(pid => ProcStats.CpuSeconds(pid));
        var database = databaseCpu?.Invoke() ?? 0;
        var load = await run(target);
        var measured = new Measured(load, processIds.Sum(pid => ProcStats.CpuSeconds(pid)) - cpu, (databaseCpu?.Invoke() ?? 0) - database,
            processIds.Sum(ProcStats.PeakRss));
        return runtime is null ? measured : measured with { Runtime = await jit!(cancel) - runtime };
    }
}

/// <summary>
/// What a .NET server's runtime did besides running its code: how long its JIT compiled and how many methods, and how
/// long its collector paused and how often (counted since start, or between two readings).
/// </summary>
public sealed record RuntimeWork(double Seconds, double Methods, double GcPauseSeconds = 0, double GcCollections = 0)
{
    public static RuntimeWork operator -(RuntimeWork after, RuntimeWork before) =>
        new(after.Seconds - before.Seconds, after.Methods - before.Methods, after.GcPauseSeconds - before.GcPauseSeconds, after.GcCollections - before.GcCollections);
}

/// <summary>
/// One row of the results: both systems' runs on the same streams and what they add up to. A case is one row (its
/// runs' medians); the storm is a row per run, since its runs differ in what the systems already hold.
/// </summary>
public sealed record ResultRow(string Title, IReadOnlyList<Measured> Alertmanager, IReadOnlyList<Measured> Ours)
{
    public Summary AlertmanagerSummary => Summary.Of(Alertmanager);
    public Summary OursSummary => Summary.Of(Ours);
    public double Ratio => OursSummary.AlertsPerSecond / AlertmanagerSummary.AlertsPerSecond;
}

/// <summary>The rows of one case in one mode, and OrleansOps' run at half its peak after them.</summary>
/// <param name="HalfPeakStream">Which alerts the half-peak run sent, when that needs saying (the storm's: the slice after its runs).</param>
public sealed record CaseResult(IngestCase Case, IReadOnlyList<ResultRow> Rows, Measured HalfPeak, double HalfPeakRate, string? HalfPeakStream = null)
{
    /// <summary>OrleansOps' last storm run's alerts/s over its first's: how much the grown incidents slowed it (NaN for one row).</summary>
    public double LastOverFirst => Rows.Count > 1 ? Rows[^1].OursSummary.AlertsPerSecond / Rows[0].OursSummary.AlertsPerSecond : double.NaN;
}

/// <summary>Medians over the runs of one system (the peak memory: the highest run's).</summary>
public sealed record Summary(double AlertsPerSecond, double P50Ms, double P99Ms, double CpuSeconds, double DatabaseCpuSeconds, double CpuMicrosecondsPerAlert, long PeakRss, long Failures)
{
    public static Summary Of(IReadOnlyList<Measured> runs) => new(
        Statistics.Median(runs.Select(r => r.Load.AlertsPerSecond)),
        Statistics.Median(runs.Select(r => r.Load.P50Ms)),
        Statistics.Median(runs.Select(r => r.Load.P99Ms)),
        Statistics.Median(runs.Select(r => r.CpuSeconds)),
        Statistics.Median(runs.Select(r => r.DatabaseCpuSeconds)),
        Statistics.Median(runs.Select(r => r.CpuSeconds * 1e6 / Math.Max(1, r.Load.Alerts))),
        runs.Max(r => r.PeakRss),
        runs.Sum(r => r.Load.Failures));
}

/// <summary>
/// Issue 10's side-by-side ingest harness: OrleansOps (embedded, then a PostgreSQL cluster) against Debian's
/// prometheus-alertmanager, both on loopback, both fed the same generated stream through the Alertmanager v2 alerts API.
/// Each case alternates Alertmanager and OrleansOps runs after a warm-up of each and takes the medians, so that the
/// noise of a shared machine hits both; then OrleansOps runs once more at a fixed rate of half its measured peak. The
/// storm instead runs a fixed number of new alerts three times in a row on the same targets, a row per run.
/// </summary>
public sealed class IngestBench(IngestSettings settings)
{
    private readonly LoadDriver _driver = new(settings.Connections);

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        if (Alertmanager.Binary is null)
        {
            Console.Error.WriteLine("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager); the ingest bench compares against it.");
            return 1;
        }
        var dll = await OrleansOpsServer.LocateAsync(settings.Build, cancel);
        await DescribeAsync(cancel);

        var embedded = await EmbeddedAsync(dll, cancel);
        IReadOnlyList<CaseResult>? cluster = null;
        if (!settings.Postgres) Console.WriteLine("\nPostgreSQL cluster mode: skipped (--no-postgres).");
        else if (ThrowawayPostgres.BinDirectory is null) Console.WriteLine("\nPostgreSQL cluster mode: skipped, PostgreSQL's server binaries are not installed (apt-get install postgresql).");
        else cluster = await ClusterAsync(dll, cancel);

        PrintSummary(embedded, cluster);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"min_ratio={embedded.SelectMany(c => c.Rows).Min(r => r.Ratio):0.000}"));
        return 0;
    }

    private async Task<IReadOnlyList<CaseResult>> EmbeddedAsync(string dll, CancellationToken cancel)
    {
        Console.WriteLine("\n== embedded: one server process, SQLite (Full durability) in a fresh data folder ==");
        var (folder, removal) = Cleanup.TempFolder("orleansops-bench-ingest");
        using (removal)
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            using var alertmanager = await Alertmanager.StartAsync(folder, cancel);
            using var server = await OrleansOpsServer.StartAsync(dll, "server", folder, ServerSettings.Embedded(Path.Combine(folder, "data"), token), cancel);
            Console.WriteLine($"Alertmanager pid {alertmanager.ProcessId} at {alertmanager.BaseAddress}; OrleansOps pid {server.ProcessId} at {server.BaseAddress}");
            using var admin = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var ours = new SystemUnderTest("OrleansOps", [server.BaseAddress], [server.ProcessId], NewAccountKey(admin, token),
                jit: Jit([admin], token));
            return await RunCasesAsync(AlertmanagerSystem(alertmanager), ours, cancel);
        }
    }

    private async Task<IReadOnlyList<CaseResult>> ClusterAsync(string dll, CancellationToken cancel)
    {
        Console.WriteLine($"\n== PostgreSQL cluster: {settings.Silos} silos sharing a PostgreSQL {Path.GetFileName(Path.GetDirectoryName(ThrowawayPostgres.BinDirectory))} "
            + "(default durability: fsync and synchronous_commit on) ==");
        var (folder, removal) = Cleanup.TempFolder("orleansops-bench-ingest");
        using (removal)
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            using var postgres = await ThrowawayPostgres.StartAsync(Path.Combine(folder, "postgres"), cancel);
            // Rate limits off: Alertmanager limits nothing.
            var clusterSettings = ServerSettings.Cluster(postgres, token);
            Console.WriteLine($"PostgreSQL on 127.0.0.1:{postgres.Port} (pid {postgres.ServerProcessId}); applying the schema (OrleansOps.Server migrate) …");
            await ChildProcess.RunToEndAsync("dotnet", [dll, "migrate"], clusterSettings, cancel);

            var silos = new List<LoopbackServer>();
            try
            {
                // The first silo alone, then the rest together: they find it in the membership table.
                silos.Add(await OrleansOpsServer.StartAsync(dll, "silo-1", folder, clusterSettings, cancel));
                silos.AddRange(await Task.WhenAll(Enumerable.Range(2, settings.Silos - 1)
                    .Select(i => OrleansOpsServer.StartAsync(dll, $"silo-{i}", folder, clusterSettings, cancel))));
                foreach (var (silo, i) in silos.Select((s, i) => (s, i + 1))) Console.WriteLine($"  silo-{i} pid {silo.ProcessId} at {silo.BaseAddress}");
                using var alertmanager = await Alertmanager.StartAsync(folder, cancel);
                Console.WriteLine($"Alertmanager pid {alertmanager.ProcessId} at {alertmanager.BaseAddress}");
                var admins = silos.Select(s => new HttpClient { BaseAddress = s.BaseAddress, Timeout = TimeSpan.FromSeconds(60) }).ToList();
                try
                {
                    var ours = new SystemUnderTest("OrleansOps", silos.Select(s => s.BaseAddress).ToList(), silos.Select(s => s.ProcessId).ToList(),
                        NewAccountKey(admins[0], token), postgres.CpuSeconds, Jit(admins, token));
                    return await RunCasesAsync(AlertmanagerSystem(alertmanager), ours, cancel);
                }
                finally
                {
                    foreach (var admin in admins) admin.Dispose();
                }
            }
            finally
            {
                foreach (var silo in silos) silo.Dispose();
            }
        }
    }

    private static SystemUnderTest AlertmanagerSystem(LoopbackServer alertmanager) =>
        new("Alertmanager", [alertmanager.BaseAddress], [alertmanager.ProcessId], _ => Task.FromResult<string?>(null));

    private static Func<CancellationToken, Task<string?>> NewAccountKey(HttpClient admin, string token) =>
        async cancel => (await BenchAccount.CreateAsync(admin, token, "bench-ingest", cancel)).Key;

    private static Func<CancellationToken, Task<RuntimeWork>> Jit(IReadOnlyList<HttpClient> servers, string token) => async cancel =>
    {
        var all = await Task.WhenAll(servers.Select(server => ServerMetrics.ReadAsync(server, token, cancel)));
        return new RuntimeWork(all.Sum(m => m.GetValueOrDefault(ServerMetrics.JitSeconds)), all.Sum(m => m.GetValueOrDefault(ServerMetrics.JitMethods)),
            all.Sum(m => m.GetValueOrDefault(ServerMetrics.GcPauseSeconds)), all.Sum(m => m.GetValueOrDefault(ServerMetrics.GcCollections)));
    };

    private async Task<IReadOnlyList<CaseResult>> RunCasesAsync(SystemUnderTest alertmanager, SystemUnderTest ours, CancellationToken cancel)
    {
        var results = new List<CaseResult>();
        _warmupSpent = TimeSpan.Zero;
        PrintHeader();
        foreach (var (ingestCase, caseIndex) in settings.Cases.Select((c, i) => (c, i)))
        {
            // Rounds number the streams: unique within a mode (so one case's alerts are new to the next), the same in both modes.
            // The warm-up takes the first round, on a target of its own: the storm's measured runs start from an empty account.
            var firstRound = (caseIndex + 1) * 100;
            if (settings.Warmup > TimeSpan.Zero)
                foreach (var system in new[] { alertmanager, ours })
                    await WarmUpAsync(ingestCase, system, new AlertStream(ingestCase.Stream, settings.Seed, firstRound), cancel);
            var result = ingestCase.Stream == StreamKind.Storm
                ? await StormAsync(ingestCase, firstRound + 1, alertmanager, ours, cancel)
                : await RepeatedRunsAsync(ingestCase, firstRound, alertmanager, ours, cancel);
            results.Add(result);
            PrintCase(result);
        }
        return results;
    }

    /// <summary>--runs runs of each system, each on a fresh target and a round of its own, then OrleansOps at half its median.</summary>
    private async Task<CaseResult> RepeatedRunsAsync(IngestCase ingestCase, int firstRound, SystemUnderTest alertmanager, SystemUnderTest ours, CancellationToken cancel)
    {
        var amRuns = new List<Measured>();
        var ourRuns = new List<Measured>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            var stream = new AlertStream(ingestCase.Stream, settings.Seed, firstRound + run);
            foreach (var (system, runs) in new[] { (alertmanager, amRuns), (ours, ourRuns) })
            {
                var measured = await system.MeasureAsync(target => _driver.RunFlatOutAsync(target, stream, ingestCase.BatchSize, settings.Duration, cancel), cancel);
                runs.Add(measured);
                Progress(ingestCase, system, $"run {run}/{settings.Runs}", measured);
            }
        }
        var halfRate = Summary.Of(ourRuns).AlertsPerSecond / 2;
        var halfStream = new AlertStream(ingestCase.Stream, settings.Seed, firstRound + settings.Runs + 1);
        var half = await HalfPeakAsync(ingestCase, ours, halfRate, (target, rate) =>
            _driver.RunAtRateAsync(target, halfStream, ingestCase.BatchSize, rate, settings.Duration, cancel), null, cancel);
        return new CaseResult(ingestCase, [new ResultRow(ingestCase.Title, amRuns, ourRuns)], half, halfRate);
    }

    /// <summary>The storm's measured runs, always three: enough to see whether ingest slows as the incidents grow.</summary>
    public const int StormRuns = 3;

    /// <summary>
    /// The storm: <see cref="StormRuns"/> consecutive runs of a fixed number of new alerts on one target per system (one
    /// OrleansOps account, the same Alertmanager), alternating as the other cases do, so both hold what the runs before
    /// sent and the 80 incidents grow from run to run; then OrleansOps once more on the next slice of the same storm, at
    /// half the median of its runs.
    /// </summary>
    private async Task<CaseResult> StormAsync(IngestCase ingestCase, int round, SystemUnderTest alertmanager, SystemUnderTest ours, CancellationToken cancel)
    {
        var batches = StormBatches(ingestCase);
        var perRun = batches * ingestCase.BatchSize;
        var storm = new AlertStream(StreamKind.Storm, settings.Seed, round);
        var amTarget = await alertmanager.NewTargetAsync(cancel);
        var ourTarget = await ours.NewTargetAsync(cancel);
        var rows = new List<ResultRow>();
        for (var run = 1; run <= StormRuns; run++)
        {
            var slice = storm.From((run - 1) * perRun);
            var measured = new List<Measured>();
            foreach (var (system, target) in new[] { (alertmanager, amTarget), (ours, ourTarget) })
            {
                var one = await system.MeasureAsync(target, t => _driver.RunFlatOutAsync(t, slice, ingestCase.BatchSize, batches, cancel), cancel);
                measured.Add(one);
                Progress(ingestCase, system, $"run {run}/{StormRuns} ({Alerts(run, perRun)})", one);
            }
            rows.Add(new ResultRow(StormTitle(ingestCase, run, perRun), [measured[0]], [measured[1]]));
        }
        var halfRate = Summary.Of(rows.Select(r => r.Ours[0]).ToList()).AlertsPerSecond / 2;
        var halfSlice = storm.From(StormRuns * perRun);
        var half = await HalfPeakAsync(ingestCase, ours, halfRate, (target, rate) =>
            _driver.RunAtRateAsync(target, halfSlice, ingestCase.BatchSize, rate, batches, cancel), ourTarget, cancel);
        return new CaseResult(ingestCase, rows, half, halfRate, Alerts(StormRuns + 1, perRun));
    }

    /// <summary>OrleansOps open loop at <paramref name="rate"/>, on <paramref name="target"/> or a fresh one, and when its slow answers came.</summary>
    private static async Task<Measured> HalfPeakAsync(IngestCase ingestCase, SystemUnderTest ours, double rate, Func<IngestTarget, double, Task<LoadResult>> run,
        IngestTarget? target, CancellationToken cancel)
    {
        var half = target is null
            ? await ours.MeasureAsync(t => run(t, rate), cancel)
            : await ours.MeasureAsync(target, t => run(t, rate), cancel);
        Progress(ingestCase, ours, $"at {rate:0} alerts/s", half);
        PrintTail(half.Load);
        return half;
    }

    private long StormBatches(IngestCase ingestCase) => Math.Max(1, (settings.StormAlerts + ingestCase.BatchSize - 1) / ingestCase.BatchSize);

    /// <summary>The alerts of storm run <paramref name="run"/>, counted from 1 as a reader would: "alerts 20,001–40,000".</summary>
    private static string Alerts(int run, long perRun) =>
        string.Create(CultureInfo.InvariantCulture, $"alerts {(run - 1) * perRun + 1:#,0}–{run * perRun:#,0}");

    private static string StormTitle(IngestCase ingestCase, int run, long perRun) => $"{ingestCase.Title}, run {run} ({Alerts(run, perRun)})";

    /// <summary>
    /// Runs the case flat out until the system is warm: one round for Alertmanager; for a .NET server, again and again
    /// until the JIT has gone quiet (tier-1 recompilation of hot code takes tens of seconds on a busy 2-core machine and
    /// slows everything meanwhile), within the mode's warm-up budget (--max-warmup; most of it goes to the first case,
    /// since the later ones run the same code).
    /// </summary>
    private async Task WarmUpAsync(IngestCase ingestCase, SystemUnderTest system, AlertStream stream, CancellationToken cancel)
    {
        var rounds = 0;
        var compiling = new RuntimeWork(0, 0);
        Measured warm;
        do
        {
            warm = await system.MeasureAsync(target => _driver.RunFlatOutAsync(target, stream, ingestCase.BatchSize, settings.Warmup, cancel), cancel);
            compiling = warm.Runtime ?? compiling;
            rounds++;
            if (system.Jit is not null) _warmupSpent += settings.Warmup;
        } while (compiling.Seconds > settings.Warmup.TotalSeconds * JitQuietShare && _warmupSpent < settings.MaxWarmup);
        Progress(ingestCase, system, system.Jit is null ? "warm-up" : string.Create(CultureInfo.InvariantCulture,
            $"warm-up {rounds} × {settings.Warmup.TotalSeconds:0} s (in the last, the JIT compiled {compiling.Methods:0} methods in {compiling.Seconds:0.00} s)"), warm);
    }

    /// <summary>The JIT counts as quiet when it compiled for less than this share of a warm-up round's length.</summary>
    private const double JitQuietShare = 0.02;
    private TimeSpan _warmupSpent;

    private static void Progress(IngestCase ingestCase, SystemUnderTest system, string what, Measured measured)
    {
        var load = measured.Load;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  . {ingestCase.Id} {system.Name} {what}: {load.AlertsPerSecond:0} alerts/s ({load.Requests} requests), p50 {load.P50Ms:0.0} ms, p99 {load.P99Ms:0.0} ms, CPU {measured.CpuSeconds:0.0} s")
            + (measured.Runtime is { } runtime
                ? string.Create(CultureInfo.InvariantCulture, $", the server's GC: {runtime.GcCollections:0} collections ({runtime.GcPauseSeconds * 1000:0} ms paused)")
                : "")
            + (load.Failures > 0 ? $", {load.Failures} failed requests, first: {load.FirstFailure}" : ""));
    }

    /// <summary>
    /// When the slow answers of an open-loop run came (by second of the run, counting answers over the 25 ms goal); with
    /// the collector's pauses on the run's own line, stalls that come in bursts, at a period, point at their cause.
    /// </summary>
    private static void PrintTail(LoadResult load)
    {
        const double goalMs = 25;
        var seconds = (int)Math.Ceiling(load.Elapsed.TotalSeconds);
        var slow = new int[Math.Max(seconds, 1)];
        var worst = new double[slow.Length];
        for (var i = 0; i < load.LatenciesMs.Count; i++)
        {
            var second = Math.Clamp((int)load.DueSeconds[i], 0, slow.Length - 1);
            if (load.LatenciesMs[i] > goalMs) slow[second]++;
            worst[second] = Math.Max(worst[second], load.LatenciesMs[i]);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    answers over {goalMs:0} ms by second: {string.Join(" ", slow)}; slowest by second (ms): {string.Join(" ", worst.Select(w => w.ToString("0", CultureInfo.InvariantCulture)))}"));
        // The first second again by tenths: a start-up stall (the run's account is fresh) shows as where its slow answers were due.
        var firstSlow = new int[10];
        for (var i = 0; i < load.LatenciesMs.Count; i++)
            if (load.DueSeconds[i] < 1 && load.LatenciesMs[i] > goalMs) firstSlow[Math.Clamp((int)(load.DueSeconds[i] * 10), 0, 9)]++;
        if (slow[0] > 0) Console.WriteLine($"    of the first second's, by tenth of a second they were due in: {string.Join(" ", firstSlow)}");
    }

    /// <summary>Wide enough for the longest row title of the cases run (the storm's name their alerts).</summary>
    private int CaseWidth => Math.Max(26, settings.Cases.Max(c => c.Stream == StreamKind.Storm ? StormTitle(c, StormRuns, StormBatches(c) * c.BatchSize).Length + 1 : 0));

    private void PrintHeader() =>
        Console.WriteLine($"{"case".PadRight(CaseWidth)} {"system",-13} {"alerts/s",9} {"p50 ms",7} {"p99 ms",7} {"CPU s",6} {"CPU µs/alert",12} {"peak RSS MB",11}");

    private void PrintCase(CaseResult result)
    {
        var blank = "".PadRight(CaseWidth);
        foreach (var row in result.Rows)
        {
            foreach (var (name, summary, first) in new[] { ("Alertmanager", row.AlertmanagerSummary, true), ("OrleansOps", row.OursSummary, false) })
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(first ? row.Title : "").PadRight(CaseWidth)} {name,-13} {summary.AlertsPerSecond,9:0} {summary.P50Ms,7:0.0} {summary.P99Ms,7:0.0} {summary.CpuSeconds,6:0.0} {summary.CpuMicrosecondsPerAlert,12:0} {summary.PeakRss / 1048576.0,11:0}")
                    + (summary.Failures > 0 ? $"  ({summary.Failures} failed requests)" : ""));
            var ours = row.OursSummary;
            if (ours.DatabaseCpuSeconds > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{blank} (OrleansOps CPU: silos {ours.CpuSeconds - ours.DatabaseCpuSeconds:0.0} s + PostgreSQL {ours.DatabaseCpuSeconds:0.0} s; peak RSS is the silos')"));
        }
        var half = result.HalfPeak.Load;
        var ratios = result.Rows.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"ratio {result.Rows[0].Ratio:0.000}")
            : string.Create(CultureInfo.InvariantCulture, $"ratios {string.Join(" / ", result.Rows.Select(r => r.Ratio.ToString("0.000", CultureInfo.InvariantCulture)))} "
                + $"(runs 1–{result.Rows.Count}); OrleansOps run {result.Rows.Count} ÷ run 1: {result.LastOverFirst:0.000}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{blank} {ratios}; OrleansOps at half its peak ({(result.HalfPeakStream is { } stream ? stream + ", " : "")}{result.HalfPeakRate:0} alerts/s asked, {half.AlertsPerSecond:0} sent): "
            + $"p50 {half.P50Ms:0.0} ms, p99 {half.P99Ms:0.0} ms"));
    }

    private void PrintSummary(IReadOnlyList<CaseResult> embedded, IReadOnlyList<CaseResult>? cluster)
    {
        var storm = settings.Cases.FirstOrDefault(c => c.Stream == StreamKind.Storm);
        Console.WriteLine($"\nsummary: medians of {settings.Runs} runs of {settings.Duration.TotalSeconds:0} s each, {settings.Connections} connections; "
            + (storm is null ? "" : string.Create(CultureInfo.InvariantCulture,
                $"the storm: {StormRuns} consecutive runs of {StormBatches(storm) * storm.BatchSize:#,0} new alerts on one account, a row each, its half-peak run on the last; "))
            + "ratio = OrleansOps ÷ Alertmanager alerts/s; latency in ms (p50 / p99); CPU µs per alert; peak RSS in MB");
        Console.WriteLine("| mode | case | Alertmanager alerts/s | OrleansOps alerts/s | ratio | Alertmanager latency | OrleansOps latency | OrleansOps at half peak | CPU µs/alert AM / ours | peak RSS AM / ours |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (mode, results) in new[] { ("embedded", embedded), ($"cluster ({settings.Silos} silos)", cluster ?? []) })
            foreach (var result in results)
                foreach (var (r, i) in result.Rows.Select((r, i) => (r, i)))
                {
                    var (am, ours, half) = (r.AlertmanagerSummary, r.OursSummary, result.HalfPeak.Load);
                    // A case's half-peak run came after all its rows: it goes on the last.
                    var halfPeak = i == result.Rows.Count - 1 ? string.Create(CultureInfo.InvariantCulture, $"{half.P50Ms:0.0} / {half.P99Ms:0.0}") : "–";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {mode} | {r.Title} | {am.AlertsPerSecond:#,0} | {ours.AlertsPerSecond:#,0} | {r.Ratio:0.000} | {am.P50Ms:0.0} / {am.P99Ms:0.0} | {ours.P50Ms:0.0} / {ours.P99Ms:0.0} | "
                        + $"{halfPeak} | {am.CpuMicrosecondsPerAlert:0} / {ours.CpuMicrosecondsPerAlert:0} | {am.PeakRss / 1048576.0:0} / {ours.PeakRss / 1048576.0:0} |"));
                }
        foreach (var (mode, result) in embedded.Select(r => ("embedded", r)).Concat((cluster ?? []).Select(r => ("cluster", r))).Where(m => m.r.Case.Stream == StreamKind.Storm))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode} {result.Case.Title}: OrleansOps run {result.Rows.Count} ÷ run 1 = "
                + $"{result.Rows[^1].OursSummary.AlertsPerSecond:#,0} ÷ {result.Rows[0].OursSummary.AlertsPerSecond:#,0} alerts/s = {result.LastOverFirst:0.000}"));
        var goals = Goals("embedded", embedded, 1.0);
        if (cluster is not null) goals.AddRange(Goals("cluster", cluster, 0.5));
        Console.WriteLine("goals: " + string.Join("; ", goals));
    }

    /// <summary>A mode's goals: every row at least <paramref name="ratio"/> × Alertmanager, p99 ≤ 25 ms at half peak, and the storm's last run ≥ 0.8 × its first.</summary>
    private static List<string> Goals(string mode, IReadOnlyList<CaseResult> results, double ratio)
    {
        var goals = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"{mode} ≥ {ratio:0.0} × Alertmanager in every case: {Met(results.SelectMany(c => c.Rows).All(r => r.Ratio >= ratio))}"),
            $"p99 ≤ 25 ms at half peak on every case ({mode}): {Met(results.All(r => r.HalfPeak.Load.P99Ms <= 25))}",
        };
        var storms = results.Where(r => r.Case.Stream == StreamKind.Storm).ToList();
        if (storms.Count > 0) goals.Add($"{mode} storm run {StormRuns} ≥ 0.8 × run 1: {Met(storms.All(r => r.LastOverFirst >= 0.8))}");
        return goals;
    }

    private static string Met(bool met) => met ? "met" : "NOT met";

    private static async Task DescribeAsync(CancellationToken cancel)
    {
        var alertmanager = await ChildProcess.RunToEndAsync(Alertmanager.Binary!, ["--version"], cancel: cancel);
        await BenchMachine.DescribeAsync(alertmanager.Split('\n')[0], cancel);
    }
}
