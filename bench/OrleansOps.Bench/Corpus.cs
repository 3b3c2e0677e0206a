namespace OrleansOps.Bench;

/// <summary>A service of the generated topology; <see cref="DependsOn"/> are its direct upstreams.</summary>
public sealed record BenchService(string Id, string Role, IReadOnlyList<string> Nodes, IReadOnlyList<string> DependsOn)
{
    /// <summary>What the service fires when it fails itself or through an upstream: down for infrastructure, errors above.</summary>
    public string FailureAlert => Pascal(Id) + (Role == "infra" ? "Down" : "HighErrorRate");
    public string FailureSeverity => Role == "infra" ? "critical" : "error";
    /// <summary>A second, weaker symptom some nodes of an affected service fire.</summary>
    public string LatencyAlert => Pascal(Id) + (Role == "frontend" ? "SlowPageLoad" : "HighLatency");

    private static string Pascal(string id) => string.Concat(id.Split('-').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}

/// <summary>
/// One alert event as a Prometheus would send it: <see cref="At"/> is simulated time from the corpus' start.
/// <see cref="Episode"/> numbers the uninterrupted firing period it belongs to; <see cref="Cluster"/> is the
/// ground truth: the root failure that caused it, its own noise or flapping id, or "maintenance".
/// </summary>
public sealed record AlertEvent(
    TimeSpan At, string Service, string AlertName, string Node, string Severity, bool Firing,
    int Episode, TimeSpan EpisodeStart, string Cluster)
{
    /// <summary>
    /// Every label the sender puts on the alert (the k8s corpus, <see cref="K8sCorpusGenerator"/>); null in the dag
    /// corpus, whose alerts carry alertname, node and severity and name their service outside the labels. There,
    /// <see cref="Service"/> and <see cref="Node"/> are the ground truth's subject (the app, the node the pod runs on),
    /// whatever the labels say.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>The alert's identity in the corpus (the server computes its own fingerprint from the labels).</summary>
    public string Key => Labels is null ? $"{Service}/{AlertName}/{Node}" : LabelKey(Labels);

    /// <summary>The <c>service</c> label Alertmanager groups by: the label if there are labels, else the service.</summary>
    public string ServiceLabel => Labels is null ? Service : Labels.GetValueOrDefault("service", "");

    public static string LabelKey(IReadOnlyDictionary<string, string> labels) =>
        "{" + string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
}

/// <summary>
/// A one-off maintenance window. <see cref="Matchers"/> are the window's label matchers as the account declares them
/// (the k8s corpus matches the pods); null means <c>service="<see cref="Service"/>"</c>.
/// </summary>
public sealed record Maintenance(string Name, string Service, TimeSpan Start, TimeSpan End)
{
    public IReadOnlyList<string>? Matchers { get; init; }
}

/// <summary>A ground-truth cluster: what happened, where, and when it began.</summary>
public sealed record Cluster(string Id, string Kind, string Service, TimeSpan Start, string Description)
{
    /// <summary>The nodes that failed, for node and zone failures of the k8s corpus; empty otherwise.</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];
}

public sealed record Corpus(
    int Seed, TimeSpan Span, TimeSpan Resend, IReadOnlyList<BenchService> Services, Maintenance Maintenance,
    IReadOnlyList<Cluster> Clusters, IReadOnlyList<AlertEvent> Events)
{
    /// <summary><c>dag</c> (<see cref="CorpusGenerator"/>) or <c>k8s</c> (<see cref="K8sCorpusGenerator"/>).</summary>
    public string Shape { get; init; } = "dag";
    /// <summary>The k8s corpus' zones and their worker nodes; empty for the dag corpus.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Zones { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}

/// <summary>
/// Seeded generator of a ground-truthed alert corpus. Same seed, same corpus: everything random comes from one
/// <see cref="Random"/> drawn in a fixed order. <paramref name="entangled"/> generates the earlier corpus, whose root
/// failures may begin together and whose cascades run through services already failing from another cause: there,
/// which failure an alert belongs to is not in the alerts at all (docs/benchmarks.md).
/// </summary>
public sealed class CorpusGenerator(int seed, bool entangled = false)
{
    public static readonly TimeSpan Span = TimeSpan.FromMinutes(30);
    /// <summary>Prometheus re-sends every firing alert at each evaluation.</summary>
    public static readonly TimeSpan Resend = TimeSpan.FromSeconds(30);

    private static readonly string[] Infra = ["postgres", "redis", "kafka"];
    private static readonly string[] Apis = ["auth-api", "catalog-api", "orders-api", "payments-api", "search-api", "notification-worker"];
    private static readonly string[] Frontends = ["web-frontend", "mobile-bff", "admin-portal"];
    private static readonly (string Name, string Severity)[] NoiseAlerts =
    [
        ("DiskSpaceLow", "warning"), ("HighMemoryUsage", "warning"), ("CertificateExpiringSoon", "info"),
        ("ClockSkewDetected", "warning"), ("ContainerRestarted", "info"), ("HighCpuThrottling", "warning"),
    ];

    private static readonly TimeSpan Relapse = TimeSpan.FromMinutes(5);
    /// <summary>
    /// Independent root failures begin at least this far apart: two that begin within one correlation window of
    /// each other look like one failure to anyone watching.
    /// </summary>
    private static readonly TimeSpan RootSpacing = TimeSpan.FromMinutes(3);
    private const int MaxPlacementAttempts = 1000;
    private static readonly TimeSpan NoiseIsolation = TimeSpan.FromMinutes(1);

    private readonly Random _random = new(seed);
    private readonly List<Episode> _episodes = [];
    private readonly List<Cluster> _clusters = [];
    /// <summary>When each service fails, from a root failure or a cascade: a service already down is not hit again.</summary>
    private readonly List<(string Service, TimeSpan Start, TimeSpan End)> _failing = [];
    private Maintenance _maintenance = null!;

    private sealed record Episode(string Service, string AlertName, string Node, string Severity, TimeSpan Start, TimeSpan End, string Cluster);

    public Corpus Generate()
    {
        var services = Topology();

        // One maintenance window: a rolling restart of one infrastructure or API service.
        var target = Pick(services.Where(s => s.Role != "frontend").ToList());
        var start = Minutes(6, 18);
        _maintenance = new Maintenance("bench-rolling-restart", target.Id, start, start + Minutes(6, 10));
        RollingRestart(target);

        // Root failures, each cascading down the dependants. A root never strikes a service that is failing or failed
        // less than five minutes before (anyone would call that a relapse of the same incident), nor one under maintenance.
        if (entangled) EntangledRoots(services);
        else Roots(services);

        // Flapping alerts: a readiness probe that toggles quickly, then settles.
        var flaps = _random.Next(2, 4);
        for (var i = 1; i <= flaps; i++) Flap($"flap-{i}", Pick(services));

        // Background noise: isolated alerts on random services. Unless entangled, never on a node within a minute of
        // a failure starting there: a warning the moment a node fails reads as part of that failure to anyone.
        var noise = _random.Next(12, 19);
        for (var i = 1; i <= noise; i++)
        {
            BenchService service;
            string name, severity, node;
            TimeSpan at;
            var attempt = 0;
            do
            {
                service = Pick(services);
                (name, severity) = NoiseAlerts[_random.Next(NoiseAlerts.Length)];
                at = Minutes(0, 28);
                node = Pick(service.Nodes);
            }
            while (!entangled && ++attempt < MaxPlacementAttempts && FailureStartsNear(node, at));
            var id = $"noise-{i}";
            if (Add(new Episode(service.Id, name, node, severity, at, at + Seconds(60, 480), id)))
                _clusters.Add(new Cluster(id, "noise", service.Id, at, $"{name} on {service.Id}"));
        }

        return new Corpus(seed, Span, Resend, services, _maintenance, _clusters.OrderBy(c => c.Start).ToList(), Events());
    }

    /// <summary>
    /// Root failures at least three minutes apart, placed in time order so that each sees the cascades before it: a
    /// root never strikes a service whose upstream is failing (its errors would look like that failure's cascade). A
    /// moment with no such service left is skipped.
    /// </summary>
    private void Roots(List<BenchService> services)
    {
        var count = _random.Next(4, 7);
        var starts = new List<TimeSpan>();
        for (var i = 0; i < count; i++)
            for (var attempt = 0; attempt < MaxPlacementAttempts; attempt++)
            {
                var at = Minutes(1, 24);
                if (starts.Any(s => (s - at).Duration() < RootSpacing)) continue;
                starts.Add(at);
                break;
            }
        starts.Sort();
        for (var i = 0; i < starts.Count; i++)
            for (var attempt = 0; attempt < MaxPlacementAttempts; attempt++)
            {
                var (at, duration) = (starts[i], Seconds(240, 600));
                var root = PickWeighted(services, s => s.Role switch { "infra" => 3, "api" => 2, _ => 1 });
                if (UnderMaintenance(root.Id, at, at + duration) || Relapses(root.Id, at, duration) || root.DependsOn.Any(u => Failing(u, at, at + duration))) continue;
                Failure($"root-{i + 1}", root, services, at, duration);
                break;
            }
    }

    /// <summary>The earlier corpus' roots: at any moment, drawn in the order of their ids.</summary>
    private void EntangledRoots(List<BenchService> services)
    {
        var count = _random.Next(4, 7);
        for (var i = 1; i <= count; i++)
        {
            TimeSpan at, duration;
            BenchService root;
            do
            {
                at = Minutes(1, 24);
                duration = Seconds(240, 600);
                root = PickWeighted(services, s => s.Role switch { "infra" => 3, "api" => 2, _ => 1 });
            }
            while (UnderMaintenance(root.Id, at, at + duration) || Relapses(root.Id, at, duration));
            Failure($"root-{i}", root, services, at, duration);
        }
    }

    private bool FailureStartsNear(string node, TimeSpan at) =>
        _episodes.Any(e => e.Node == node && e.Cluster.StartsWith("root-", StringComparison.Ordinal) && (e.Start - at).Duration() < NoiseIsolation);

    private bool Relapses(string service, TimeSpan at, TimeSpan duration) =>
        _episodes.Any(e => e.Service == service && at < e.End + Relapse && at + duration + Relapse > e.Start);

    private List<BenchService> Topology()
    {
        var services = new List<BenchService>();
        foreach (var id in Infra) services.Add(new BenchService(id, "infra", Nodes(id), []));
        for (var i = 0; i < Apis.Length; i++)
        {
            var upstream = Sample(Infra, _random.Next(1, 3));
            // Some APIs call an API listed before them (auth, catalog): the graph stays acyclic.
            if (i >= 2 && _random.NextDouble() < 0.5) upstream.Add(Apis[_random.Next(0, 2)]);
            services.Add(new BenchService(Apis[i], "api", Nodes(Apis[i]), upstream));
        }
        foreach (var id in Frontends) services.Add(new BenchService(id, "frontend", Nodes(id), Sample(Apis, _random.Next(2, 4))));
        return services;
    }

    private List<string> Nodes(string service) => Enumerable.Range(1, _random.Next(2, 5)).Select(n => $"{service}-{n}").ToList();

    /// <summary>
    /// A root failure on <paramref name="root"/> at <paramref name="at"/>, lasting <paramref name="duration"/>, and its
    /// cascade: each dependant is hit (most are) some seconds to two minutes after its upstream, and recovers
    /// shortly after it.
    /// </summary>
    private void Failure(string id, BenchService root, List<BenchService> services, TimeSpan at, TimeSpan duration)
    {
        var wholeService = root.Role != "infra" || _random.NextDouble() < 0.5;
        var failing = wholeService ? root.Nodes.ToList() : [Pick(root.Nodes)];
        _clusters.Add(new Cluster(id, "failure", root.Id, at,
            $"{root.FailureAlert} on {(wholeService ? "every node" : failing[0])}, {duration.TotalMinutes:0.#} min"));
        foreach (var node in failing)
            Add(new Episode(root.Id, root.FailureAlert, node, root.FailureSeverity, at + Seconds(0, 10), at + duration + Seconds(0, 20), id));

        var reached = new Dictionary<string, (TimeSpan Start, TimeSpan End)> { [root.Id] = (at, at + duration) };
        var queue = new Queue<string>([root.Id]);
        while (queue.TryDequeue(out var upstream))
        {
            var (upStart, upEnd) = reached[upstream];
            foreach (var dependant in services.Where(s => s.DependsOn.Contains(upstream) && !reached.ContainsKey(s.Id)))
            {
                if (_random.NextDouble() >= (upstream == root.Id ? 0.85 : 0.75)) continue;
                var start = upStart + Seconds(5, 120);
                var end = upEnd + Seconds(10, 60);
                if (UnderMaintenance(dependant.Id, start, end)) continue;
                // A service already down from another cause shows nothing new, and its dependants felt that cause through it.
                if (!entangled && Failing(dependant.Id, start, end)) continue;
                reached[dependant.Id] = (start, end);
                queue.Enqueue(dependant.Id);
                var hit = dependant.Nodes.Where(_ => _random.NextDouble() < 0.85).ToList();
                if (hit.Count == 0) hit.Add(Pick(dependant.Nodes));
                foreach (var node in hit)
                {
                    Add(new Episode(dependant.Id, dependant.FailureAlert, node, dependant.FailureSeverity, start + Seconds(0, 20), end + Seconds(0, 30), id));
                    if (_random.NextDouble() < 0.3)
                        Add(new Episode(dependant.Id, dependant.LatencyAlert, node, "warning", start + Seconds(0, 40), end + Seconds(0, 30), id));
                }
            }
        }
        _failing.AddRange(reached.Select(r => (r.Key, r.Value.Start, r.Value.End)));
    }

    /// <summary>
    /// Whether the service is down from a failure, or still showing it, at any time from <paramref name="start"/> to
    /// <paramref name="end"/>: its nodes' alerts run up to half a minute past its recovery, and a new episode of the
    /// same alert cannot start within a re-send interval of the last (see <see cref="Overlaps"/>).
    /// </summary>
    private bool Failing(string service, TimeSpan start, TimeSpan end) =>
        _failing.Any(f => f.Service == service && start < f.End + ShowsPastRecovery && end > f.Start);

    private static readonly TimeSpan ShowsPastRecovery = TimeSpan.FromSeconds(30) + Resend;

    /// <summary>A probe toggling every 15–45 s for 5–9 changes, then either quiet or firing steadily for a few minutes.</summary>
    private void Flap(string id, BenchService service)
    {
        var node = Pick(service.Nodes);
        var at = Minutes(1, 25);
        var name = "ReadinessProbeFailed";
        if (UnderMaintenance(service.Id, at, at + TimeSpan.FromMinutes(8)) || Overlaps(service.Id, name, node, at, at + TimeSpan.FromMinutes(8))) return;
        _clusters.Add(new Cluster(id, "flapping", service.Id, at, $"{name} on {node} flapping"));
        var changes = _random.Next(5, 10);
        var t = at;
        for (var change = 0; change < changes; change += 2)
        {
            var firing = change + 1 >= changes && _random.NextDouble() < 0.5 ? Seconds(120, 300) : Seconds(15, 45);
            Add(new Episode(service.Id, name, node, "warning", t, t + firing, id));
            t += firing + Seconds(15, 45);
        }
    }

    /// <summary>The nodes go down one after the other while the window is open, and are all back 30 s or more before it ends.</summary>
    private void RollingRestart(BenchService service)
    {
        var (_, _, start, end) = _maintenance;
        _clusters.Add(new Cluster("maintenance", "maintenance", service.Id, start, $"rolling restart of {service.Id}, {(end - start).TotalMinutes:0.#} min"));
        var slot = (end - start - TimeSpan.FromSeconds(60)) / service.Nodes.Count;
        for (var i = 0; i < service.Nodes.Count; i++)
        {
            var down = start + TimeSpan.FromSeconds(30) + slot * i;
            var up = down + TimeSpan.FromSeconds(slot.TotalSeconds * (0.4 + 0.5 * _random.NextDouble()));
            Add(new Episode(service.Id, "InstanceDown", service.Nodes[i], "critical", down, up, "maintenance"));
            if (_random.NextDouble() < 0.5) Add(new Episode(service.Id, service.FailureAlert, service.Nodes[i], service.FailureSeverity, down + Seconds(5, 15), up, "maintenance"));
        }
    }

    private bool UnderMaintenance(string service, TimeSpan start, TimeSpan end) =>
        _maintenance is { } m && m.Service == service && start < m.End && end > m.Start;

    private bool Overlaps(string service, string name, string node, TimeSpan start, TimeSpan end) =>
        _episodes.Any(e => e.Service == service && e.AlertName == name && e.Node == node && start < e.End + Resend && end + Resend > e.Start);

    /// <summary>Adds an episode unless the same alert is already firing then (it cannot fire twice), or it would fire in maintenance.</summary>
    private bool Add(Episode episode)
    {
        if (episode.Cluster != "maintenance" && UnderMaintenance(episode.Service, episode.Start, episode.End)) return false;
        if (Overlaps(episode.Service, episode.AlertName, episode.Node, episode.Start, episode.End)) return false;
        _episodes.Add(episode);
        return true;
    }

    /// <summary>Every firing episode as Prometheus sends it: at its start, again every <see cref="Resend"/>, then resolved.</summary>
    private List<AlertEvent> Events()
    {
        var events = new List<AlertEvent>();
        // Unless entangled, each episode starts at a random millisecond of its second, from a generator of its own so
        // that everything else stays as drawn: senders do not fire on whole seconds, and a replay's few milliseconds
        // of scheduling would otherwise decide every tie between two alerts exactly a window or a wait apart.
        var fraction = new Random(seed);
        for (var number = 0; number < _episodes.Count; number++)
        {
            var e = _episodes[number];
            if (!entangled)
            {
                var offset = TimeSpan.FromMilliseconds(fraction.Next(1000));
                e = e with { Start = e.Start + offset, End = e.End + offset };
            }
            for (var at = e.Start; at < e.End; at += Resend)
                events.Add(new AlertEvent(at, e.Service, e.AlertName, e.Node, e.Severity, true, number, e.Start, e.Cluster));
            events.Add(new AlertEvent(e.End, e.Service, e.AlertName, e.Node, e.Severity, false, number, e.Start, e.Cluster));
        }
        // Stable order: by time, then by episode, so that one seed always replays identically.
        return events.OrderBy(e => e.At).ThenBy(e => e.Episode).ToList();
    }

    private TimeSpan Minutes(double from, double to) => TimeSpan.FromSeconds(Math.Round((from + (to - from) * _random.NextDouble()) * 60));
    private TimeSpan Seconds(int from, int to) => TimeSpan.FromSeconds(_random.Next(from, to + 1));
    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private List<string> Sample(IReadOnlyList<string> items, int count) =>
        items.Select(item => (item, key: _random.NextDouble())).OrderBy(p => p.key).Take(count).Select(p => p.item).ToList();

    private BenchService PickWeighted(IReadOnlyList<BenchService> items, Func<BenchService, int> weight)
    {
        var roll = _random.Next(items.Sum(weight));
        foreach (var item in items)
            if ((roll -= weight(item)) < 0) return item;
        return items[^1];
    }
}
