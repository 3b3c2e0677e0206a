using BenchmarkDotNet.Attributes;
using OrleansOps.Domain;

namespace OrleansOps.Microbench;

/// <summary>
/// The decision a correlator makes for each alert (<see cref="CorrelatorState.Plan"/>, one alert per call, as most
/// Alertmanager webhooks carry few): a re-send of a firing alert, a new alert joining its open group, a new alert joining
/// an incident through the time window (same node), and a new alert opening an incident, with and without the window.
/// The state holds <see cref="OpenAlerts"/> firing alerts, ten to an incident (10, 1,000 and 10,000 open incidents),
/// placed over the last 30 minutes.
/// </summary>
/// <remarks>
/// Plan records its decision in the state, and the same alert decided again would be a repeat. So each benchmark that
/// places an alert takes it out again before it returns, and takes the change the journal would take (a few dictionary
/// operations, measured with it): every invocation then decides the same thing on the same state, with no per-iteration
/// setup or cleanup, which would make BenchmarkDotNet time single invocations, a cold cache's and the timer's cost
/// included, and distort a call this short.
/// </remarks>
[MemoryDiagnoser]
public class CorrelationBenchmarks
{
    [Params(100, 10_000, 100_000)]
    public int OpenAlerts { get; set; }

    private const string AccountId = "acme";
    private const string Service = "payments-api";
    private const int AlertsPerIncident = 10;
    private const string OpenedIncidentId = "inc-benchmarkopened";
    private static readonly Func<string> NextIncidentId = () => OpenedIncidentId;
    private static readonly IReadOnlyList<string> GroupBy = ["alertname"];
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan PlacedOver = TimeSpan.FromMinutes(30);
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private CorrelatorState _state = null!;
    private NormalizedAlert[] _repeat = null!;
    private NormalizedAlert[] _joinsGroup = null!;
    private NormalizedAlert[] _relatedByNode = null!;
    private string _relatedGroupKey = null!;
    private NormalizedAlert[] _opens = null!;
    private string _opensGroupKey = null!;

    [GlobalSetup]
    public void Setup()
    {
        _state = new CorrelatorState();
        var nodes = Math.Max(AlertsPerIncident, OpenAlerts / 20);
        for (var i = 0; i < OpenAlerts; i++)
        {
            var incident = i / AlertsPerIncident;
            var incidentId = $"inc-{incident:D16}";
            var placedAt = Now - PlacedOver + PlacedOver * i / OpenAlerts;
            var alert = Alert($"Alert{incident:D5}", $"node-{i % nodes}", SeverityOf(i));
            _state.FiringAlerts[alert.Fingerprint] = incidentId;
            _state.OpenGroups[GroupKey.Of(alert.Labels, GroupBy)] = incidentId;
            _state.Placed.Add(incidentId, new PlacedAlert(alert.Name, NodeLabel.Of(alert.Labels), alert.Severity, placedAt), PlacedOver);
        }

        var middle = OpenAlerts / 2;
        _repeat = [Alert($"Alert{middle / AlertsPerIncident:D5}", $"node-{middle % nodes}", SeverityOf(middle))];
        // The latest incident, whose alerts were all placed within the window: joining it trims none of them.
        var latest = OpenAlerts - 1;
        _joinsGroup = [Alert($"Alert{latest / AlertsPerIncident:D5}", "node-new", Severity.Sev3)];
        _relatedByNode = [Alert("NodeDiskPressure", $"node-{latest % nodes}", Severity.Sev3)];
        _relatedGroupKey = GroupKey.Of(_relatedByNode[0].Labels, GroupBy);
        _opens = [Alert("CertificateExpiringSoon", "node-new", Severity.Sev3)];
        _opensGroupKey = GroupKey.Of(_opens[0].Labels, GroupBy);

        // Each benchmark must measure the path it is named after, and leave the state as it found it.
        Expect(RepeatIsDeduplicated(), RouteKind.Repeat, "");
        Expect(NewAlertJoinsOpenGroup(), RouteKind.Grouped, "group key");
        Expect(NewAlertJoinsIncidentOnItsNode(), RouteKind.Grouped, "time window");
        Expect(NewAlertOpensIncident(), RouteKind.Opened, "new group");
        Expect(NewAlertOpensIncidentWithoutWindow(), RouteKind.Opened, "new group");
        if (_state.FiringAlerts.Count != OpenAlerts || _state.OpenGroups.Count != OpenAlerts / AlertsPerIncident
            || _state.Placed.ByIncident.Sum(p => p.Value.Count) != OpenAlerts)
            throw new InvalidOperationException("a benchmark left its decision in the state");
    }

    /// <summary>A re-send of a firing alert: the most frequent event (Prometheus re-sends every firing alert each interval).</summary>
    [Benchmark]
    public Route RepeatIsDeduplicated() => Decide(_repeat, Window);

    [Benchmark]
    public Route NewAlertJoinsOpenGroup()
    {
        var route = Decide(_joinsGroup, Window);
        _state.FiringAlerts.Remove(route.Alert.Fingerprint);
        RemoveLastPlaced(route.IncidentId);
        return route;
    }

    /// <summary>No open group, but a failure on the same node joined an incident within the window.</summary>
    [Benchmark]
    public Route NewAlertJoinsIncidentOnItsNode()
    {
        var route = Decide(_relatedByNode, Window);
        _state.OpenGroups.Remove(_relatedGroupKey);
        _state.FiringAlerts.Remove(route.Alert.Fingerprint);
        RemoveLastPlaced(route.IncidentId);
        return route;
    }

    /// <summary>Nothing related within the window: the window is searched in full before the incident opens.</summary>
    [Benchmark]
    public Route NewAlertOpensIncident() => Opened(Window);

    /// <summary>The default configuration (no time window): grouping by labels only.</summary>
    [Benchmark]
    public Route NewAlertOpensIncidentWithoutWindow() => Opened(TimeSpan.Zero);

    private Route Opened(TimeSpan window)
    {
        var route = Decide(_opens, window);
        _state.OpenGroups.Remove(_opensGroupKey);
        _state.FiringAlerts.Remove(route.Alert.Fingerprint);
        _state.Placed.Forget(route.IncidentId);
        return route;
    }

    /// <summary>Takes what the journal would have taken after the last invocation's decision (so that it does not pile up), and plans the alert.</summary>
    private Route Decide(NormalizedAlert[] alert, TimeSpan window)
    {
        _state.TakeChange();
        return _state.Plan(AccountId, Service, alert, GroupBy, NextIncidentId, window: window).Routes[0];
    }

    private void RemoveLastPlaced(string incidentId)
    {
        if (_state.Placed.TryGet(incidentId, out var placed)) placed.RemoveAt(placed.Count - 1);
    }

    private static void Expect(Route route, RouteKind kind, string rulePrefix)
    {
        if (route.Kind != kind || !(route.Rule ?? "").StartsWith(rulePrefix, StringComparison.Ordinal))
            throw new InvalidOperationException($"expected {kind} by '{rulePrefix}…', got {route.Kind} by '{route.Rule}'");
    }

    private static Severity SeverityOf(int alert) => alert % 3 == 0 ? Severity.Sev2 : Severity.Sev3;

    private static NormalizedAlert Alert(string name, string node, Severity severity)
    {
        var labels = new Dictionary<string, string>
        {
            ["alertname"] = name,
            ["severity"] = severity == Severity.Sev2 ? "error" : "warning",
            ["instance"] = $"{node}:9100",
            ["job"] = "node-exporter",
            ["service"] = Service,
            ["node"] = node,
        };
        return new NormalizedAlert
        {
            Source = "alertmanager",
            Service = Service,
            Labels = labels,
            Severity = severity,
            Status = AlertStatus.Firing,
            StartsAt = Now,
            Fingerprint = AlertFingerprint.Of(labels),
            ReceivedAt = Now,
        };
    }
}
