namespace OrleansOps.Bench;

/// <summary>
/// Seeded generator of a ground-truthed alert corpus shaped like a kube-prometheus estate of a colocation tenant:
/// app services and data stores running as pods on shared worker nodes in three zones, alerts labelled as
/// Prometheus, node-exporter, kube-state-metrics, the kubelet and a blackbox probe label them (no service named
/// outside the labels). Same seed, same corpus: everything random comes from one <see cref="Random"/> drawn in a
/// fixed order (docs/benchmarks.md describes the failure kinds).
/// </summary>
public sealed class K8sCorpusGenerator(int seed)
{
    public static readonly TimeSpan Span = TimeSpan.FromMinutes(40);
    /// <summary>Prometheus re-sends every firing alert to the Alertmanager about once a minute.</summary>
    public static readonly TimeSpan Resend = TimeSpan.FromMinutes(1);

    public static readonly string[] ZoneNames = ["zone-a", "zone-b", "zone-c"];
    private const int NodesPerZone = 4;
    private const string Prometheus = "monitoring/k8s";
    private const string Ksm = "kube-state-metrics";
    /// <summary>Kubernetes' alphabet for generated names (no vowels, no look-alike digits).</summary>
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private sealed record StoreKind(string Id, string DownAlert, int Port, int Replicas);
    private static readonly StoreKind[] Stores =
    [
        new("postgres", "PostgresDown", 9187, 2), new("redis", "RedisDown", 9121, 3),
        new("kafka", "KafkaBrokerDown", 9308, 3), new("elasticsearch", "ElasticsearchNodeDown", 9114, 3),
    ];
    private static readonly string[] CoreApis = ["auth-api", "catalog-api", "pricing-api", "inventory-api", "accounts-api"];
    private static readonly string[] Apis = ["orders-api", "payments-api", "cart-api", "search-api", "shipping-api", "reviews-api", "recommendations-api", "fraud-api", "checkout-api"];
    private static readonly string[] Workers = ["notification-worker", "email-worker", "billing-worker"];
    private static readonly string[] Frontends = ["web-frontend", "mobile-bff", "admin-portal"];

    /// <summary>An alert runs up to half a minute past its recovery and a re-send interval more: a failure's claim on a resource lasts that long.</summary>
    private static readonly TimeSpan ShowsPastRecovery = TimeSpan.FromSeconds(30) + Resend;
    /// <summary>A service-level failure does not strike a service that failed this recently: that would be a relapse.</summary>
    private static readonly TimeSpan Relapse = TimeSpan.FromMinutes(5);
    /// <summary>Within this of a service's failure starting, a failure of its direct upstream reads as its cause.</summary>
    private static readonly TimeSpan Near = TimeSpan.FromMinutes(3);
    /// <summary>Root failures (other than the deliberate overlaps) start at least this far apart.</summary>
    private static readonly TimeSpan RootSpacing = TimeSpan.FromSeconds(45);
    private const int MaxPlacementAttempts = 400;
    /// <summary>A service's SLO burn alert outlives its errors by up to two minutes (the burn rate lags): its failure lasts that long.</summary>
    private static readonly TimeSpan SloTail = TimeSpan.FromMinutes(2);

    private sealed record Node(string Name, string Zone, int Index, string Ip, string ExporterPod);
    private sealed record App(string Id, string Role, string Namespace, int Port, List<string> Nodes, List<string> DependsOn, string Hash, string RestartHash);
    private sealed record Pod(string Service, string Node, string Name, string Ip);

    /// <summary>
    /// One firing period of one alert. <see cref="Subject"/> is the service it is about in truth ("" for a node, a zone
    /// or the cluster), <see cref="Node"/> the node it is about (the pod's node, even where no label says so).
    /// </summary>
    private sealed record Episode(string Subject, string Node, string Level, string AlertName, string Severity,
        IReadOnlyDictionary<string, string> Labels, TimeSpan Start, TimeSpan End, string Cluster)
    {
        public string Key { get; } = AlertEvent.LabelKey(Labels);
        public bool Strong => Severity is "critical" or "error";
    }

    private sealed class Failure(string id, string kind, string subject, TimeSpan start, string description)
    {
        public string Id => id;
        public string Kind => kind;
        public string Subject => subject;
        public TimeSpan Start => start;
        public string Description { get; set; } = description;
        public List<string> Nodes { get; } = [];
    }

    private readonly Random _random = new(seed);
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, Node> _nodeByName = [];
    private readonly List<App> _apps = [];
    private readonly Dictionary<string, App> _app = [];
    /// <summary>(service, node) → the pod before and after the maintenance window's rolling restart.</summary>
    private readonly Dictionary<(string Service, string Node), (Pod Before, Pod After)> _pods = [];
    private readonly Dictionary<string, int> _nextIp = [];
    private readonly List<Episode> _episodes = [];
    private readonly List<Failure> _failures = [];
    private readonly Dictionary<string, string> _kindOf = [];
    private Pod _ksm = null!, _certManager = null!;
    private Maintenance _maintenance = null!;

    public Corpus Generate()
    {
        Topology();
        RollingRestart();
        Background();
        ZonePartition();
        TwinNodeFailures();
        RootFailures();
        UnrelatedOverlaps();
        var flaps = _random.Next(2, 4);
        for (var i = 1; i <= flaps; i++)
            for (var attempt = 0; attempt < 50 && !Flap($"flap-{i}"); attempt++) { }

        var services = _apps.Select(a => new BenchService(a.Id, a.Role, a.Nodes, a.DependsOn)).ToList();
        var clusters = _failures
            .Select(f => (f, episodes: _episodes.Where(e => e.Cluster == f.Id).ToList()))
            .Where(p => p.episodes.Count > 0)
            .Select(p => new Cluster(p.f.Id, p.f.Kind, p.f.Subject, p.episodes.Min(e => e.Start), p.f.Description) { Nodes = p.f.Nodes })
            .OrderBy(c => c.Start).ThenBy(c => c.Id, StringComparer.Ordinal).ToList();
        var zones = ZoneNames.ToDictionary(z => z, z => (IReadOnlyList<string>)_nodes.Where(n => n.Zone == z).Select(n => n.Name).ToList());
        return new Corpus(seed, Span, Resend, services, _maintenance, clusters, Events()) { Shape = "k8s", Zones = zones };
    }

    // ---------------------------------------------------------------- topology

    private void Topology()
    {
        for (var z = 0; z < ZoneNames.Length; z++)
            for (var n = 1; n <= NodesPerZone; n++)
            {
                var name = $"worker-{ZoneNames[z][^1]}-{n}";
                var node = new Node(name, ZoneNames[z], _nodes.Count, $"10.0.{z + 1}.{10 + n}", "node-exporter-" + Name(5));
                _nodes.Add(node);
                _nodeByName[name] = node;
            }

        foreach (var store in Stores) AddApp(store.Id, "store", "data", store.Port, store.Replicas, []);
        foreach (var id in CoreApis) AddApp(id, "api", "shop", 8080, _random.Next(2, 5), Sample(Stores.Select(s => s.Id).ToList(), _random.Next(1, 3)));
        foreach (var id in Apis)
        {
            var upstream = Sample(Stores.Select(s => s.Id).ToList(), _random.Next(1, 3));
            if (_random.NextDouble() < 0.6) upstream.Add(Pick(CoreApis));
            AddApp(id, "api", "shop", 8080, _random.Next(2, 5), upstream);
        }
        foreach (var id in Workers)
        {
            List<string> upstream = ["kafka"];
            if (_random.NextDouble() < 0.5) upstream.Add("postgres");
            if (_random.NextDouble() < 0.3) upstream.Add(Pick(CoreApis));
            AddApp(id, "worker", "jobs", 8080, _random.Next(2, 5), upstream);
        }
        foreach (var id in Frontends) AddApp(id, "frontend", "storefront", 3000, _random.Next(2, 5), Sample([.. CoreApis, .. Apis], _random.Next(2, 5)));

        // The exporters' own pods, whose address is the instance label of everything they export.
        _ksm = NewPod(Ksm, Pick(_nodes).Name, $"{Ksm}-{Name(9)}-{Name(5)}");
        _certManager = NewPod("cert-manager", Pick(_nodes).Name, $"cert-manager-{Name(9)}-{Name(5)}");
    }

    /// <summary>A service's pods spread over the zones (topology spread), at most one per node; stores are StatefulSets.</summary>
    private void AddApp(string id, string role, string ns, int port, int replicas, List<string> dependsOn)
    {
        var zones = Sample(ZoneNames, ZoneNames.Length);
        var nodes = new List<string>();
        for (var i = 0; i < replicas; i++)
        {
            var zone = zones[i % zones.Count];
            var free = _nodes.Where(n => n.Zone == zone && !nodes.Contains(n.Name)).ToList();
            nodes.Add(Pick(free).Name);
        }
        var app = new App(id, role, ns, port, nodes, dependsOn, Name(9), Name(9));
        _apps.Add(app);
        _app[id] = app;
        for (var i = 0; i < nodes.Count; i++)
        {
            var before = NewPod(id, nodes[i], role == "store" ? $"{id}-{i}" : $"{id}-{app.Hash}-{Name(5)}");
            var after = NewPod(id, nodes[i], role == "store" ? $"{id}-{i}" : $"{id}-{app.RestartHash}-{Name(5)}");
            _pods[(id, nodes[i])] = (before, after);
        }
    }

    /// <summary>Pod addresses come from the node's pod CIDR, 10.244.&lt;node&gt;.0/24, in the order pods are made.</summary>
    private Pod NewPod(string service, string node, string name)
    {
        var index = _nodeByName[node].Index;
        var host = _nextIp[node] = _nextIp.GetValueOrDefault(node, 1) + 1;
        return new Pod(service, node, name, $"10.244.{index}.{host}");
    }

    private Pod PodAt(string service, string node, TimeSpan at) =>
        service == _maintenance.Service && at >= _maintenance.End ? _pods[(service, node)].After : _pods[(service, node)].Before;

    private IEnumerable<(App App, Pod Pod)> PodsOn(string node, TimeSpan at) =>
        _apps.Where(a => a.Nodes.Contains(node)).Select(a => (a, PodAt(a.Id, node, at)));

    private string Name(int length) => new(Enumerable.Range(0, length).Select(_ => NameAlphabet[_random.Next(NameAlphabet.Length)]).ToArray());

    // ---------------------------------------------------------------- labels, as the exporters send them

    private Dictionary<string, string> AppLabels(string alert, string severity, Pod pod)
    {
        var app = _app[pod.Service];
        return new()
        {
            ["alertname"] = alert, ["severity"] = severity, ["namespace"] = app.Namespace, ["pod"] = pod.Name, ["node"] = pod.Node,
            ["service"] = app.Id, ["job"] = app.Id, ["instance"] = $"{pod.Ip}:{app.Port}", ["prometheus"] = Prometheus,
        };
    }

    /// <summary>kube-state-metrics about a pod: the exporter's own job, service and address; the subject in namespace, pod and app_kubernetes_io_name.</summary>
    private Dictionary<string, string> KsmPodLabels(string alert, string severity, Pod pod)
    {
        var app = _app[pod.Service];
        return new()
        {
            ["alertname"] = alert, ["severity"] = severity, ["namespace"] = app.Namespace, ["pod"] = pod.Name, ["container"] = app.Id,
            ["app_kubernetes_io_name"] = app.Id, ["job"] = Ksm, ["service"] = Ksm, ["instance"] = $"{_ksm.Ip}:8080", ["prometheus"] = Prometheus,
        };
    }

    private Dictionary<string, string> KsmDeploymentLabels(string alert, string severity, App app) => new()
    {
        ["alertname"] = alert, ["severity"] = severity, ["namespace"] = app.Namespace, ["deployment"] = app.Id,
        ["app_kubernetes_io_name"] = app.Id, ["job"] = Ksm, ["service"] = Ksm, ["instance"] = $"{_ksm.Ip}:8080", ["prometheus"] = Prometheus,
    };

    private Dictionary<string, string> KsmNodeLabels(string alert, Node node, bool unreachable)
    {
        var labels = new Dictionary<string, string>
        {
            ["alertname"] = alert, ["severity"] = "warning", ["node"] = node.Name,
            ["job"] = Ksm, ["service"] = Ksm, ["instance"] = $"{_ksm.Ip}:8080", ["prometheus"] = Prometheus,
        };
        if (unreachable) (labels["key"], labels["effect"]) = ("node.kubernetes.io/unreachable", "NoSchedule");
        else (labels["condition"], labels["status"]) = ("Ready", "true");
        return labels;
    }

    /// <summary>node-exporter runs on the host network: its instance is the node's address; its own pod and service are the exporter's.</summary>
    private static Dictionary<string, string> NodeExporterLabels(string alert, string severity, Node node) => new()
    {
        ["alertname"] = alert, ["severity"] = severity, ["namespace"] = "monitoring", ["pod"] = node.ExporterPod, ["node"] = node.Name,
        ["job"] = "node-exporter", ["service"] = "node-exporter", ["instance"] = $"{node.Ip}:9100", ["prometheus"] = Prometheus,
    };

    private static Dictionary<string, string> KubeletLabels(string alert, string severity, Node node) => new()
    {
        ["alertname"] = alert, ["severity"] = severity, ["node"] = node.Name,
        ["job"] = "kubelet", ["service"] = "kubelet", ["instance"] = $"{node.Ip}:10250", ["prometheus"] = Prometheus,
    };

    /// <summary>A multi-window burn-rate alert on the service's availability SLO: aggregated by service, no pod, node or instance.</summary>
    private Dictionary<string, string> SloLabels(App app) => new()
    {
        ["alertname"] = "ErrorBudgetBurn", ["severity"] = "critical", ["namespace"] = app.Namespace, ["service"] = app.Id,
        ["slo"] = $"{app.Id}-availability", ["long_window"] = "1h", ["short_window"] = "5m", ["prometheus"] = Prometheus,
    };

    // ---------------------------------------------------------------- what is already happening

    private bool IsBackground(Episode e) => _kindOf[e.Cluster] is "background" or "flapping";

    private static bool Overlap(Episode e, TimeSpan start, TimeSpan end, TimeSpan margin) => start < e.End + margin && end + margin > e.Start;

    /// <summary>Whether the pod of <paramref name="service"/> on <paramref name="node"/> alerts for another cluster then (a pod fails for one reason at a time).</summary>
    private bool PodBusy(string service, string node, TimeSpan start, TimeSpan end, string cluster) =>
        _episodes.Any(e => e.Cluster != cluster && !IsBackground(e) && e.Subject == service && e.Node == node && Overlap(e, start, end, ShowsPastRecovery));

    /// <summary>Whether the node is down for another cluster then.</summary>
    private bool NodeDown(string node, TimeSpan start, TimeSpan end, string cluster) =>
        _episodes.Any(e => e.Cluster != cluster && e.Level == "node" && e.Node == node && Overlap(e, start, end, ShowsPastRecovery));

    private bool PodFree(string service, string node, TimeSpan start, TimeSpan end, string cluster) =>
        !PodBusy(service, node, start, end, cluster) && !NodeDown(node, start, end, cluster);

    /// <summary>
    /// Whether a node can fail then: nothing of another cluster alerts on it (background warnings aside: they fire all
    /// along, and a failure has to be told apart from them), and it has not been down within five minutes (a relapse).
    /// </summary>
    private bool NodeFree(string node, TimeSpan start, TimeSpan end, string cluster) =>
        !_episodes.Any(e => e.Cluster != cluster && !IsBackground(e) && e.Node == node
            && (Overlap(e, start, end, ShowsPastRecovery) || (e.Level == "node" && Overlap(e, start, end, Relapse))));

    /// <summary>
    /// Whether the episode says its service fails as a whole: an error or critical alert of a database outage, a bad
    /// deploy or an unrelated failure, or a data store's pod down with its node. (A pod's errors as its node dies say
    /// the node failed, and its node label says which.)
    /// </summary>
    private bool ServiceFails(Episode e) =>
        e.Strong && (_kindOf[e.Cluster] is "database" or "deploy" or "unrelated" || (e.Level == "pod" && _app[e.Subject].Role == "store"));

    /// <summary>Whether <paramref name="service"/> fails for another cluster within <paramref name="margin"/> of the span.</summary>
    private bool Failing(string service, TimeSpan start, TimeSpan end, string cluster, TimeSpan margin) =>
        _episodes.Any(e => e.Cluster != cluster && e.Subject == service && ServiceFails(e) && Overlap(e, start, end, margin));

    /// <summary>
    /// Whether <paramref name="service"/> has error or critical alerts of another cluster (any kind, a node's failure
    /// included) within <paramref name="margin"/> of the span: the same alert of one service from two causes at once
    /// is one failure to anyone watching.
    /// </summary>
    private bool StrongElsewhere(string service, TimeSpan start, TimeSpan end, string cluster, TimeSpan margin) =>
        _episodes.Any(e => e.Cluster != cluster && !IsBackground(e) && e.Cluster != "maintenance" && e.Subject == service && e.Strong && Overlap(e, start, end, margin));

    private bool StrongStartsIn(string service, TimeSpan from, TimeSpan to, string cluster) =>
        _episodes.Any(e => e.Cluster != cluster && !IsBackground(e) && e.Cluster != "maintenance" && e.Subject == service && e.Strong && e.Start >= from && e.Start <= to);

    private bool StartsFailing(string service, TimeSpan from, TimeSpan to, string cluster) =>
        _episodes.Any(e => e.Cluster != cluster && e.Subject == service && ServiceFails(e) && e.Start >= from && e.Start <= to);

    private bool UnderMaintenance(string service, TimeSpan start, TimeSpan end) =>
        _maintenance is { } m && m.Service == service && start < m.End + ShowsPastRecovery && end + ShowsPastRecovery > m.Start;

    /// <summary>
    /// Whether a service-level failure can strike <paramref name="service"/> from <paramref name="start"/> to
    /// <paramref name="end"/> without its truth being in doubt: not under maintenance, no error or critical alert of it
    /// from another cause within three minutes (a node's failure included), not failing or failed within five minutes
    /// from another service-level failure (a relapse), no error or critical alert of a direct upstream then (of any
    /// cause: its errors would read as that failure's cascade), and no direct dependant starting to fail while it fails
    /// or shortly before (they would read as its cascade).
    /// </summary>
    private bool RootFits(App app, TimeSpan start, TimeSpan end, string cluster) =>
        !UnderMaintenance(app.Id, start, end)
        && !StrongElsewhere(app.Id, start, end, cluster, Near)
        && !_episodes.Any(e => e.Cluster != cluster && e.Subject == app.Id && e.Strong && _kindOf[e.Cluster] is "database" or "deploy" or "unrelated" && Overlap(e, start, end, Relapse))
        && !app.DependsOn.Any(u => StrongElsewhere(u, start, end, cluster, ShowsPastRecovery))
        && !_apps.Where(d => d.DependsOn.Contains(app.Id)).Any(d => StartsFailing(d.Id, start - Near, end + ShowsPastRecovery, cluster));

    private bool DependsOn(string service, string upstream) => _app[service].DependsOn.Any(u => u == upstream || DependsOn(u, upstream));

    // ---------------------------------------------------------------- episodes

    /// <summary>Adds an episode unless the same alert is already firing then (it cannot fire twice), or it would fire in maintenance.</summary>
    private bool Add(Episode episode)
    {
        if (episode.Cluster != "maintenance" && episode.Subject.Length > 0 && UnderMaintenance(episode.Subject, episode.Start, episode.End)) return false;
        if (_episodes.Any(e => e.Key == episode.Key && episode.Start < e.End + Resend && episode.End + Resend > e.Start)) return false;
        _episodes.Add(episode);
        return true;
    }

    private Failure NewFailure(string id, string kind, string subject, TimeSpan start, string description)
    {
        var failure = new Failure(id, kind, subject, start, description);
        _failures.Add(failure);
        _kindOf[id] = kind;
        return failure;
    }

    // ---------------------------------------------------------------- (9) maintenance

    /// <summary>
    /// A rolling restart of one API's pods inside a one-off window, declared as matchers on the pods (what an operator
    /// writes for a Deployment): each old pod's target goes down in turn, sometimes with errors, and its replacement is
    /// not ready for a while. All back 30 s or more before the window ends.
    /// </summary>
    private void RollingRestart()
    {
        var app = Pick(_apps.Where(a => a.Role == "api").ToList());
        var start = Minutes(8, 20);
        var end = start + Minutes(5, 8);
        _maintenance = new Maintenance("bench-rolling-restart", app.Id, start, end)
        {
            Matchers = [$"namespace=\"{app.Namespace}\"", $"pod=~\"{app.Id}-[a-z0-9]+-[a-z0-9]+\""],
        };
        NewFailure("maintenance", "maintenance", app.Id, start, $"rolling restart of {app.Id}, {(end - start).TotalMinutes:0.#} min");
        var slot = (end - start - TimeSpan.FromSeconds(60)) / app.Nodes.Count;
        for (var i = 0; i < app.Nodes.Count; i++)
        {
            var down = start + TimeSpan.FromSeconds(30) + slot * i;
            var up = down + TimeSpan.FromSeconds(Math.Max(20, slot.TotalSeconds * (0.4 + 0.5 * _random.NextDouble())));
            var (old, replacement) = _pods[(app.Id, app.Nodes[i])];
            Add(new Episode(app.Id, old.Node, "pod", "TargetDown", "warning", AppLabels("TargetDown", "warning", old), down + Seconds(0, 10), up, "maintenance"));
            Add(new Episode(app.Id, old.Node, "pod", "KubePodNotReady", "warning", KsmPodLabels("KubePodNotReady", "warning", replacement), down + Seconds(5, 15), up, "maintenance"));
            if (_random.NextDouble() < 0.4)
                Add(new Episode(app.Id, old.Node, "pod", "HighErrorRate", "error", AppLabels("HighErrorRate", "error", old), down + Seconds(0, 10), up, "maintenance"));
        }
    }

    // ---------------------------------------------------------------- (7) background warnings

    /// <summary>Two or three warnings that fire from the first minute to the end: each its own cluster, never part of a failure.</summary>
    private void Background()
    {
        var kinds = Sample(["disk", "certificate", "volume", "clock"], _random.Next(2, 4));
        for (var i = 0; i < kinds.Count; i++)
        {
            var id = $"background-{i + 1}";
            var start = Seconds(0, 90);
            Episode episode;
            string description;
            switch (kinds[i])
            {
                case "disk":
                {
                    var node = Pick(_nodes);
                    var labels = NodeExporterLabels("NodeFilesystemSpaceFillingUp", "warning", node);
                    (labels["device"], labels["fstype"], labels["mountpoint"]) = ("/dev/nvme0n1p1", "ext4", "/var/lib/containerd");
                    episode = new Episode("", node.Name, "node", "NodeFilesystemSpaceFillingUp", "warning", labels, start, Span, id);
                    description = $"NodeFilesystemSpaceFillingUp on {node.Name}";
                    break;
                }
                case "certificate":
                {
                    var app = _app[Pick(Frontends)];
                    var labels = new Dictionary<string, string>
                    {
                        ["alertname"] = "CertManagerCertExpirySoon", ["severity"] = "warning", ["namespace"] = app.Namespace, ["name"] = $"{app.Id}-tls",
                        ["job"] = "cert-manager", ["service"] = "cert-manager", ["instance"] = $"{_certManager.Ip}:9402", ["prometheus"] = Prometheus,
                    };
                    episode = new Episode(app.Id, "", "service", "CertManagerCertExpirySoon", "warning", labels, start, Span, id);
                    description = $"CertManagerCertExpirySoon on {app.Id}-tls";
                    break;
                }
                case "volume":
                {
                    var store = _app[Pick(Stores).Id];
                    var node = _nodeByName[store.Nodes[0]];
                    var labels = KubeletLabels("KubePersistentVolumeFillingUp", "warning", node);
                    (labels["namespace"], labels["persistentvolumeclaim"], labels["metrics_path"]) = (store.Namespace, $"data-{store.Id}-0", "/metrics");
                    episode = new Episode(store.Id, node.Name, "pod", "KubePersistentVolumeFillingUp", "warning", labels, start, Span, id);
                    description = $"KubePersistentVolumeFillingUp on data-{store.Id}-0 ({node.Name})";
                    break;
                }
                default:
                {
                    var node = Pick(_nodes);
                    episode = new Episode("", node.Name, "node", "NodeClockNotSynchronising", "warning", NodeExporterLabels("NodeClockNotSynchronising", "warning", node), start, Span, id);
                    description = $"NodeClockNotSynchronising on {node.Name}";
                    break;
                }
            }
            NewFailure(id, "background", episode.Subject, start, description);
            Add(episode);
        }
    }

    // ---------------------------------------------------------------- (1), (2), (6) node and zone failures

    /// <summary>
    /// Nodes that go down together: node-exporter's target first, kube-state-metrics' node condition later; every pod on
    /// them loses its target, kube-state-metrics reports most of them not ready, some serve errors until they are gone,
    /// a data store's pod reports its store down on that pod (its replicas take over: nothing cascades).
    /// </summary>
    private void NodeFailure(Failure failure, IReadOnlyList<Node> nodes, TimeSpan at, TimeSpan duration, bool zone)
    {
        var end = at + duration;
        foreach (var node in nodes)
        {
            failure.Nodes.Add(node.Name);
            var offset = zone ? Seconds(10, 60) : Seconds(0, 10);
            Add(new Episode("", node.Name, "node", "NodeDown", "critical", NodeExporterLabels("NodeDown", "critical", node), at + offset, end + Seconds(0, 20), failure.Id));
            var ksm = zone ? "KubeNodeUnreachable" : "KubeNodeNotReady";
            Add(new Episode("", node.Name, "node", ksm, "warning", KsmNodeLabels(ksm, node, zone), at + Seconds(40, 120), end + Seconds(10, 40), failure.Id));
            foreach (var (app, pod) in PodsOn(node.Name, at).ToList())
            {
                if (!PodFree(app.Id, node.Name, at, end, failure.Id)) continue;
                // A service failing for another reason already, one whose direct upstream has errors of another cause (its
                // errors would read as that failure's cascade), or one whose direct dependant starts failing about then
                // (theirs would read as its cascade): its pod's loss shows as the target and the pod, not as errors.
                var failingElsewhere = Failing(app.Id, at, end, failure.Id, ShowsPastRecovery)
                    || app.DependsOn.Any(u => StrongElsewhere(u, at, end, failure.Id, ShowsPastRecovery))
                    || _apps.Where(d => d.DependsOn.Contains(app.Id)).Any(d => StartsFailing(d.Id, at - Near, end + ShowsPastRecovery, failure.Id));
                Add(new Episode(app.Id, node.Name, "pod", "TargetDown", "warning", AppLabels("TargetDown", "warning", pod), at + Seconds(15, 90), end + Seconds(10, 60), failure.Id));
                if (_random.NextDouble() < (zone ? 0.5 : 0.7))
                    Add(new Episode(app.Id, node.Name, "pod", "KubePodNotReady", "warning", KsmPodLabels("KubePodNotReady", "warning", pod), at + Seconds(60, 120), end + Seconds(20, 60), failure.Id));
                if (app.Role == "store")
                {
                    var alert = Stores.First(s => s.Id == app.Id).DownAlert;
                    if (!failingElsewhere)
                        Add(new Episode(app.Id, node.Name, "pod", alert, "critical", AppLabels(alert, "critical", pod), at + Seconds(5, 60), end + Seconds(0, 30), failure.Id));
                }
                else if (_random.NextDouble() < (zone ? 0.3 : 0.4) && !failingElsewhere)
                    Add(new Episode(app.Id, node.Name, "pod", "HighErrorRate", "error", AppLabels("HighErrorRate", "error", pod), at + Seconds(5, 90), end + Seconds(0, 30), failure.Id));
            }
        }
    }

    /// <summary>(2) One zone cut off: the blackbox probe of the zone first, then every node of it, and every pod on them.</summary>
    private void ZonePartition()
    {
        for (var attempt = 0; attempt < MaxPlacementAttempts; attempt++)
        {
            var at = Minutes(6, 28);
            var duration = Seconds(180, 360);
            var zone = Pick(ZoneNames);
            var nodes = _nodes.Where(n => n.Zone == zone).ToList();
            if (at < _maintenance.End + ShowsPastRecovery && at + duration + ShowsPastRecovery > _maintenance.Start) continue;
            if (!nodes.All(n => NodeFree(n.Name, at, at + duration, "zone-1"))) continue;
            var failure = NewFailure("zone-1", "zone", zone, at, $"{zone} partitioned ({nodes.Count} nodes), {duration.TotalMinutes:0.#} min");
            var labels = new Dictionary<string, string>
            {
                ["alertname"] = "KubeZoneUnreachable", ["severity"] = "critical", ["zone"] = zone, ["job"] = "blackbox",
                ["instance"] = $"http://canary.{zone}.probe.svc:8080/healthz", ["prometheus"] = Prometheus,
            };
            Add(new Episode("", "", "zone", "KubeZoneUnreachable", "critical", labels, at + Seconds(0, 10), at + duration + Seconds(0, 20), failure.Id));
            NodeFailure(failure, nodes, at, duration, zone: true);
            return;
        }
    }

    /// <summary>(6) The same failure on two nodes minutes apart, unrelated: two clusters, though the alert names are the same and the nodes share services.</summary>
    private void TwinNodeFailures()
    {
        for (var attempt = 0; attempt < MaxPlacementAttempts; attempt++)
        {
            var first = Pick(_nodes);
            var second = Pick(_nodes);
            var at = Minutes(2, 26);
            var later = at + Seconds(120, 360);
            var (d1, d2) = (Seconds(180, 420), Seconds(180, 420));
            if (first == second || !NodeFree(first.Name, at, at + d1, "twin-1") || !NodeFree(second.Name, later, later + d2, "twin-2")) continue;
            var a = NewFailure("twin-1", "twin-node", first.Name, at, $"NodeDown on {first.Name}, {d1.TotalMinutes:0.#} min (first of two)");
            NodeFailure(a, [first], at, d1, zone: false);
            var b = NewFailure("twin-2", "twin-node", second.Name, later, $"NodeDown on {second.Name}, {d2.TotalMinutes:0.#} min ({(later - at).TotalMinutes:0.#} min after {first.Name})");
            NodeFailure(b, [second], later, d2, zone: false);
            return;
        }
    }

    // ---------------------------------------------------------------- (1), (3), (4) root failures in time order

    /// <summary>
    /// Node failures (7–9), database outages (4–6) and bad deploys (5–7), at moments at least 45 s apart (from each
    /// other and from the zone and twin failures), placed in time order so that each sees what happens before it. Each
    /// moment tries the kinds that still have failures to place, the furthest behind its count first, and subjects until
    /// one fits; a moment where nothing fits is dropped, and spare moments make up for those.
    /// </summary>
    private void RootFailures()
    {
        var targets = new Dictionary<string, int> { ["node"] = _random.Next(7, 10), ["database"] = _random.Next(4, 7), ["deploy"] = _random.Next(5, 8) };
        var taken = _failures.Where(f => f.Kind is "zone" or "twin-node").Select(f => f.Start).ToList();
        var moments = new List<TimeSpan>();
        for (var attempt = 0; attempt < MaxPlacementAttempts && moments.Count < targets.Values.Sum() + 12; attempt++)
        {
            var at = Minutes(1, 33);
            if (taken.Concat(moments).Any(s => (s - at).Duration() < RootSpacing)) continue;
            moments.Add(at);
        }
        moments.Sort();
        var placed = targets.Keys.ToDictionary(k => k, _ => 0);
        foreach (var at in moments)
        {
            var order = targets.Keys.Where(k => placed[k] < targets[k]).Select(k => (k, tie: _random.NextDouble()))
                .OrderBy(p => (double)placed[p.k] / targets[p.k]).ThenBy(p => p.tie).Select(p => p.k).ToList();
            foreach (var kind in order)
            {
                var id = $"{(kind == "database" ? "db" : kind)}-{placed[kind] + 1}";
                var fits = false;
                for (var attempt = 0; attempt < 25 && !fits; attempt++)
                    fits = kind switch
                    {
                        "node" => TryNodeFailure(id, at),
                        "database" => TryDatabaseOutage(id, at),
                        _ => TryBadDeploy(id, at),
                    };
                if (!fits) continue;
                placed[kind]++;
                break;
            }
        }
    }

    private bool TryNodeFailure(string id, TimeSpan at)
    {
        var node = Pick(_nodes);
        var duration = Seconds(180, 420);
        if (!NodeFree(node.Name, at, at + duration, id)) return false;
        NodeFailure(NewFailure(id, "node", node.Name, at, $"NodeDown on {node.Name}, {duration.TotalMinutes:0.#} min"), [node], at, duration, zone: false);
        return true;
    }

    /// <summary>
    /// (3) A data store down (one pod or all of them) for 3–7 minutes and its cascade along dependsOn, as in the dag
    /// corpus: each dependant is hit (0.8 from the store, 0.6 further) 5–120 s after its upstream, on each pod with
    /// probability 0.8, some with latency warnings, front ends with their SLO burning. A dependant failing already (errors
    /// of any cause, its pod on a failed node included) is not hit and the cascade does not pass through it; nor is one
    /// where another cause begins within three minutes of the hit on one of its other direct upstreams or, as a
    /// service-level failure, on one of its direct dependants (either would make the cause of its errors, or theirs, a
    /// toss-up). In half the outages the store's own alert comes late (its exporter's <c>for:</c> clause): 5–30 s after
    /// the first dependant's error.
    /// </summary>
    private bool TryDatabaseOutage(string id, TimeSpan at)
    {
        var store = _app[Pick(Stores).Id];
        var duration = Seconds(180, 420);
        var end = at + duration;
        var whole = _random.NextDouble() < 0.5;
        var failing = whole ? store.Nodes.ToList() : [Pick(store.Nodes)];
        var late = _random.NextDouble() < 0.5;
        if (!RootFits(store, at, end, id) || !failing.All(n => PodFree(store.Id, n, at, end, id))) return false;

        var downAlert = Stores.First(s => s.Id == store.Id).DownAlert;
        var failure = NewFailure(id, "database", store.Id, at, $"{downAlert} on {(whole ? "every pod" : PodAt(store.Id, failing[0], at).Name)}, {duration.TotalMinutes:0.#} min");
        var reached = new Dictionary<string, (TimeSpan Start, TimeSpan End)> { [store.Id] = (at, end) };
        var queue = new Queue<string>([store.Id]);
        TimeSpan? firstSymptom = null;
        while (queue.TryDequeue(out var upstream))
        {
            var (upStart, upEnd) = reached[upstream];
            foreach (var dependant in _apps.Where(a => a.DependsOn.Contains(upstream) && !reached.ContainsKey(a.Id)))
            {
                if (_random.NextDouble() >= (upstream == store.Id ? 0.8 : 0.6)) continue;
                var start = upStart + Seconds(5, 120);
                var stop = upEnd + Seconds(10, 60);
                if (UnderMaintenance(dependant.Id, start, stop) || StrongElsewhere(dependant.Id, start, stop, id, ShowsPastRecovery)) continue;
                // Another direct upstream that begins failing from another cause within three minutes would explain its errors
                // as well (before, or just after as a late cause), and a dependant of its own that does would read as its cascade.
                if (dependant.DependsOn.Any(u => u != upstream && StrongStartsIn(u, start - Near, start + Near, id))
                    || _apps.Where(d => d.DependsOn.Contains(dependant.Id)).Any(d => StartsFailing(d.Id, start - Near, start + Near, id))) continue;
                var hit = dependant.Nodes.Where(_ => _random.NextDouble() < 0.8).ToList();
                if (hit.Count == 0) hit.Add(Pick(dependant.Nodes));
                hit = hit.Where(n => PodFree(dependant.Id, n, start, stop, id)).ToList();
                if (hit.Count == 0) continue;
                reached[dependant.Id] = (start, stop);
                queue.Enqueue(dependant.Id);
                foreach (var node in hit)
                {
                    var pod = PodAt(dependant.Id, node, start);
                    var errorAt = start + Seconds(0, 20);
                    if (Add(new Episode(dependant.Id, node, "pod", "HighErrorRate", "error", AppLabels("HighErrorRate", "error", pod), errorAt, stop + Seconds(0, 30), id)))
                        firstSymptom = firstSymptom is { } f && f < errorAt ? f : errorAt;
                    if (_random.NextDouble() < 0.3)
                        Add(new Episode(dependant.Id, node, "pod", "HighLatency", "warning", AppLabels("HighLatency", "warning", pod), start + Seconds(0, 40), stop + Seconds(0, 30), id));
                }
                if (dependant.Role == "frontend" && _random.NextDouble() < 0.5)
                    Add(new Episode(dependant.Id, "", "service", "ErrorBudgetBurn", "critical", SloLabels(dependant), start + Seconds(60, 150), stop + Seconds(30, 90), id));
            }
        }
        var storeAt = late && firstSymptom is { } symptom ? symptom + Seconds(5, 30) : at + Seconds(0, 10);
        foreach (var node in failing)
            Add(new Episode(store.Id, node, "pod", downAlert, "critical", AppLabels(downAlert, "critical", PodAt(store.Id, node, at)), storeAt, end + Seconds(0, 20), id));
        if (late && firstSymptom is { } first) failure.Description += $", its alert {(storeAt - first).TotalSeconds:0} s after the first dependant's error (late cause)";
        return true;
    }

    /// <summary>
    /// (4) A bad rollout of one service: one to three pods of the new ReplicaSet (new pod-template hash) crash-loop or
    /// serve errors, the service's SLO starts burning, kube-state-metrics sees the replicas mismatch; rolled back after
    /// 3–7 minutes. Nothing cascades.
    /// </summary>
    private bool TryBadDeploy(string id, TimeSpan at)
    {
        var app = Pick(_apps.Where(a => a.Role != "store").ToList());
        var duration = Seconds(180, 420);
        var end = at + duration;
        var nodes = Sample(app.Nodes, _random.Next(1, Math.Min(3, app.Nodes.Count) + 1));
        if (!RootFits(app, at, end + SloTail, id) || !nodes.All(n => PodFree(app.Id, n, at, end, id))) return false;

        var hash = Name(9);
        var failure = NewFailure(id, "deploy", app.Id, at, $"bad rollout of {app.Id} ({app.Id}-{hash}), {duration.TotalMinutes:0.#} min");
        var rollback = end + Seconds(0, 30);
        foreach (var node in nodes)
        {
            var pod = NewPod(app.Id, node, $"{app.Id}-{hash}-{Name(5)}");
            var crash = _random.NextDouble() < 0.6;
            if (crash)
                Add(new Episode(app.Id, node, "pod", "KubePodCrashLooping", "warning", KsmPodLabels("KubePodCrashLooping", "warning", pod), at + Seconds(30, 120), rollback, id));
            if (!crash || _random.NextDouble() < 0.5)
                Add(new Episode(app.Id, node, "pod", "HighErrorRate", "error", AppLabels("HighErrorRate", "error", pod), at + Seconds(0, 60), rollback, id));
            if (_random.NextDouble() < 0.3)
                Add(new Episode(app.Id, node, "pod", "HighLatency", "warning", AppLabels("HighLatency", "warning", pod), at + Seconds(10, 90), rollback, id));
        }
        if (_random.NextDouble() < 0.8)
            Add(new Episode(app.Id, "", "service", "ErrorBudgetBurn", "critical", SloLabels(app), at + Seconds(60, 180), rollback + Seconds(30, 90), id));
        var mismatch = at + Seconds(120, 240);
        if (_random.NextDouble() < 0.6 && mismatch < end - TimeSpan.FromSeconds(30))
            Add(new Episode(app.Id, "", "service", "KubeDeploymentReplicasMismatch", "warning", KsmDeploymentLabels("KubeDeploymentReplicasMismatch", "warning", app), mismatch, rollback, id));
        return true;
    }

    // ---------------------------------------------------------------- (5) unrelated overlaps

    /// <summary>
    /// Failures that begin 0–60 s after another one, on a service that shares nothing with it: not touched by it, none
    /// of its pods on the other failure's nodes, no dependsOn path either way to a service the other failure fails (a
    /// database outage's store and cascade, a bad deploy's service, a store's pod lost with its node). An outside
    /// dependency failing: errors on most pods, some latency, the SLO burning.
    /// </summary>
    private void UnrelatedOverlaps()
    {
        var count = _random.Next(3, 6);
        for (var i = 1; i <= count; i++)
        {
            var id = $"unrelated-{i}";
            for (var attempt = 0; attempt < MaxPlacementAttempts; attempt++)
            {
                var other = Pick(_failures.Where(f => f.Kind is "node" or "zone" or "database" or "deploy" or "twin-node").ToList());
                var at = other.Start + Seconds(0, 60);
                var app = Pick(_apps.Where(a => a.Role != "store").ToList());
                var duration = Seconds(180, 420);
                var end = at + duration;
                var touched = _episodes.Where(e => e.Cluster == other.Id && e.Subject.Length > 0).Select(e => e.Subject).Distinct().ToList();
                var failing = _episodes.Where(e => e.Cluster == other.Id && e.Subject.Length > 0 && ServiceFails(e)).Select(e => e.Subject).Distinct().ToList();
                if (at > TimeSpan.FromMinutes(34) || touched.Contains(app.Id) || app.Nodes.Any(other.Nodes.Contains)
                    || failing.Any(f => DependsOn(app.Id, f) || DependsOn(f, app.Id)) || !RootFits(app, at, end + SloTail, id)) continue;
                var hit = app.Nodes.Where(_ => _random.NextDouble() < 0.85).ToList();
                if (hit.Count == 0) hit.Add(Pick(app.Nodes));
                if (!hit.All(n => PodFree(app.Id, n, at, end, id))) continue;

                NewFailure(id, "unrelated", app.Id, at, $"HighErrorRate on {app.Id} (an outside dependency), {duration.TotalMinutes:0.#} min, overlapping {other.Id}");
                foreach (var node in hit)
                {
                    var pod = PodAt(app.Id, node, at);
                    Add(new Episode(app.Id, node, "pod", "HighErrorRate", "error", AppLabels("HighErrorRate", "error", pod), at + Seconds(0, 30), end + Seconds(0, 30), id));
                    if (_random.NextDouble() < 0.4)
                        Add(new Episode(app.Id, node, "pod", "HighLatency", "warning", AppLabels("HighLatency", "warning", pod), at + Seconds(0, 60), end + Seconds(0, 30), id));
                }
                if (_random.NextDouble() < 0.5)
                    Add(new Episode(app.Id, "", "service", "ErrorBudgetBurn", "critical", SloLabels(app), at + Seconds(60, 150), end + Seconds(30, 90), id));
                break;
            }
        }
    }

    // ---------------------------------------------------------------- (8) flapping

    /// <summary>The kubelet's readiness probe of one pod toggling every 15–45 s for 5–9 changes, then quiet or firing steadily for a few minutes.</summary>
    private bool Flap(string id)
    {
        var app = Pick(_apps);
        var nodeName = Pick(app.Nodes);
        var at = Minutes(1, 33);
        var horizon = at + TimeSpan.FromMinutes(8);
        if (UnderMaintenance(app.Id, at, horizon) || !PodFree(app.Id, nodeName, at, horizon, id)) return false;
        var pod = PodAt(app.Id, nodeName, at);
        var labels = KubeletLabels("ReadinessProbeFailed", "warning", _nodeByName[nodeName]);
        (labels["namespace"], labels["pod"], labels["container"], labels["metrics_path"], labels["probe_type"]) =
            (app.Namespace, pod.Name, app.Id, "/metrics/probes", "Readiness");
        NewFailure(id, "flapping", app.Id, at, $"ReadinessProbeFailed on {pod.Name} ({nodeName}) flapping");
        var changes = _random.Next(5, 10);
        var t = at;
        for (var change = 0; change < changes; change += 2)
        {
            var firing = change + 1 >= changes && _random.NextDouble() < 0.5 ? Seconds(120, 300) : Seconds(15, 45);
            Add(new Episode(app.Id, nodeName, "pod", "ReadinessProbeFailed", "warning", labels, t, t + firing, id));
            t += firing + Seconds(15, 45);
        }
        return true;
    }

    // ---------------------------------------------------------------- events

    /// <summary>Every firing episode as Prometheus sends it: at its start, again every <see cref="Resend"/>, then resolved.</summary>
    private List<AlertEvent> Events()
    {
        var events = new List<AlertEvent>();
        // Each episode starts at a random millisecond of its second, from a generator of its own (as in the dag corpus).
        var fraction = new Random(seed);
        for (var number = 0; number < _episodes.Count; number++)
        {
            var e = _episodes[number];
            var offset = TimeSpan.FromMilliseconds(fraction.Next(1000));
            var (start, end) = (e.Start + offset, e.End + offset);
            for (var at = start; at < end; at += Resend)
                events.Add(new AlertEvent(at, e.Subject, e.AlertName, e.Node, e.Severity, true, number, start, e.Cluster) { Labels = e.Labels });
            events.Add(new AlertEvent(end, e.Subject, e.AlertName, e.Node, e.Severity, false, number, start, e.Cluster) { Labels = e.Labels });
        }
        return events.OrderBy(e => e.At).ThenBy(e => e.Episode).ToList();
    }

    private TimeSpan Minutes(double from, double to) => TimeSpan.FromSeconds(Math.Round((from + (to - from) * _random.NextDouble()) * 60));
    private TimeSpan Seconds(int from, int to) => TimeSpan.FromSeconds(_random.Next(from, to + 1));
    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private List<string> Sample(IReadOnlyList<string> items, int count) =>
        items.Select(item => (item, key: _random.NextDouble())).OrderBy(p => p.key).Take(count).Select(p => p.item).ToList();
}
