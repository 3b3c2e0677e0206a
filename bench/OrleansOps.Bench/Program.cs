using System.CommandLine;
using System.Globalization;
using OrleansOps.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var seed = new Option<int>("--seed") { Description = "Corpus seed (same seed, same corpus)", DefaultValueFactory = _ => 1 };
var url = new Option<string>("--url") { Description = "Base URL of a running OrleansOps server", Required = true };
var token = new Option<string>("--token") { Description = "The server's admin token", Required = true };
var speed = new Option<double>("--speed") { Description = "How many times faster than simulated time to replay", DefaultValueFactory = _ => 30 };
var groupBy = new Option<string>("--group-by") { Description = "correlation.groupBy of the account, comma-separated", DefaultValueFactory = _ => "alertname,node" };
var window = new Option<string>("--window") { Description = "correlation.window, in simulated time (0s = off: no time window, no topology)", DefaultValueFactory = _ => "3m" };
var flapToggles = new Option<int>("--flap-toggles") { Description = "correlation.flapping.toggles (0 = off)", DefaultValueFactory = _ => 4 };
var flapWindow = new Option<string>("--flap-window") { Description = "correlation.flapping.window, in simulated time", DefaultValueFactory = _ => "10m" };
var flapQuiet = new Option<string>("--flap-quiet") { Description = "correlation.flapping.quiet, in simulated time", DefaultValueFactory = _ => "3m" };
var symptomSeverity = new Option<string>("--symptom-severity") { Description = "correlation.symptomSeverity: the least severe alert topology attaches to an upstream incident", DefaultValueFactory = _ => "sev2" };
var symptomWait = new Option<string>("--symptom-wait") { Description = "correlation.symptomWait, in simulated time (0s = off)", DefaultValueFactory = _ => "40s" };
var entangled = new Option<bool>("--entangled") { Description = "The earlier corpus: root failures at any moment and cascades through services already failing, where the truth is not in the alerts" };
var diagnose = new Option<bool>("--diagnose") { Description = "Also list the wrong merges and splits, by rule" };
var shape = new Option<string>("--shape") { Description = "Corpus family: dag (services with their own nodes, alerts naming their service) or k8s (a kube-prometheus estate: shared worker nodes, zones, exporter labels)", DefaultValueFactory = _ => "dag" };
shape.AcceptOnlyFromAmong("dag", "k8s");
var k8sSettings = new Option<string>("--k8s-settings") { Description = "k8s only: declare serviceLabels, correlation.nodeLabels and zones in the account (off: for a server that does not know them)", DefaultValueFactory = _ => "on" };
k8sSettings.AcceptOnlyFromAmong("on", "off");
var ingestPath = new Option<string>("--ingest") { Description = "k8s only: alertmanager (POST /api/v2/alerts, as Prometheus sends) or api (POST /api/v1/alerts); labels only either way", DefaultValueFactory = _ => "alertmanager" };
ingestPath.AcceptOnlyFromAmong("alertmanager", "api");
var seeds = new Option<string?>("--seeds") { Description = "Replay each seed of a range such as 1..20 in turn (a fresh account each), then print a per-seed table and the worst figures; overrides --seed" };

var correlation = new Command("correlation", "Replay a seeded, ground-truthed corpus through a server's HTTP ingest and score its grouping against Alertmanager's")
{
    seed, url, token, speed, groupBy, window, flapToggles, flapWindow, flapQuiet, symptomSeverity, symptomWait, diagnose, entangled, shape, k8sSettings, ingestPath, seeds,
};
correlation.SetAction(async (parse, cancel) =>
{
    var corpusShape = parse.GetValue(shape)!;
    if (corpusShape == "k8s" && parse.GetValue(entangled))
    {
        Console.Error.WriteLine("--entangled is a variant of the dag corpus; it does not apply to --shape k8s");
        return 2;
    }
    List<int> range;
    try
    {
        range = parse.GetValue(seeds) is { } text ? SeedRange(text) : [parse.GetValue(seed)];
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
    var settings = new BenchSettings(
        parse.GetValue(groupBy)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        Duration(parse.GetValue(window)!), parse.GetValue(flapToggles), Duration(parse.GetValue(flapWindow)!), Duration(parse.GetValue(flapQuiet)!),
        parse.GetValue(speed), parse.GetValue(symptomSeverity)!, Duration(parse.GetValue(symptomWait)!))
    {
        K8sSettings = parse.GetValue(k8sSettings) == "on",
        Ingest = parse.GetValue(ingestPath)!,
    };
    using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
    var rows = new List<(int Seed, Score Ours, Score Baseline, int Leaked, int Maintenance)>();
    foreach (var n in range)
    {
        if (range.Count > 1) Console.WriteLine($"=== seed {n} ({rows.Count + 1} of {range.Count}) ===");
        var corpus = Generate(corpusShape, n, parse.GetValue(entangled));
        Describe(corpus);

        var replayer = new Replayer(http, parse.GetValue(token)!, settings);
        Console.WriteLine($"replaying {corpus.Events.Count} events at {settings.Speed}x (about {corpus.Events[^1].At.TotalSeconds / settings.Speed:0} s):");
        Receipt[] receipts;
        try
        {
            receipts = await replayer.RunAsync(corpus, cancel);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("PUT config", StringComparison.Ordinal))
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        // Let timers that end suppression (flapping quiet periods) run before reading back.
        await Task.Delay(TimeSpan.FromSeconds(2) + settings.FlapQuiet / settings.Speed, cancel);

        var ours = await new Evaluator(http, parse.GetValue(token)!).EvaluateAsync(corpus, replayer.AccountId, receipts, cancel);
        var (baseline, baselineAlerts) = Baseline.Evaluate(corpus);
        Console.WriteLine();
        Console.WriteLine($"{"",-36} {"alerts",7} {"distinct",8} {"episodes",8} {"incidents",9} {"noise red.",10} {"per-alert red.",14} {"precision",9} {"recall",7}");
        foreach (var s in new[] { ours.Score, baseline })
            Console.WriteLine($"{s.System,-36} {s.FiringEvents,7} {s.DistinctAlerts,8} {s.Episodes,8} {s.Incidents,9} {s.NoiseReduction,10:0.0000} {s.PerAlertReduction,14:0.0000} {s.Precision,9:0.0000} {s.Recall,7:0.0000}");
        Console.WriteLine($"(alerts = firing events; distinct = alerts as they landed in incidents or groups; episodes = the corpus' distinct alerts, "
            + "an alert's uninterrupted firing; noise red. = 1 - incidents / alerts, per-alert red. = 1 - incidents / episodes; "
            + $"maintenance: {ours.MaintenanceLeaked} of {ours.MaintenanceEvents} firing events reached an incident; {ours.Unattributed} incident alerts had no receipt naming their incident)");
        if (parse.GetValue(diagnose))
        {
            Console.WriteLine("OrleansOps:");
            foreach (var line in Evaluator.Diagnose(corpus, ours.Alerts)) Console.WriteLine("  " + line);
            Console.WriteLine("baseline:");
            foreach (var line in Evaluator.Diagnose(corpus, baselineAlerts)) Console.WriteLine("  " + line);
        }
        Console.WriteLine($"noise_reduction={ours.Score.NoiseReduction:0.0000} precision={ours.Score.Precision:0.0000} recall={ours.Score.Recall:0.0000} per_alert_reduction={ours.Score.PerAlertReduction:0.0000}");
        rows.Add((n, ours.Score, baseline, ours.MaintenanceLeaked, ours.MaintenanceEvents));
    }
    if (range.Count > 1)
    {
        Console.WriteLine();
        Console.WriteLine($"{corpusShape} corpus, seeds {range[0]}..{range[^1]} (OrleansOps | Alertmanager (alertname, service)):");
        Console.WriteLine($"{"seed",4} {"alerts",7} {"episodes",8} {"incidents",9} {"noise red.",10} {"per-alert red.",14} {"precision",9} {"recall",7} {"maint.",7} | {"groups",6} {"per-alert red.",14} {"precision",9} {"recall",7}");
        foreach (var (n, o, b, leaked, maintenance) in rows)
            Console.WriteLine($"{n,4} {o.FiringEvents,7} {o.Episodes,8} {o.Incidents,9} {o.NoiseReduction,10:0.0000} {o.PerAlertReduction,14:0.0000} {o.Precision,9:0.0000} {o.Recall,7:0.0000} {$"{leaked}/{maintenance}",7} | {b.Incidents,6} {b.PerAlertReduction,14:0.0000} {b.Precision,9:0.0000} {b.Recall,7:0.0000}");
        var (p, r, a) = (rows.MinBy(x => x.Ours.Precision), rows.MinBy(x => x.Ours.Recall), rows.MinBy(x => x.Ours.PerAlertReduction));
        Console.WriteLine($"(maint. = maintenance firing events that reached an incident, of all)");
        Console.WriteLine($"over {rows.Count} seeds: min precision {p.Ours.Precision:0.0000} (seed {p.Seed}), min recall {r.Ours.Recall:0.0000} (seed {r.Seed}), "
            + $"min per-alert reduction {a.Ours.PerAlertReduction:0.0000} (seed {a.Seed})");
        Console.WriteLine($"seeds={range[0]}..{range[^1]} min_precision={p.Ours.Precision:0.0000} min_recall={r.Ours.Recall:0.0000} min_per_alert_reduction={a.Ours.PerAlertReduction:0.0000}");
    }
    return 0;
});

var events = new Option<bool>("--events") { Description = "Also print every event: time, state, alert, severity, episode, ground-truth cluster" };
var corpusCommand = new Command("corpus", "Describe a seed's corpus and score the baseline, without a server") { seed, entangled, events, shape };
corpusCommand.SetAction(parse =>
{
    var corpus = Generate(parse.GetValue(shape)!, parse.GetValue(seed), parse.GetValue(entangled));
    Describe(corpus);
    if (parse.GetValue(events))
        foreach (var e in corpus.Events)
            Console.WriteLine($"  {e.At:hh\\:mm\\:ss\\.fff} {(e.Firing ? "firing  " : "resolved")} {e.Key} {e.Severity} episode {e.Episode} from {e.EpisodeStart:hh\\:mm\\:ss\\.fff} {e.Cluster}");
    var (baseline, baselineAlerts) = Baseline.Evaluate(corpus);
    Console.WriteLine($"{baseline.System}: {baseline.FiringEvents} alerts, {baseline.DistinctAlerts} distinct, {baseline.Incidents} groups, "
        + $"noise reduction {baseline.NoiseReduction:0.0000}, precision {baseline.Precision:0.0000}, recall {baseline.Recall:0.0000}");
    foreach (var line in Evaluator.Diagnose(corpus, baselineAlerts)) Console.WriteLine("  " + line);
    return 0;
});

var incidentCount = new Option<int>("--incidents") { Description = "How many incidents to open, each with a pending escalation level", DefaultValueFactory = _ => 10_000 };
var levelDelay = new Option<string>("--delay") { Description = "The escalation level's delay after each incident opens", DefaultValueFactory = _ => "60s" };
var serverPid = new Option<int?>("--server-pid") { Description = "The server's process id, to report its memory (same machine only)" };
var escalation = new Command("escalation", "Open many incidents with a pending escalation level on a running server and measure how late the steps fire")
{
    url, token, incidentCount, levelDelay, serverPid,
};
escalation.SetAction(async (parse, cancel) =>
{
    using var http = new HttpClient { BaseAddress = new Uri(parse.GetValue(url)!.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(120) };
    return await new EscalationBench(http, parse.GetValue(token)!, parse.GetValue(incidentCount), Duration(parse.GetValue(levelDelay)!), parse.GetValue(serverPid))
        .RunAsync(cancel);
});

var noBuild = new Option<bool>("--no-build") { Description = "Use the server's existing Release build instead of building src/OrleansOps.Server first" };
var connections = new Option<int>("--connections") { Description = "Concurrent HTTP connections, each with one request in flight", DefaultValueFactory = _ => 8 };
var duration = new Option<string>("--duration") { Description = "Length of each measured run", DefaultValueFactory = _ => "8s" };
var warmup = new Option<string>("--warmup") { Description = "Length of each system's warm-up run per case (0s: none)", DefaultValueFactory = _ => "2s" };
var maxWarmup = new Option<string>("--max-warmup") { Description = "Warm-up budget per mode: a .NET server is warmed up until its JIT goes quiet or this has passed", DefaultValueFactory = _ => "60s" };
var runs = new Option<int>("--runs") { Description = "Measured runs per system and case, alternating Alertmanager and OrleansOps; the medians are reported", DefaultValueFactory = _ => 3 };
var noPostgres = new Option<bool>("--no-postgres") { Description = "Skip the PostgreSQL cluster mode" };
var silos = new Option<int>("--silos") { Description = "Silos in the PostgreSQL cluster mode", DefaultValueFactory = _ => 2 };
var cases = new Option<string>("--cases") { Description = "Comma-separated cases to run", DefaultValueFactory = _ => string.Join(',', IngestCase.All.Select(c => c.Id)) };
var stormAlerts = new Option<int>("--storm-alerts") { Description = "New alerts in each of the storm's runs (three measured, one at half peak), on one account", DefaultValueFactory = _ => 20_000 };
var ingest = new Command("ingest", "Build the server, start it and prometheus-alertmanager on loopback, and compare their ingest side by side (then again with a PostgreSQL cluster)")
{
    seed, noBuild, connections, duration, warmup, maxWarmup, runs, noPostgres, silos, cases, stormAlerts,
};
ingest.SetAction(async (parse, cancel) =>
{
    var chosen = parse.GetValue(cases)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(id => IngestCase.All.FirstOrDefault(c => c.Id == id) ?? throw new ArgumentException($"unknown case '{id}'; known: {string.Join(", ", IngestCase.All.Select(c => c.Id))}"))
        .ToList();
    var settings = new IngestSettings(parse.GetValue(seed), Duration(parse.GetValue(duration)!), Duration(parse.GetValue(warmup)!), Duration(parse.GetValue(maxWarmup)!),
        Math.Max(1, parse.GetValue(runs)),
        Math.Max(1, parse.GetValue(connections)), !parse.GetValue(noBuild), !parse.GetValue(noPostgres), Math.Max(1, parse.GetValue(silos)), chosen,
        Math.Max(1, parse.GetValue(stormAlerts)));
    return await new IngestBench(settings).RunAsync(cancel);
});

var openIncidents = new Option<int>("--incidents") { Description = "Open incidents to hold, each its own group", DefaultValueFactory = _ => 100_000 };
var alertsPerIncident = new Option<int>("--alerts-per-incident") { Description = "Open alerts per incident: the first opens it, the others join it", DefaultValueFactory = _ => 5 };
var accounts = new Option<int>("--accounts") { Description = "Accounts the incidents are spread over (a fleet of tenants)", DefaultValueFactory = _ => 100 };
var memory = new Command("memory", "Build and start the embedded server, open many incidents with several open alerts each, and report the server's memory per open incident and per open alert")
{
    noBuild, openIncidents, alertsPerIncident, accounts, connections,
};
memory.SetAction(async (parse, cancel) =>
    await new MemoryBench(new MemorySettings(Math.Max(1, parse.GetValue(openIncidents)), Math.Max(1, parse.GetValue(alertsPerIncident)), Math.Max(1, parse.GetValue(accounts)),
        Math.Max(1, parse.GetValue(connections)), !parse.GetValue(noBuild))).RunAsync(cancel));

var soakDuration = new Option<string>("--duration") { Description = "Measured ingest, after the warm-up", DefaultValueFactory = _ => "150s" };
var soakWarmup = new Option<string>("--warmup") { Description = "Ingest before the first kill, left out of the latency figures", DefaultValueFactory = _ => "30s" };
var rate = new Option<double>("--rate") { Description = "Alerts per second, open loop", DefaultValueFactory = _ => 100 };
var batch = new Option<int>("--batch") { Description = "Alerts per request", DefaultValueFactory = _ => 10 };
var killEvery = new Option<string>("--kill-every") { Description = "SIGKILL one silo (in turn) this often, from the end of the warm-up", DefaultValueFactory = _ => "30s" };
var downFor = new Option<string>("--down-for") { Description = "How long a killed silo stays down before it is restarted on the same ports", DefaultValueFactory = _ => "10s" };
var chaosSilos = new Option<int>("--silos") { Description = "Silos in the PostgreSQL cluster", DefaultValueFactory = _ => 3 };
var chaosAccounts = new Option<int>("--accounts") { Description = "Accounts the load is spread over, each with its integration key", DefaultValueFactory = _ => 4 };
var newShare = new Option<double>("--new-share") { Description = "Share of alerts never sent before (the rest re-send an earlier alert of the account)", DefaultValueFactory = _ => 0.1 };
var perIncident = new Option<int>("--alerts-per-incident") { Description = "New alerts per group, so per incident", DefaultValueFactory = _ => 4 };
var secondLevel = new Option<string>("--second-level") { Description = "Delay of the escalation policy's second level after opening (0s: one level)", DefaultValueFactory = _ => "30s" };
var redispatchAfter = new Option<string?>("--redispatch-after") { Description = "The silos' OrleansOps:Notifications:RedispatchAfter (default: the server's own, 30 min)" };
var noFullRestart = new Option<bool>("--no-full-restart") { Description = "Read back without SIGKILLing and restarting the whole cluster first" };
var logs = new Option<string?>("--logs") { Description = "Copy the silos' logs to this folder at the end (the bench's temp folder is removed)" };
var chaos = new Command("chaos", "Soak a PostgreSQL cluster with ingest while its silos are SIGKILLed and restarted; count lost alerts, duplicate notifications and failover latency")
{
    noBuild, seed, soakDuration, soakWarmup, rate, batch, killEvery, downFor, chaosSilos, chaosAccounts, newShare, perIncident, secondLevel, redispatchAfter, noFullRestart, logs,
};
chaos.SetAction(async (parse, cancel) =>
    await new ChaosBench(new ChaosSettings(
        Duration(parse.GetValue(soakDuration)!), Duration(parse.GetValue(soakWarmup)!), parse.GetValue(rate), Math.Max(1, parse.GetValue(batch)),
        Duration(parse.GetValue(killEvery)!), Duration(parse.GetValue(downFor)!), Math.Max(2, parse.GetValue(chaosSilos)), Math.Max(1, parse.GetValue(chaosAccounts)),
        Math.Clamp(parse.GetValue(newShare), 0, 1), Math.Max(1, parse.GetValue(perIncident)), Duration(parse.GetValue(secondLevel)!),
        parse.GetValue(redispatchAfter) is { } redispatch ? Duration(redispatch) : null, !parse.GetValue(noFullRestart), !parse.GetValue(noBuild),
        parse.GetValue(seed), parse.GetValue(logs))).RunAsync(cancel));

var records = new Option<long>("--records") { Description = "Journal records to write before the kill (read from the server's /metrics)", DefaultValueFactory = _ => 1_000_000 };
var recovery = new Command("recovery", "Build and start the embedded server, ingest a storm until its journal holds --records records, SIGKILL it, start it again on the same data folder and time its recovery")
{
    noBuild, records, connections, seed,
};
recovery.SetAction(async (parse, cancel) =>
    await new RecoveryBench(new RecoverySettings(Math.Max(1, parse.GetValue(records)), Math.Max(1, parse.GetValue(connections)), parse.GetValue(seed), !parse.GetValue(noBuild)))
        .RunAsync(cancel));

var levels = new Option<string>("--levels") { Description = "Open incidents per level, comma-separated", DefaultValueFactory = _ => "10,1000,10000" };
var probes = new Option<int>("--probes") { Description = "New failures (fired and resolved) measured per level", DefaultValueFactory = _ => 400 };
var scale = new Command("correlator", "Build and start the embedded server and measure the server's CPU per new alert at growing numbers of open incidents in one account")
{
    noBuild, levels, probes,
};
scale.SetAction(async (parse, cancel) =>
{
    var asked = parse.GetValue(levels)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (asked.Length == 0 || asked.Any(l => !int.TryParse(l, out var n) || n < 0))
    {
        Console.Error.WriteLine($"--levels '{parse.GetValue(levels)}': give whole numbers of open incidents, comma-separated (e.g. 10,1000,10000)");
        return 2;
    }
    return await new ScaleBench(new ScaleSettings(asked.Select(int.Parse).ToList(), Math.Max(10, parse.GetValue(probes)), !parse.GetValue(noBuild))).RunAsync(cancel);
});

var root = new RootCommand("OrleansOps benchmarks") { correlation, corpusCommand, escalation, ingest, memory, chaos, recovery, scale };
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine(error.Message);
    return 2;
}
// Ctrl+C cancels the command; this long lets it stop its servers and remove its folders before the process is ended.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });

static Corpus Generate(string shape, int seed, bool entangled) =>
    shape == "k8s" ? new K8sCorpusGenerator(seed).Generate() : new CorpusGenerator(seed, entangled).Generate();

static void Describe(Corpus corpus)
{
    if (corpus.Shape == "k8s")
    {
        var pods = corpus.Services.Sum(s => s.Nodes.Count);
        Console.WriteLine($"k8s corpus seed {corpus.Seed}: {corpus.Services.Count} services, {pods} pods on {corpus.Zones.Sum(z => z.Value.Count)} worker nodes in {corpus.Zones.Count} zones, "
            + $"{corpus.Span.TotalMinutes:0} simulated minutes, re-sends every {corpus.Resend.TotalSeconds:0} s");
        foreach (var s in corpus.Services)
            Console.WriteLine($"  {s.Id,-20} {s.Role,-8} on {string.Join(", ", s.Nodes)}{(s.DependsOn.Count > 0 ? "  dependsOn " + string.Join(", ", s.DependsOn) : "")}");
    }
    else
    {
        Console.WriteLine($"corpus seed {corpus.Seed}: {corpus.Services.Count} services, {corpus.Services.Sum(s => s.Nodes.Count)} nodes, "
            + $"{corpus.Span.TotalMinutes:0} simulated minutes, re-sends every {corpus.Resend.TotalSeconds:0} s");
        foreach (var s in corpus.Services)
            Console.WriteLine($"  {s.Id,-20} {s.Nodes.Count} nodes{(s.DependsOn.Count > 0 ? "  dependsOn " + string.Join(", ", s.DependsOn) : "")}");
    }
    var all = corpus.Shape == "k8s";
    foreach (var kind in corpus.Clusters.GroupBy(c => c.Kind))
        Console.WriteLine($"  {kind.Count()} {kind.Key}: " + string.Join("; ", kind.Take(all ? int.MaxValue : 8).Select(c => $"{c.Id} at {c.Start:mm\\:ss} {c.Description}")) + (!all && kind.Count() > 8 ? "; …" : ""));
    var m = corpus.Maintenance;
    Console.WriteLine($"  maintenance window {m.Start:mm\\:ss}–{m.End:mm\\:ss} on {m.Service}{(m.Matchers is { } matchers ? $" (matchers {string.Join(", ", matchers)})" : "")}");
    Console.WriteLine($"  {corpus.Events.Count} events ({corpus.Events.Count(e => e.Firing)} firing), {corpus.Events.Select(e => e.Episode).Distinct().Count()} alert episodes");
}

/// <summary>A seed range such as 1..20 (or a single seed).</summary>
static List<int> SeedRange(string text)
{
    var parts = text.Split("..", 2, StringSplitOptions.TrimEntries);
    if (!int.TryParse(parts[0], CultureInfo.InvariantCulture, out var from) || (parts.Length == 2 && !int.TryParse(parts[1], CultureInfo.InvariantCulture, out _)))
        throw new ArgumentException($"'{text}' is not a seed range like 1..20");
    var to = parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : from;
    if (to < from) throw new ArgumentException($"'{text}': the range ends before it starts");
    return Enumerable.Range(from, to - from + 1).ToList();
}

static TimeSpan Duration(string text)
{
    var unit = text[^1] switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => throw new ArgumentException($"'{text}' is not a duration like 90s, 5m or 1h") };
    return TimeSpan.FromSeconds(double.Parse(text[..^1], CultureInfo.InvariantCulture) * unit);
}
