using System.Net.Http.Json;
using System.Text.Json;

namespace OrleansOps.Bench;

/// <summary>One system's figures: events in, alerts grouped, incidents out, and how well the grouping matches the truth.</summary>
public sealed record Score(string System, long FiringEvents, int DistinctAlerts, long Incidents, double NoiseReduction, double Precision, double Recall)
{
    /// <summary>The corpus' distinct alerts: its firing episodes (an alert's uninterrupted firing, re-sends not counted), the same for every system.</summary>
    public int Episodes { get; init; }

    /// <summary>1 − incidents ÷ distinct alerts: the noise reduction without the re-sends that deduplication absorbs.</summary>
    public double PerAlertReduction => Episodes == 0 ? 0 : 1 - (double)Incidents / Episodes;

    public static int EpisodesOf(Corpus corpus) => corpus.Events.Where(e => e.Firing).Select(e => e.Episode).Distinct().Count();
}

/// <summary>
/// An alert as it landed in an incident (or a baseline group), with its ground-truth cluster and the rule that placed
/// it. <see cref="Service"/> is the service the system gave it; <see cref="Name"/>, <see cref="Subject"/> and
/// <see cref="Node"/> come from the corpus (the alert's name, and the service and node it is about in truth).
/// </summary>
public sealed record GroupedAlert(string Group, string Alert, string Cluster, string Service, TimeSpan FirstSeen, string Rule)
{
    public string Name { get; init; } = "";
    public string Subject { get; init; } = "";
    public string Node { get; init; } = "";
}

public static class Pairwise
{
    /// <summary>
    /// Pairwise precision and recall: of the pairs of alerts in one group, the share in one ground-truth cluster; of the
    /// pairs in one cluster, the share in one group. No pairs at all counts as perfect.
    /// </summary>
    public static (double Precision, double Recall) Of(IReadOnlyCollection<GroupedAlert> alerts)
    {
        static long Pairs(long n) => n * (n - 1) / 2;
        var together = alerts.GroupBy(a => a.Group).Sum(g => Pairs(g.Count()));
        var truth = alerts.GroupBy(a => a.Cluster).Sum(g => Pairs(g.Count()));
        var both = alerts.GroupBy(a => (a.Group, a.Cluster)).Sum(g => Pairs(g.Count()));
        return (together == 0 ? 1 : (double)both / together, truth == 0 ? 1 : (double)both / truth);
    }
}

/// <summary>Reads back what the server made of the replay and scores it against the corpus' ground truth.</summary>
public sealed class Evaluator(HttpClient http, string adminToken)
{
    public sealed record Result(Score Score, List<GroupedAlert> Alerts, int Unattributed, int MaintenanceEvents, int MaintenanceLeaked);

    public async Task<Result> EvaluateAsync(Corpus corpus, string accountId, Receipt[] receipts, CancellationToken cancel)
    {
        // Which clusters each alert (fingerprint) in each incident stands for, from the ingest receipts.
        var truth = new Dictionary<(string Incident, string Fingerprint), Dictionary<string, int>>();
        var byFingerprint = new Dictionary<string, Dictionary<string, int>>();
        var eventOf = new Dictionary<string, AlertEvent>();
        for (var i = 0; i < receipts.Length; i++)
        {
            var (fingerprint, incident, _) = receipts[i];
            var cluster = corpus.Events[i].Cluster;
            eventOf.TryAdd(fingerprint, corpus.Events[i]);
            Count(byFingerprint, fingerprint, cluster);
            if (incident is not null) Count(truth, (incident, fingerprint), cluster);
        }

        var incidents = new List<string>();
        for (string? cursor = null; ;)
        {
            var query = cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}";
            using var page = await GetAsync($"api/v1/accounts/{accountId}/incidents?limit=500{query}", cancel);
            incidents.AddRange(page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            if (page.RootElement.GetProperty("next") is not { ValueKind: JsonValueKind.String } next) break;
            cursor = next.GetString();
        }

        var alerts = new List<GroupedAlert>();
        var unattributed = 0;
        foreach (var chunk in incidents.Chunk(8))
        {
            foreach (var incident in await Task.WhenAll(chunk.Select(id => GetAsync($"api/v1/incidents/{id}", cancel))))
            {
                using var _ = incident;
                var id = incident.RootElement.GetProperty("id").GetString()!;
                // A merged incident's alerts are in the incident it was merged into, and count there.
                if (incident.RootElement.TryGetProperty("mergedInto", out var into) && into.ValueKind == JsonValueKind.String) continue;
                foreach (var alert in incident.RootElement.GetProperty("alerts").EnumerateArray())
                {
                    var fingerprint = alert.GetProperty("fingerprint").GetString()!;
                    var rule = alert.TryGetProperty("rule", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
                    var service = alert.TryGetProperty("service", out var sv) && sv.ValueKind == JsonValueKind.String ? sv.GetString()! : "";
                    var firstSeen = TimeSpan.FromTicks(alert.GetProperty("firstSeen").GetDateTimeOffset().UtcTicks);
                    // An alert released from suppression reaches its incident without a receipt naming it: fall back to
                    // what its fingerprint stood for in the corpus.
                    var votes = truth.GetValueOrDefault((id, fingerprint));
                    if (votes is null) unattributed++;
                    votes ??= byFingerprint.GetValueOrDefault(fingerprint) ?? new() { ["unknown"] = 1 };
                    var known = eventOf.GetValueOrDefault(fingerprint);
                    alerts.Add(new GroupedAlert(id, fingerprint, votes.MaxBy(v => v.Value).Key, service, firstSeen, rule)
                    {
                        Name = known?.AlertName ?? "", Subject = known?.Service ?? "", Node = known?.Node ?? "",
                    });
                }
            }
        }

        using var counters = await GetAsync($"api/v1/accounts/{accountId}/correlation", cancel);
        var total = counters.RootElement.GetProperty("total");
        var firing = total.GetProperty("firingEvents").GetInt64();
        var opened = total.GetProperty("incidentsOpened").GetInt64();
        var reduction = total.GetProperty("noiseReduction") is { ValueKind: JsonValueKind.Number } n ? n.GetDouble() : 0;
        var (precision, recall) = Pairwise.Of(alerts);

        var maintenance = Enumerable.Range(0, receipts.Length).Where(i => corpus.Events[i] is { Cluster: "maintenance", Firing: true }).ToList();
        var leaked = maintenance.Count(i => receipts[i].IncidentId is not null);
        return new Result(new Score("OrleansOps", firing, alerts.Count, opened, reduction, precision, recall) { Episodes = Score.EpisodesOf(corpus) },
            alerts, unattributed, maintenance.Count, leaked);
    }

    private static void Count<TKey>(Dictionary<TKey, Dictionary<string, int>> map, TKey key, string cluster) where TKey : notnull
    {
        if (!map.TryGetValue(key, out var votes)) map[key] = votes = [];
        votes[cluster] = votes.GetValueOrDefault(cluster) + 1;
    }

    private async Task<JsonDocument> GetAsync(string path, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await http.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
        return await response.Content.ReadFromJsonAsync<JsonDocument>(cancel) ?? throw new InvalidOperationException($"GET {path}: empty body");
    }

    /// <summary>
    /// Where grouping went wrong. A pair of alerts of different clusters in one incident is put down to the rule that
    /// placed the later of the two; a pair of one cluster in different incidents to how the alert outside the cluster's
    /// main incident relates to the service where the cluster began (same service, a direct or an indirect dependant).
    /// </summary>
    public static IEnumerable<string> Diagnose(Corpus corpus, List<GroupedAlert> alerts)
    {
        static string Kind(string rule) => rule.Split(':', ' ') switch
        {
            ["time", "window", ..] => "time window",
            ["topology", ..] => "topology",
            ["group", "key", ..] => "group key",
            ["storm", ..] => "storm mode",
            ["new", "group", ..] => "new group",
            _ => rule,
        };
        var clusters = corpus.Clusters.ToDictionary(c => c.Id);
        var byId = corpus.Services.ToDictionary(s => s.Id);
        var k8s = corpus.Shape == "k8s";
        string Relation(GroupedAlert alert)
        {
            if (k8s) return K8sRelation(alert);
            if (!clusters.TryGetValue(alert.Cluster, out var cluster) || cluster.Service == alert.Service) return "same service as the cause";
            if (byId[alert.Service].DependsOn.Contains(cluster.Service)) return "direct dependant of the cause";
            return Depends(alert.Service, cluster.Service) ? "indirect dependant (2+ hops)" : "not a dependant";
        }
        bool Depends(string service, string upstream) => byId[service].DependsOn.Any(u => u == upstream || Depends(u, upstream));
        // The k8s corpus: the alert's place in its failure, from the truth (the service and node it is about), by kind of failure.
        string K8sRelation(GroupedAlert alert)
        {
            if (!clusters.TryGetValue(alert.Cluster, out var cluster)) return "unknown cluster";
            string where;
            if (cluster.Nodes.Count > 0) where = alert.Subject.Length == 0 ? (alert.Node.Length == 0 ? "the zone's own alert" : "a node alert of the failed node")
                : cluster.Nodes.Contains(alert.Node) ? "a pod on the failed node" : "a pod elsewhere";
            else if (alert.Subject == cluster.Service) where = alert.Node.Length == 0 ? "the cause's service-level alert" : "a pod of the cause";
            else if (alert.Subject.Length == 0 || !byId.ContainsKey(alert.Subject) || !byId.ContainsKey(cluster.Service)) where = "not a service";
            else if (byId[alert.Subject].DependsOn.Contains(cluster.Service)) where = "a direct dependant of the cause";
            else where = Depends(alert.Subject, cluster.Service) ? "an indirect dependant (2+ hops)" : "not a dependant";
            return $"{cluster.Kind}: {where}";
        }
        string Describe(GroupedAlert alert) => k8s
            ? $"{alert.Name} on {(alert.Subject.Length > 0 ? alert.Subject : "-")}@{(alert.Node.Length > 0 ? alert.Node : "-")} (service '{alert.Service}')"
            : alert.Service;

        var together = new Dictionary<string, int>();
        var apart = new Dictionary<string, int>();
        var examples = new List<(int Pairs, string Text)>();
        foreach (var incident in alerts.GroupBy(a => a.Group))
        {
            var items = incident.OrderBy(a => a.FirstSeen).ToList();
            for (var i = 0; i < items.Count; i++)
            {
                var wrong = items.Take(i).Count(earlier => earlier.Cluster != items[i].Cluster);
                if (wrong == 0) continue;
                var kind = Kind(items[i].Rule);
                together[kind] = together.GetValueOrDefault(kind) + wrong;
                examples.Add((wrong, $"{items[i].Cluster} ({clusters.GetValueOrDefault(items[i].Cluster)?.Description}) {(k8s ? "" : "on ")}{Describe(items[i])} joined {wrong} alert(s) of "
                    + string.Join(", ", items.Take(i).Where(e => e.Cluster != items[i].Cluster).Select(e => e.Cluster).Distinct()) + $": {items[i].Rule}"));
            }
        }
        var outsiders = new List<(int Pairs, string Text)>();
        foreach (var cluster in alerts.GroupBy(a => a.Cluster))
        {
            var main = cluster.GroupBy(a => a.Group).MaxBy(g => g.Count())!.Key;
            var items = cluster.ToList();
            var start = items.Where(a => a.Group == main).Min(a => a.FirstSeen);
            foreach (var outside in items.Where(a => a.Group != main))
                outsiders.Add((items.Count(a => a.Group == main), $"{outside.Cluster} {(k8s ? "" : "on ")}{Describe(outside)} ({Relation(outside)}), "
                    + $"{(outside.FirstSeen - start).TotalMilliseconds:0} ms after its main incident's first alert, went elsewhere: {outside.Rule}"));
            for (var i = 0; i < items.Count; i++)
                for (var j = i + 1; j < items.Count; j++)
                {
                    if (items[i].Group == items[j].Group) continue;
                    var outside = items[i].Group == main ? items[j] : items[j].Group == main ? items[i] : items[i].FirstSeen > items[j].FirstSeen ? items[i] : items[j];
                    var relation = Relation(outside);
                    apart[relation] = apart.GetValueOrDefault(relation) + 1;
                }
        }
        yield return $"pairs wrongly together: {together.Values.Sum()}, by the rule that placed the later alert: "
            + string.Join(", ", together.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"));
        foreach (var (_, text) in examples.OrderByDescending(e => e.Pairs).Take(8)) yield return "    " + text;
        yield return $"pairs wrongly apart: {apart.Values.Sum()}, by where the alert outside its cluster's main incident fired: "
            + string.Join(", ", apart.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"));
        foreach (var (_, text) in outsiders.OrderByDescending(e => e.Pairs).Take(12)) yield return "    " + text;
        // The clusters that lose the most pairs, each with the incidents it split into: how many of its alerts each holds,
        // and the rule that brought the first of them there.
        var splits = alerts.GroupBy(a => a.Cluster)
            .Select(c => (Cluster: c.Key, Parts: c.GroupBy(a => a.Group).OrderByDescending(g => g.Count()).ToList()))
            .Where(c => c.Parts.Count > 1)
            .OrderByDescending(c => c.Parts.Sum(p => p.Count()) * c.Parts.Sum(p => p.Count()) - c.Parts.Sum(p => p.Count() * p.Count()))
            .Take(6).ToList();
        foreach (var (cluster, parts) in splits)
        {
            yield return $"split: {cluster} ({clusters.GetValueOrDefault(cluster)?.Description}) into {parts.Count} incidents:";
            foreach (var part in parts.Take(8))
            {
                var first = part.MinBy(a => a.FirstSeen)!;
                var others = alerts.Count(a => a.Group == part.Key && a.Cluster != cluster);
                yield return $"      {part.Count()} alert(s){(others > 0 ? $" (+{others} of other clusters)" : "")}, first {Describe(first)}: {first.Rule}";
            }
        }
    }
}

/// <summary>
/// The baseline, computed offline from the corpus: Alertmanager grouping by its default labels (alertname, service).
/// An aggregation group lives while it has firing alerts and for one group_interval (5 min) after its last resolve;
/// a firing after that starts a new group, i.e. a new notification thread. The maintenance window is applied as a
/// silence (silenced alerts join no group), so the comparison is about grouping, not about suppression. In the k8s
/// corpus, the service is the <c>service</c> label as sent (an exporter's own, such as <c>node-exporter</c>, or none),
/// and the silence is the window's matchers on the labels.
/// </summary>
public static class Baseline
{
    public static readonly TimeSpan GroupInterval = TimeSpan.FromMinutes(5);

    private sealed class Group
    {
        public int Number;
        public readonly HashSet<string> Firing = [];
        public TimeSpan EmptySince;
    }

    public static (Score Score, List<GroupedAlert> Alerts) Evaluate(Corpus corpus)
    {
        var groups = new Dictionary<(string AlertName, string Service), Group>();
        var members = new Dictionary<(string Group, string Alert), Dictionary<string, int>>();
        var first = new Dictionary<(string Group, string Alert), AlertEvent>();
        var count = 0;
        var silence = corpus.Maintenance.Matchers?.Select(Matcher.Parse).ToList();
        foreach (var e in corpus.Events)
        {
            var m = corpus.Maintenance;
            var silenced = silence is null || e.Labels is null ? e.Service == m.Service : silence.All(matcher => matcher.Matches(e.Labels));
            if (silenced && e.At >= m.Start && e.At < m.End) continue;
            var key = (e.AlertName, e.ServiceLabel);
            var group = groups.GetValueOrDefault(key);
            if (e.Firing)
            {
                if (group is null || (group.Firing.Count == 0 && e.At - group.EmptySince >= GroupInterval))
                    groups[key] = group = new Group { Number = ++count };
                group.Firing.Add(e.Key);
                var member = ($"group-{group.Number}", e.Key);
                first.TryAdd(member, e);
                if (!members.TryGetValue(member, out var votes)) members[member] = votes = [];
                votes[e.Cluster] = votes.GetValueOrDefault(e.Cluster) + 1;
            }
            else if (group is not null && group.Firing.Remove(e.Key) && group.Firing.Count == 0) group.EmptySince = e.At;
        }
        var alerts = members.Select(p => new GroupedAlert(p.Key.Group, p.Key.Alert, p.Value.MaxBy(v => v.Value).Key,
            first[p.Key].ServiceLabel, first[p.Key].At, "group key {alertname, service}")
        {
            Name = first[p.Key].AlertName, Subject = first[p.Key].Service, Node = first[p.Key].Node,
        }).ToList();
        var firing = corpus.Events.Count(e => e.Firing);
        var (precision, recall) = Pairwise.Of(alerts);
        return (new Score("Alertmanager (alertname, service)", firing, alerts.Count, count, 1 - (double)count / firing, precision, recall)
        {
            Episodes = Score.EpisodesOf(corpus),
        }, alerts);
    }

    /// <summary>The two matcher forms the corpus' maintenance windows use: <c>name="value"</c> and <c>name=~"regex"</c> (anchored).</summary>
    private sealed record Matcher(string Name, string Value, bool Regex)
    {
        public static Matcher Parse(string text)
        {
            var regex = text.Contains("=~", StringComparison.Ordinal);
            var parts = text.Split(regex ? "=~" : "=", 2);
            return new Matcher(parts[0].Trim(), parts[1].Trim().Trim('"'), regex);
        }

        public bool Matches(IReadOnlyDictionary<string, string> labels)
        {
            var value = labels.GetValueOrDefault(Name, "");
            return Regex ? System.Text.RegularExpressions.Regex.IsMatch(value, $"^(?:{Value})$") : value == Value;
        }
    }
}
