using System.Globalization;
using System.Runtime.CompilerServices;

namespace OrleansOps.Domain;

[GenerateSerializer]
public sealed class CorrelationCounters
{
    [Id(0)] public long Received { get; set; }
    [Id(1)] public long Deduplicated { get; set; }
    [Id(2)] public long Grouped { get; set; }
    [Id(3)] public long IncidentsOpened { get; set; }
    [Id(4)] public long Resolved { get; set; }
    /// <summary>Resolves and acknowledgements for alerts that are not open here (late, out of order, or unknown).</summary>
    [Id(5)] public long Unmatched { get; set; }
    [Id(6)] public long FiringEvents { get; set; }
    /// <summary>Firing events held back: by a silence, a maintenance window or an inhibition, as flapping, or waiting for a related failure.</summary>
    [Id(7)] public long Suppressed { get; set; }

    public CorrelationCounters Copy() => (CorrelationCounters)MemberwiseClone();

    public bool SameAs(CorrelationCounters other) =>
        Received == other.Received && Deduplicated == other.Deduplicated && Grouped == other.Grouped && IncidentsOpened == other.IncidentsOpened
        && Resolved == other.Resolved && Unmatched == other.Unmatched && FiringEvents == other.FiringEvents && Suppressed == other.Suppressed;
}

/// <summary>Why an alert goes where it goes.</summary>
public enum RouteKind
{
    /// <summary>Its fingerprint is already firing in the incident.</summary>
    Repeat,
    /// <summary>It joins the open incident of its group.</summary>
    Grouped,
    /// <summary>It opens a new incident.</summary>
    Opened,
    Resolve,
    Acknowledge,
    /// <summary>A silence or maintenance window holds it back: it goes to no incident.</summary>
    Suppressed,
}

/// <summary>
/// Where the alert at <see cref="Index"/> of a planned batch goes; <see cref="Opens"/> is set for a new incident.
/// <see cref="Considered"/> lists the relations that lost to <see cref="Rule"/>, each as "incident: rule".
/// </summary>
public sealed record Route(int Index, string IncidentId, NormalizedAlert Alert, RouteKind Kind, IncidentOrigin? Opens, SuppressionReason? SuppressedBy = null, string? Rule = null,
    IReadOnlyList<string>? Considered = null)
{
    /// <summary>The alert fired again soon after it ended its incident: the incident opens again rather than a second one.</summary>
    public bool Reopens { get; init; }

    /// <summary>
    /// It joined because the machine it fires on is down (its node or zone failed in the incident): a replica lost with
    /// its machine, which is no failure of its service for the service's dependants to follow.
    /// </summary>
    public bool OnDeadMachine { get; init; }
}

/// <summary>
/// Which relation placed an alert, as its rule says: the rules are written in <see cref="CorrelatorState"/>, and this
/// reads their first words back for the correlation explanation.
/// </summary>
public static class CorrelationRelation
{
    public const string Opened = "opened", Group = "group", Name = "name", Topology = "topology", Cause = "cause", Node = "node", Zone = "zone",
        Service = "service", Storm = "storm", Flapping = "flapping", Unknown = "unknown";

    public static string Of(string? rule) => rule switch
    {
        null => Unknown,
        _ when rule.StartsWith("new group", StringComparison.Ordinal) => Opened,
        _ when rule.StartsWith("group key", StringComparison.Ordinal) => Group,
        _ when rule.StartsWith("storm mode", StringComparison.Ordinal) => Storm,
        _ when rule.StartsWith("flapping:", StringComparison.Ordinal) => Flapping,
        _ when rule.StartsWith("topology:", StringComparison.Ordinal) => Topology,
        _ when rule.StartsWith("late cause:", StringComparison.Ordinal) => Cause,
        _ when rule.StartsWith("node:", StringComparison.Ordinal) => Node,
        _ when rule.StartsWith("zone:", StringComparison.Ordinal) => Zone,
        _ when rule.StartsWith("same service:", StringComparison.Ordinal) => Service,
        _ when rule.StartsWith("time window:", StringComparison.Ordinal) => rule.Contains(" node ", StringComparison.Ordinal) ? Node : Name,
        _ => Unknown,
    };
}

/// <summary>
/// Flapping control: an alert that changes state more than <see cref="Toggles"/> times within <see cref="Window"/>
/// opens no incident until it has been stable for <see cref="Quiet"/>. Zero toggles turns it off.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record FlappingPolicy
{
    public static readonly FlappingPolicy Off = new();

    [Id(0)] public int Toggles { get; init; }
    [Id(1)] public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(10);
    [Id(2)] public TimeSpan Quiet { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>What the account-wide view says about a batch: alerts inhibited by a firing source, and whether a storm is on.</summary>
[GenerateSerializer, Immutable]
public sealed record AccountSignals
{
    public static readonly AccountSignals None = new();

    /// <summary>Fingerprint → the inhibition that holds it back.</summary>
    [Id(0)] public IReadOnlyDictionary<string, string> Inhibited { get; init; } = new Dictionary<string, string>();
    /// <summary>New alerts in the account over the storm window when above the storm threshold; null when calm.</summary>
    [Id(1)] public int? StormRate { get; init; }
    /// <summary>The storm window the rate is counted over.</summary>
    [Id(2)] public TimeSpan StormWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>How long an inhibited alert waits before it is checked again.</summary>
    [Id(3)] public TimeSpan InhibitionRecheck { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// An open incident that spans a service this one depends on, as topology sees it: <see cref="Since"/> is when that
/// service's first alert joined the incident.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record UpstreamIncident(
    [property: Id(0)] string IncidentId, [property: Id(1)] string Service, [property: Id(2)] DateTimeOffset Since, [property: Id(3)] Severity Severity);

/// <summary>A new alert this service placed in an incident: what, where, how severe, and when.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record PlacedAlert([property: Id(0)] string Name, [property: Id(1)] string? Node, [property: Id(2)] Severity Severity, [property: Id(3)] DateTimeOffset At)
{
    /// <summary>The zone it is about, when the account names zones.</summary>
    [Id(4)] public string? Zone { get; init; }

    /// <summary>
    /// It joined its incident because another service's failure explains it (topology, a late cause, the same alert
    /// spreading, its service failing): no first sign of a machine's failure heard before the machine's own alert.
    /// </summary>
    [Id(5)] public bool Explained { get; init; }
}

/// <summary>How many of a group's alerts fire in its open incident, when the last of them resolved, and on which nodes (or zones) they fired.</summary>
[GenerateSerializer, SuppressReferenceTracking]
public sealed class GroupLife
{
    private const int MaxNodes = 32;

    [Id(0)] public int Firing { get; set; }
    [Id(1)] public DateTimeOffset QuietSince { get; set; }
    /// <summary>The nodes its alerts came from, up to <see cref="MaxNodes"/>; null once more did (a fleet-wide group).</summary>
    [Id(2)] public List<string>? Nodes { get; set; } = [];

    /// <summary>Whether an alert on <paramref name="node"/> continues what the group's alerts are about (it cannot tell when none is named).</summary>
    public bool Covers(string? node) => node is null || Nodes is null || Nodes.Contains(node);

    /// <summary>Records <paramref name="node"/>; returns whether the group changed.</summary>
    public bool Saw(string? node)
    {
        if (Covers(node)) return false;
        if (Nodes!.Count >= MaxNodes) Nodes = null;
        else Nodes.Add(node!);
        return true;
    }
}

/// <summary>A firing alert held back by a suppression rule: counted, listed, and evaluated again when the rule ends.</summary>
[GenerateSerializer]
public sealed class SuppressedAlert
{
    /// <summary>The latest event for the alert.</summary>
    [Id(0)] public required NormalizedAlert Alert { get; set; }
    [Id(1)] public required SuppressionReason Reason { get; set; }
    [Id(2)] public DateTimeOffset Since { get; set; }
    [Id(3)] public long Count { get; set; }
}

/// <summary>
/// The dedup-and-group state of one account/service: which open incident holds each firing alert, and which
/// open incident holds each group. The incident stays the authority on its own status: a resolved incident
/// rejects new firings, and <see cref="Forget"/> drops it here. Every map remembers what changed, so that the
/// journal keeps the changed entries of a decision rather than the whole state (<see cref="TakeChange"/>).
/// </summary>
[GenerateSerializer]
public sealed class CorrelatorState
{
    [Id(0)] public TrackedMap<string> FiringAlerts { get; set; } = new();
    [Id(1)] public TrackedMap<string> OpenGroups { get; set; } = new();
    [Id(3)] public CorrelationCounters Counters { get; set; } = new();
    /// <summary>Firing alerts held back by suppression, by fingerprint.</summary>
    [Id(4)] public TrackedMap<SuppressedAlert> Suppressed { get; set; } = new();
    /// <summary>Recent state changes (new occurrence, resolve) per fingerprint, for flapping control.</summary>
    [Id(10)] public TrackedMap<List<DateTimeOffset>> Toggles { get; set; } = new();
    /// <summary>When each recently resolved alert ended, so a trigger sent before its resolve but received after it is recognised as late.</summary>
    [Id(14)] public TrackedMap<DateTimeOffset> RecentResolves { get; set; } = new();
    /// <summary>The incident each recently resolved alert was resolved in, for a flapping alert that fires again.</summary>
    [Id(20)] public TrackedMap<string> ResolvedIn { get; set; } = new();
    /// <summary>
    /// The new alerts this service placed in each open incident (its own and upstream ones it joined as a symptom):
    /// the time window relates a new alert to them.
    /// </summary>
    [Id(15)] public PlacedAlerts Placed { get; set; } = new();
    /// <summary>
    /// Per open group: how many of its alerts fire and since when none has. A group missing here (reopened by an
    /// operator) holds its incident as long as the incident is open.
    /// </summary>
    [Id(18)] public TrackedMap<GroupLife> Groups { get; set; } = new();
    /// <summary>The group each counted firing alert is counted in, so its resolve counts down the same group.</summary>
    [Id(19)] public TrackedMap<string> CountedIn { get; set; } = new();

    /// <summary>The grouping labels of the latest plan, which settling the answers of its incidents goes by.</summary>
    [NonSerialized] private IReadOnlyList<string> _groupBy = ["alertname"];
    /// <summary>The service and the account's node failures of the latest plan, which placing an alert records it in.</summary>
    [NonSerialized] private string _service = "";
    [NonSerialized] private SharedFailures? _shared;
    /// <summary>The open incidents of the latest plan that a dependant of its service opened (a late cause explains them).</summary>
    [NonSerialized] private IReadOnlyList<UpstreamIncident> _downstream = [];
    /// <summary>Whether the latest plan had flapping control on: settling a resolve then remembers where it resolved.</summary>
    [NonSerialized] private bool _flapping;
    /// <summary>The counters as last taken with a change.</summary>
    [NonSerialized] private CorrelationCounters _countersTaken = new();
    /// <summary>When stale flapping histories were last dropped.</summary>
    [NonSerialized] private DateTimeOffset _togglesPruned;

    private const int MaxRecentResolves = 10_000;
    private static readonly TimeSpan RecentResolveHorizon = TimeSpan.FromHours(1);

    /// <summary>
    /// Decides where each alert goes, in order, updating the maps; alerts with nowhere to go (a resolve or an
    /// acknowledgement for an alert that is not firing here) get no route. Returns whether the maps changed.
    /// <paramref name="replanning"/> marks alerts that were counted already (a retry after a rejection).
    /// </summary>
    public (List<Route> Routes, bool Changed) Plan(
        string accountId, string service, IReadOnlyList<NormalizedAlert> alerts, IReadOnlyList<string> groupBy,
        Func<string> newIncidentId, bool replanning = false, SuppressionRules? suppression = null,
        TimeSpan window = default, IReadOnlyList<UpstreamIncident>? upstream = null, AccountSignals? signals = null, FlappingPolicy? flapping = null,
        Severity symptomSeverity = Severity.Sev4, TimeSpan symptomWait = default, SharedFailures? shared = null,
        IReadOnlyList<UpstreamIncident>? downstream = null)
    {
        (_service, _shared, _downstream) = (service, shared, downstream ?? []);
        _flapping = flapping is { Toggles: > 0 };
        suppression ??= SuppressionRules.None;
        signals ??= AccountSignals.None;
        flapping ??= FlappingPolicy.Off;
        _groupBy = groupBy;
        var routes = new List<Route>(alerts.Count);
        var changed = false;
        for (var index = 0; index < alerts.Count; index++)
        {
            var alert = alerts[index];
            if (!replanning) Counters.Received++;
            if (alert.Status == AlertStatus.Resolved && !replanning && alert.Action == AlertAction.Signal)
            {
                changed |= Toggle(alert.Fingerprint, alert.ReceivedAt, flapping);
                RememberResolve(alert); // saved lazily: losing it only lets one late trigger through
            }
            if (alert.Status == AlertStatus.Resolved && Suppressed.Remove(alert.Fingerprint))
            {
                // It never reached an incident; its resolve ends its suppression and goes nowhere either.
                changed = true;
                Counters.Resolved++;
                continue;
            }
            if (alert.Action == AlertAction.Acknowledge || alert.Status == AlertStatus.Resolved)
            {
                // A resolve frees the fingerprint only once the incident has taken it (see Settle), so a retried
                // request after a failed delivery still finds its way.
                if (FiringAlerts.TryGetValue(alert.Fingerprint, out var holder))
                    routes.Add(new Route(index, holder, alert, alert.Action == AlertAction.Acknowledge ? RouteKind.Acknowledge : RouteKind.Resolve, null));
                else
                    Counters.Unmatched++;
                continue;
            }

            if (!replanning) Counters.FiringEvents++;
            var now = alert.ReceivedAt;
            (string IncidentId, DateTimeOffset At)? endedIn = null;
            if (FiringAlerts.TryGetValue(alert.Fingerprint, out var existing))
            {
                // A re-send is not activity: otherwise one long-firing alert would keep its incident's window open forever.
                Counters.Deduplicated++;
                routes.Add(new Route(index, existing, alert, RouteKind.Repeat, null));
                continue;
            }
            if (RecentResolves.TryGetValue(alert.Fingerprint, out var ended))
            {
                // Out of order: a firing that started before the alert's last resolve was sent before it (a delayed
                // Prometheus re-send, a retry). It is the resolved occurrence, not a new one.
                if (alert.StartsAt < ended)
                {
                    if (!replanning) Counters.Unmatched++;
                    continue;
                }
                RecentResolves.Remove(alert.Fingerprint);
                if (ResolvedIn.Remove(alert.Fingerprint, out var resolvedIn) && flapping.Toggles > 0) endedIn = (resolvedIn, ended);
            }
            if (!replanning && !Suppressed.ContainsKey(alert.Fingerprint)) changed |= Toggle(alert.Fingerprint, now, flapping);
            // Suppression holds back alerts that are not already part of an open incident: it prevents incidents and
            // pages, and never hides what an open incident already shows. Inhibition is checked again every minute.
            var reason = suppression.Check(alert, alert.ReceivedAt)
                ?? (signals.Inhibited.TryGetValue(alert.Fingerprint, out var inhibition)
                    ? new SuppressionReason(SuppressionReason.InhibitionKind, inhibition, now + signals.InhibitionRecheck) : null);
            if (reason is not null)
            {
                if (!replanning) Counters.Suppressed++;
                Hold(alert, reason);
                changed = true;
                routes.Add(new Route(index, "", alert, RouteKind.Suppressed, null, reason));
                continue;
            }
            // A storm widens grouping to the whole service: one incident takes the flood, and says why.
            var storm = signals.StormRate is { } rate ? $"storm mode: {rate} new alerts in the account within {Durations.Format(signals.StormWindow)}, grouped by service" : null;
            var groupKey = storm is null ? GroupKey.Of(alert.Labels, groupBy) : GroupKey.Of(alert.Labels, []);
            changed = true;
            if (OpenGroups.TryGetValue(groupKey, out var grouped)
                && (storm is not null || GroupHolds(groupKey, grouped, alert, service, window, upstream ?? [], symptomSeverity, symptomWait)))
            {
                Suppressed.Remove(alert.Fingerprint);
                Join(grouped, storm ?? $"group key {groupKey}");
                Count(alert, groupKey);
                continue;
            }
            if (FlappingUntil(alert.Fingerprint, now, flapping) is { } stable)
            {
                // Flapping: no new incident (no page) until it has been stable for the quiet period.
                if (!replanning) Counters.Suppressed++;
                var flap = new SuppressionReason(SuppressionReason.FlappingKind, alert.Name, stable);
                Hold(alert, flap);
                changed = true;
                routes.Add(new Route(index, "", alert, RouteKind.Suppressed, null, flap));
                continue;
            }
            if (endedIn is var (previous, endedAt) && FlappingPace(alert.Fingerprint, flapping) is { } pace)
            {
                // Back at a flapping pace after its own resolve: the problem it ended was not over. Its incident opens
                // again, so that a flapping alert has one incident before it is held, not one per burst.
                OpenGroups[groupKey] = previous;
                Groups[groupKey] = new GroupLife();
                Join(previous, $"flapping: {alert.Name} fired again {Ago(now - endedAt)} after it resolved here (fired, resolved and fired again within {Ago(pace)})", reopens: true);
                Count(alert, groupKey);
                continue;
            }
            var related = window > TimeSpan.Zero ? Related(alert, service, window, upstream ?? [], symptomSeverity, symptomWait) : null;
            if (related is null && window > TimeSpan.Zero && symptomWait > TimeSpan.Zero && alert.Severity > symptomSeverity && !replanning)
            {
                // A weaker alert waits briefly for the failure it may be a symptom of (Alertmanager's group_wait): a
                // latency warning often fires seconds before its node's error alert. Re-sends do not extend the wait.
                Counters.Suppressed++;
                var wait = Suppressed.TryGetValue(alert.Fingerprint, out var waiting) && waiting.Reason.Kind == SuppressionReason.WaitingKind
                    ? waiting.Reason
                    : new SuppressionReason(SuppressionReason.WaitingKind, "a related failure", now + symptomWait);
                Hold(alert, wait);
                changed = true;
                routes.Add(new Route(index, "", alert, RouteKind.Suppressed, null, wait));
                continue;
            }
            Suppressed.Remove(alert.Fingerprint);
            if (related is { } home)
            {
                OpenGroups[groupKey] = home.IncidentId;
                Groups[groupKey] = new GroupLife();
                Join(home.IncidentId, home.Rule, home.Considered, onDeadMachine: home.OnDeadMachine, explained: !home.OnDeadMachine);
                Count(alert, groupKey);
                continue;
            }
            var id = newIncidentId();
            Counters.IncidentsOpened++;
            OpenGroups[groupKey] = id;
            Groups[groupKey] = new GroupLife();
            FiringAlerts[alert.Fingerprint] = id;
            Count(alert, groupKey);
            Place(id, alert, window);
            var origin = new IncidentOrigin
            {
                AccountId = accountId,
                Service = service,
                ServiceDeclared = alert.ServiceDeclared,
                GroupKey = groupKey,
            };
            routes.Add(new Route(index, id, alert, RouteKind.Opened, origin, Rule: storm ?? $"new group {groupKey}"));

            void Join(string incidentId, string rule, IReadOnlyList<string>? considered = null, bool reopens = false, bool onDeadMachine = false, bool explained = false)
            {
                Counters.Grouped++;
                FiringAlerts[alert.Fingerprint] = incidentId;
                Place(incidentId, alert, window, explained);
                routes.Add(new Route(index, incidentId, alert, RouteKind.Grouped, null, Rule: rule, Considered: considered) { Reopens = reopens, OnDeadMachine = onDeadMachine });
            }
        }
        return (routes, changed);
    }

    private void RememberResolve(NormalizedAlert alert)
    {
        var ended = alert.EndsAt ?? alert.ReceivedAt;
        if (!RecentResolves.TryGetValue(alert.Fingerprint, out var known) || known < ended) RecentResolves[alert.Fingerprint] = ended;
        if (RecentResolves.Count <= MaxRecentResolves) return;
        foreach (var old in RecentResolves.Where(p => p.Value < alert.ReceivedAt - RecentResolveHorizon).Select(p => p.Key).ToList())
            RecentResolves.Remove(old);
        // Then the oldest, a tenth at a time, so that a full map is not searched again for every resolve.
        if (RecentResolves.Count > MaxRecentResolves)
            foreach (var old in RecentResolves.OrderBy(p => p.Value).Take(RecentResolves.Count - MaxRecentResolves * 9 / 10).Select(p => p.Key).ToList())
                RecentResolves.Remove(old);
    }

    /// <summary>Records a state change of the alert; returns true (state changed) when flapping control is on.</summary>
    private bool Toggle(string fingerprint, DateTimeOffset at, FlappingPolicy flapping)
    {
        if (flapping.Toggles <= 0) return false;
        if (!Toggles.TryGetValue(fingerprint, out var times)) Toggles[fingerprint] = times = [];
        times.Add(at);
        times.RemoveAll(t => t <= at - flapping.Window);
        Toggles.Touch(fingerprint);
        // Forget alerts that have been quiet for a whole window, so the map does not grow with history: looked for once
        // a quiet period, not at every toggle, since a storm toggles every new alert.
        if (at - _togglesPruned >= flapping.Quiet)
        {
            _togglesPruned = at;
            foreach (var stale in Toggles.Where(p => p.Value.Count == 0 || p.Value[^1] <= at - flapping.Window - flapping.Quiet).Select(p => p.Key).ToList())
                Toggles.Remove(stale);
        }
        return true;
    }

    /// <summary>
    /// Whether the alert's last three state changes (it fired, resolved, and fires now) came at the pace that, kept up,
    /// exceeds the flapping threshold within its window: a failure that lasted minutes and a new one minutes later is two
    /// occurrences, a probe failing and passing within seconds is one.
    /// </summary>
    /// <returns>The span of those three changes, or null when they were slower.</returns>
    private TimeSpan? FlappingPace(string fingerprint, FlappingPolicy flapping) =>
        Toggles.TryGetValue(fingerprint, out var times) && times.Count >= 3 && times[^1] - times[^3] is var span
        && span <= 2 * flapping.Window / (flapping.Toggles + 1) ? span : null;

    /// <summary>When a flapping alert counts as stable again, or null when it is not flapping at <paramref name="now"/>.</summary>
    private DateTimeOffset? FlappingUntil(string fingerprint, DateTimeOffset now, FlappingPolicy flapping)
    {
        if (flapping.Toggles <= 0 || !Toggles.TryGetValue(fingerprint, out var times) || times.Count == 0) return null;
        var last = times[^1];
        var inWindow = times.Count(t => t > last - flapping.Window);
        return inWindow > flapping.Toggles && now < last + flapping.Quiet ? last + flapping.Quiet : null;
    }

    /// <summary>A short, readable age for rule texts: seconds under two minutes, whole minutes above.</summary>
    private static string Ago(TimeSpan age) =>
        age < TimeSpan.FromMinutes(2) ? $"{Math.Max(0, (long)age.TotalSeconds)}s" : $"{(long)age.TotalMinutes}m";

    /// <summary>
    /// Whether a new alert of a group goes to the group's open incident. Without a time window it always does. With one,
    /// while any of the group's alerts fires there, it does when it fires where they fire (a node of theirs; naming none,
    /// when no failure elsewhere explains it) or relates to the incident within the window (the failure spreading): the same alert name on another node
    /// minutes later is another occurrence, as two nodes failing apart are two failures, and a disk filling on one node
    /// is not the same problem as a disk filling on another. Once all of them have resolved, it does only within the
    /// window, and only when no relation elsewhere is more recent than that resolve, nor its machine down: the same alert
    /// coming back minutes later belongs to whatever failure brought it back, not to an incident that stays open for
    /// other reasons.
    /// </summary>
    private bool GroupHolds(
        string groupKey, string incidentId, NormalizedAlert alert, string service, TimeSpan window, IReadOnlyList<UpstreamIncident> upstream,
        Severity symptomSeverity, TimeSpan symptomWait)
    {
        if (window <= TimeSpan.Zero || !Groups.TryGetValue(groupKey, out var life)) return true;
        if (life.Firing > 0)
        {
            // An alert that names no node or zone cannot say it continues what the group's alerts are about: it does unless
            // a failure elsewhere explains it (a pod's alert naming no node, in a group that other failures' pods share).
            if (Resource(alert) is not { } resource)
                return Related(alert, service, window, upstream, symptomSeverity, symptomWait) is not { } explained || explained.IncidentId == incidentId;
            return life.Covers(resource) || Related(alert, service, window, upstream, symptomSeverity, symptomWait)?.IncidentId == incidentId;
        }
        if (life.QuietSince < alert.ReceivedAt - window) return false;
        return Related(alert, service, window, upstream, symptomSeverity, symptomWait) is not { } elsewhere
            || elsewhere.IncidentId == incidentId || elsewhere.At <= life.QuietSince && !elsewhere.OnDeadMachine;
    }

    /// <summary>
    /// The open incident a new alert with no group of its own belongs to, or null. A failure is an alert at least as
    /// severe as <paramref name="symptomSeverity"/>. Three relations count, each within the window:
    /// <list type="bullet">
    /// <item>the same failure spreading: its alert name joined an incident from this service;</item>
    /// <item>topology: a service it depends on joined an open incident with a failure (an incident spans every service
    /// its alerts come from, so a failure reaches dependants hop by hop);</item>
    /// <item>its node: a failure on the same node, at least as severe as it, joined an incident, from any service of the
    /// account when the plan has its node failures (a node runs many services' pods, and its failure fails them all); for
    /// a weaker alert, with <paramref name="symptomWait"/> set, at most that long before it: a symptom fires close to its
    /// failure, and the wait covers the failure that comes after;</item>
    /// <item>a late cause: a failure itself, it joins the incident a service depending on it (directly or through others)
    /// opened with a failure just before (the symptom was heard first);</item>
    /// <item>its service: a failure itself, it joins a failure of its own service, whatever the names (a crash-looping pod
    /// and an error budget burning are one outage of the service).</item>
    /// </list>
    /// A machine that is down where the alert fires (a failure of an exporter's service on the node it names, or of its zone) wins
    /// over the other relations: what fails on a dead machine fails because of it, whatever else is failing at the time.
    /// A failure on a node the alert does not name, one its service runs on, relates a symptom, never a failure.
    /// Otherwise the most recent relation wins: when two failures overlap, a new alert belongs to the one that just happened.
    /// A weaker alert is a symptom only on a failing node: elsewhere a warning is its own incident, so background
    /// noise never joins a failure by a coincidence of time.
    /// </summary>
    private (string IncidentId, string Rule, DateTimeOffset At, IReadOnlyList<string>? Considered, bool OnDeadMachine)? Related(
        NormalizedAlert alert, string service, TimeSpan window, IReadOnlyList<UpstreamIncident> upstream, Severity symptomSeverity, TimeSpan symptomWait)
    {
        var now = alert.ReceivedAt;
        var since = now - window;
        var within = $"(window {Durations.Format(window)})";
        var name = alert.Name;
        var node = alert.NodeName;
        var weaker = alert.Severity > symptomSeverity;
        var nodeSince = weaker && symptomWait > TimeSpan.Zero ? now - symptomWait : since;
        bool Fails(PlacedAlert p) => p.Severity <= symptomSeverity && p.Severity <= alert.Severity;
        var failedNode = node;
        (string IncidentId, string Service, DateTimeOffset At)? failingNode = null;
        if (node is not null)
            failingNode = _shared is { } shared ? shared.OnNode(node, nodeSince, Fails, service, machineSince: since)
                : Placed.Latest(PlacedAlerts.NodeKey(node), nodeSince, Fails) is { } local ? (local.IncidentId, service, local.At) : null;
        // A symptom that names no node (kube-state-metrics' pod alerts) relates to a failure on a node its service runs on;
        // a failure that names none is about the whole service, which one machine of several does not explain.
        else if (weaker && _shared?.OnNodesOf(service, nodeSince, Fails, machineSince: since) is var (onNode, incident, failed, at))
            (failedNode, failingNode) = (onNode, (incident, failed, at));
        // A zone's failure relates what fires in it; an alert about the whole zone relates to failures on its nodes, of
        // any severity (the zone's unreachability is what they were the first signs of).
        var zone = _shared?.ZoneOf(alert);
        var failingZone = zone is null ? null
            : node is null ? Later(_shared!.OfZone(zone, since, Fails), _shared.InZone(zone, since, p => p.Severity <= symptomSeverity))
            : _shared!.OfZone(zone, since, Fails);
        // A machine's own failure where the alert fires (its node or its zone down) explains it before any other relation.
        var candidates = new List<(string IncidentId, DateTimeOffset At, string Rule, int Weight)>();
        // A machine's alert on another machine is another machine's failure, not this one spreading; nor is an
        // exporter a service whose failures belong together (below).
        if (_shared?.IsInfrastructure(service) != true && Placed.Latest(PlacedAlerts.NameKey(name), since) is { } family)
            candidates.Add((family.IncidentId, family.At, $"time window: {name} of {service} joined this incident {Ago(now - family.At)} ago {within}", 1));
        if (weaker && failingNode is null && failingZone is null) return Best();
        if (upstream.Where(u => u.Since >= since && u.Severity <= symptomSeverity).MaxBy(u => u.Since) is { } cause)
            candidates.Add((cause.IncidentId, cause.Since, $"topology: {service} depends on {cause.Service}, which joined this incident {Ago(now - cause.Since)} ago {within}", 1));
        // A cause heard after its symptoms: a service depending on this one opened an incident with a failure just before.
        if (!weaker && _downstream.Where(d => d.Since >= since && d.Severity <= symptomSeverity).MaxBy(d => d.Since) is { } symptom)
            candidates.Add((symptom.IncidentId, symptom.Since, $"late cause: {symptom.Service} depends on {service} and opened this incident {Ago(now - symptom.Since)} ago {within}", 1));
        if (failingNode is var (nodeIncident, nodeService, nodeAt))
            candidates.Add((nodeIncident, nodeAt, nodeService == service
                ? $"time window: {service} node {failedNode} failed in this incident {Ago(now - nodeAt)} ago {within}"
                : node is null ? $"node: {failedNode}, which {service} runs on, failed in this incident ({nodeService}) {Ago(now - nodeAt)} ago {within}"
                : $"node: {node} failed in this incident ({nodeService}) {Ago(now - nodeAt)} ago {within}",
                // Only a machine the alert names wins: one its service is merely declared to run on is a guess.
                node is not null && _shared?.IsInfrastructure(nodeService) == true ? MachineDown : 1));
        if (failingZone is var (zoneIncident, zoneService, zoneAt))
            candidates.Add((zoneIncident, zoneAt, $"zone: {zone} failed in this incident ({zoneService}) {Ago(now - zoneAt)} ago {within}", _shared!.IsInfrastructure(zoneService) ? MachineDown : 1));
        // The broadest relation last: of equal times, the first candidate wins.
        if (!weaker && _shared is { SameService: true } && !_shared.IsInfrastructure(service) && Placed.LatestAtLeast(symptomSeverity, since) is { } failing)
            candidates.Add((failing.IncidentId, failing.At, $"same service: {service} failed in this incident {Ago(now - failing.At)} ago {within}", 1));
        return Best();

        static (string, string, DateTimeOffset)? Later((string, string, DateTimeOffset)? a, (string, string, DateTimeOffset)? b) =>
            a is null || b is not null && b.Value.Item3 > a.Value.Item3 ? b : a;

        (string IncidentId, string Rule, DateTimeOffset At, IReadOnlyList<string>? Considered, bool OnDeadMachine)? Best()
        {
            if (candidates.Count == 0) return null;
            var (id, at, rule, weight) = candidates.MaxBy(c => (c.Weight, c.At));
            var considered = candidates.Count == 1 ? null
                : candidates.Where(c => c.Rule != rule).Select(c => $"{c.IncidentId}: {c.Rule}").ToList();
            return (id, rule, at, considered, weight == MachineDown);
        }
    }

    /// <summary>The weight of a machine down where the alert fires: it wins over every other relation.</summary>
    private const int MachineDown = 2;

    /// <summary>What an alert is about, to tell occurrences apart: its node, else its zone.</summary>
    private string? Resource(NormalizedAlert alert) => alert.NodeName ?? _shared?.ZoneOf(alert);

    private void Place(string incidentId, NormalizedAlert alert, TimeSpan window, bool explained = false)
    {
        var placed = new PlacedAlert(alert.Name, alert.NodeName, alert.Severity, alert.ReceivedAt) { Zone = _shared?.ZoneOf(alert), Explained = explained };
        Placed.Add(incidentId, placed, window);
        _shared?.Add(incidentId, _service, placed, window);
    }

    /// <summary>
    /// Learns from the incident's answer, route by route in batch order: a firing it took is held there (so a
    /// resolve and a refire of one alert in one batch end with the alert held); a resolve it took frees the
    /// fingerprint; a firing it rejected (the incident is resolved) was not a repeat or a grouping after all.
    /// Returns whether the maps changed.
    /// </summary>
    public bool Settle(Route route, AlertOutcome outcome)
    {
        var fingerprint = route.Alert.Fingerprint;
        switch (route.Kind)
        {
            case RouteKind.Repeat or RouteKind.Grouped or RouteKind.Opened when outcome == AlertOutcome.Rejected:
                if (route.Kind == RouteKind.Repeat) Counters.Deduplicated--;
                else if (route.Kind == RouteKind.Grouped) Counters.Grouped--;
                return false;
            case RouteKind.Repeat or RouteKind.Grouped or RouteKind.Opened:
                if (FiringAlerts.TryGetValue(fingerprint, out var held) && held == route.IncidentId) return false;
                // Fires again after its resolve in the same batch: counted again in its group.
                FiringAlerts[fingerprint] = route.IncidentId;
                Count(route.Alert, GroupKey.Of(route.Alert.Labels, _groupBy));
                return true;
            case RouteKind.Resolve when outcome != AlertOutcome.Rejected
                && FiringAlerts.TryGetValue(fingerprint, out var holder) && holder == route.IncidentId:
                FiringAlerts.Remove(fingerprint);
                if (_flapping) ResolvedIn[fingerprint] = holder;
                if (ResolvedIn.Count > MaxRecentResolves + MaxRecentResolves / 10)
                    foreach (var stale in ResolvedIn.Keys.Where(f => !RecentResolves.ContainsKey(f)).ToList()) ResolvedIn.Remove(stale);
                Uncount(fingerprint, route.Alert.ReceivedAt, holder);
                Counters.Resolved++;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Counts a firing alert in its group, when the group is counted at all (see <see cref="Groups"/>).</summary>
    private void Count(NormalizedAlert alert, string groupKey)
    {
        var fingerprint = alert.Fingerprint;
        // The group's own key, not the caller's copy: every firing alert of the group keeps it.
        if (!Groups.TryGetEntry(groupKey, out var heldKey, out var life)) return;
        if (life.Saw(Resource(alert))) Groups.Touch(groupKey);
        if (CountedIn.TryGetValue(fingerprint, out var counted))
        {
            if (counted == heldKey) return;
            Uncount(fingerprint, DateTimeOffset.MinValue);
        }
        CountedIn[fingerprint] = heldKey;
        life.Firing++;
        Groups.Touch(groupKey);
    }

    /// <summary>
    /// The alert no longer fires: its group goes quiet at <paramref name="at"/> when it was the last. An alert of
    /// <paramref name="holder"/>, when the group has since moved to another incident (another occurrence), no longer
    /// counts in it.
    /// </summary>
    private void Uncount(string fingerprint, DateTimeOffset at, string? holder = null)
    {
        if (!CountedIn.Remove(fingerprint, out var groupKey) || !Groups.TryGetValue(groupKey, out var life)) return;
        if (holder is not null && OpenGroups.TryGetValue(groupKey, out var current) && current != holder) return;
        Groups.Touch(groupKey);
        if (--life.Firing > 0) return;
        life.Firing = 0;
        life.QuietSince = at;
    }

    private void Hold(NormalizedAlert alert, SuppressionReason reason)
    {
        if (Suppressed.TryGetValue(alert.Fingerprint, out var held))
        {
            held.Alert = alert;
            held.Reason = reason;
            held.Count++;
            Suppressed.Touch(alert.Fingerprint);
        }
        else Suppressed[alert.Fingerprint] = new SuppressedAlert { Alert = alert, Reason = reason, Since = alert.ReceivedAt, Count = 1 };
    }

    /// <summary>When the earliest suppression of a held alert ends, or null when none is held.</summary>
    public DateTimeOffset? NextSuppressionEnd => Suppressed.Count == 0 ? null : Suppressed.Values.Min(s => s.Reason.Until);

    /// <summary>
    /// The held alerts whose suppression has ended by <paramref name="now"/> and that still fire (their announced end
    /// has not passed), as fresh events to plan again; held alerts whose end passed are dropped as resolved.
    /// </summary>
    public List<NormalizedAlert> ReleaseDue(DateTimeOffset now)
    {
        var due = new List<NormalizedAlert>();
        foreach (var (fingerprint, held) in Suppressed.Where(s => s.Value.Reason.Until <= now).ToList())
        {
            Suppressed.Remove(fingerprint);
            // A waiting alert is related as of the end of its wait, even when the release runs late (a back-stop reminder).
            var releasedAt = held.Reason.Kind == SuppressionReason.WaitingKind ? held.Reason.Until : now;
            if (AlertClock.StatusAt(held.Alert.EndsAt, now) == AlertStatus.Firing) due.Add(held.Alert with { ReceivedAt = releasedAt });
        }
        return due;
    }

    /// <summary>
    /// Alerts held by a silence or maintenance window that <paramref name="rules"/> no longer suppress become due now (a
    /// silence was expired early). Holds of other kinds (inhibition, flapping, waiting) keep their own ends.
    /// </summary>
    public void LiftEnded(SuppressionRules rules, DateTimeOffset now)
    {
        foreach (var (fingerprint, held) in Suppressed)
            if (held.Reason.Kind is SuppressionReason.SilenceKind or SuppressionReason.MaintenanceKind && rules.Check(held.Alert, now) is null)
            {
                held.Reason = held.Reason with { Until = now };
                Suppressed.Touch(fingerprint);
            }
    }

    /// <summary>An operator reopened the incident: its still-firing alerts and its group lead to it again.</summary>
    public bool Adopt(string incidentId, string groupKey, IEnumerable<string> firingFingerprints)
    {
        var changed = OpenGroups.TryAdd(groupKey, incidentId);
        // Its alerts are not counted here: the group holds the incident while it is open.
        if (changed) Groups.Remove(groupKey);
        foreach (var fingerprint in firingFingerprints) changed |= FiringAlerts.TryAdd(fingerprint, incidentId);
        return changed;
    }

    /// <summary>
    /// <paramref name="from"/> was merged into <paramref name="to"/>: its alerts, its groups and what it placed lead there.
    /// Returns whether anything here led to it.
    /// </summary>
    public bool Redirect(string from, string to, TimeSpan window)
    {
        var changed = false;
        foreach (var map in (IEnumerable<TrackedMap<string>>)[FiringAlerts, OpenGroups, ResolvedIn])
            foreach (var (key, holder) in map.ToList())
                if (holder == from)
                {
                    map[key] = to;
                    changed = true;
                }
        if (Placed.TryGet(from, out var placed))
        {
            if (window > TimeSpan.Zero)
                foreach (var alert in placed.ToList()) Placed.Add(to, alert, window);
            Placed.Forget(from);
            changed = true;
        }
        return changed;
    }

    /// <summary>
    /// Alerts split out of <paramref name="from"/> into <paramref name="to"/>: those firing here, and their groups while
    /// <paramref name="from"/> holds them, lead to the new incident. Returns whether anything changed.
    /// </summary>
    public bool MoveSplit(string from, string to, IEnumerable<(string Fingerprint, string GroupKey)> alerts)
    {
        var changed = false;
        foreach (var (fingerprint, groupKey) in alerts)
        {
            if (FiringAlerts.TryGetValue(fingerprint, out var holder) && holder == from)
            {
                FiringAlerts[fingerprint] = to;
                changed = true;
            }
            if (OpenGroups.TryGetValue(groupKey, out var group) && group == from)
            {
                OpenGroups[groupKey] = to;
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>The incident is resolved: its alerts and group no longer attract anything.</summary>
    public bool Forget(string incidentId)
    {
        var removed = Placed.Forget(incidentId);
        foreach (var (fingerprint, holder) in FiringAlerts.ToList())
        {
            if (holder != incidentId) continue;
            Uncount(fingerprint, DateTimeOffset.MinValue, holder);
            FiringAlerts.Remove(fingerprint);
            removed = true;
        }
        foreach (var (groupKey, holder) in OpenGroups.ToList())
        {
            if (holder != incidentId) continue;
            Groups.Remove(groupKey);
            OpenGroups.Remove(groupKey);
            removed = true;
        }
        return removed;
    }

    /// <summary>
    /// Whether a decision changed the maps since the last <see cref="TakeChange"/> (counters aside: they may wait, since
    /// losing a few costs nothing but their precision).
    /// </summary>
    public bool HasDecisions => FiringAlerts.HasChanges || OpenGroups.HasChanges || Suppressed.HasChanges || Toggles.HasChanges
        || RecentResolves.HasChanges || ResolvedIn.HasChanges || Groups.HasChanges || CountedIn.HasChanges || Placed.HasChanges;

    /// <summary>Whether the counters moved since the last <see cref="TakeChange"/>.</summary>
    public bool CountersChanged => !Counters.SameAs(_countersTaken);

    /// <summary>What changed since the last call, as a journal entry keeps it (the new values of changed entries); null when nothing did.</summary>
    public CorrelatorChange? TakeChange()
    {
        // An account's commit asks every service, and a request touches a few of its hundreds.
        if (!HasDecisions && !CountersChanged) return null;
        var change = new CorrelatorChange
        {
            FiringAlerts = FiringAlerts.TakeChanges(),
            OpenGroups = OpenGroups.TakeChanges(),
            Suppressed = Suppressed.TakeChanges(),
            Toggles = Toggles.TakeChanges(),
            RecentResolves = RecentResolves.TakeChanges(),
            ResolvedIn = ResolvedIn.TakeChanges(),
            Groups = Groups.TakeChanges(),
            CountedIn = CountedIn.TakeChanges(),
            Placed = Placed.TakeChanges(),
            Counters = CountersChanged ? Counters.Copy() : null,
        };
        if (change.Counters is { } counters) _countersTaken = counters;
        return change.IsEmpty ? null : change;
    }

    /// <summary>Replays a change taken by <see cref="TakeChange"/>.</summary>
    public void Apply(CorrelatorChange change)
    {
        FiringAlerts.Apply(change.FiringAlerts);
        OpenGroups.Apply(change.OpenGroups);
        Suppressed.Apply(change.Suppressed);
        Toggles.Apply(change.Toggles);
        RecentResolves.Apply(change.RecentResolves);
        ResolvedIn.Apply(change.ResolvedIn);
        Groups.Apply(change.Groups);
        CountedIn.Apply(change.CountedIn);
        Placed.Apply(change.Placed);
        if (change.Counters is { } counters) Counters = _countersTaken = counters.Copy();
    }
}

/// <summary>What one decision changed in a service's correlation state: the new values of the changed entries of each map.</summary>
[GenerateSerializer, Alias("orleansops.correlator-change.v1")]
public sealed class CorrelatorChange
{
    [Id(0)] public MapChange<string>? FiringAlerts { get; init; }
    [Id(1)] public MapChange<string>? OpenGroups { get; init; }
    [Id(2)] public MapChange<SuppressedAlert>? Suppressed { get; init; }
    [Id(3)] public MapChange<List<DateTimeOffset>>? Toggles { get; init; }
    [Id(4)] public MapChange<DateTimeOffset>? RecentResolves { get; init; }
    [Id(5)] public MapChange<GroupLife>? Groups { get; init; }
    [Id(6)] public MapChange<string>? CountedIn { get; init; }
    [Id(7)] public List<PlacedChange>? Placed { get; init; }
    [Id(8)] public CorrelationCounters? Counters { get; init; }
    [Id(9)] public MapChange<string>? ResolvedIn { get; init; }

    public bool IsEmpty => FiringAlerts is null && OpenGroups is null && Suppressed is null && Toggles is null && RecentResolves is null && ResolvedIn is null
        && Groups is null && CountedIn is null && Placed is null && Counters is null;
}

/// <summary>A new alert placed in an incident (kept while the window can see it), or, without one, the incident forgotten.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed record PlacedChange([property: Id(0)] string IncidentId, [property: Id(1)] PlacedAlert? Alert, [property: Id(2)] TimeSpan Window);

/// <summary>
/// The new alerts a service placed in each open incident, within the time window: what the window relates a new alert
/// to. Kept as the changes that built it (a placement, a forgotten incident), since each new alert adds one. Read by
/// relation (an alert name, a node, a severity) through indexes in time order, so that finding the latest related alert
/// costs the same however many incidents are open: the newest entries are read first, and the first related one ends
/// the search.
/// </summary>
[GenerateSerializer]
public sealed class PlacedAlerts
{
    private const int MaxPerIncident = 256;
    private const int MaxPerKey = 1024;

    [Id(0)] private readonly Dictionary<string, List<PlacedAlert>> _byIncident = new(StringComparer.Ordinal);
    [NonSerialized] private List<PlacedChange>? _changes;
    /// <summary>By alert name, node and severity: each the alerts in time order with their incidents; built when first read.</summary>
    [NonSerialized] private Dictionary<IndexKey, List<(string IncidentId, PlacedAlert Alert)>>? _index;
    [NonSerialized] private int _sweepAbove = 1024;

    public int IncidentCount => _byIncident.Count;

    public IEnumerable<KeyValuePair<string, List<PlacedAlert>>> ByIncident => _byIncident;

    /// <summary>What an index entry is filed under: an alert name, a node, or a severity (no text built per alert).</summary>
    public readonly record struct IndexKey(char Kind, string Value, Severity Severity = default);

    public static IndexKey NameKey(string name) => new('n', name);
    public static IndexKey NodeKey(string node) => new('h', node);
    private static IndexKey SeverityKey(Severity severity) => new('s', "", severity);

    public bool TryGet(string incidentId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out List<PlacedAlert> placed) =>
        _byIncident.TryGetValue(incidentId, out placed);

    public void Add(string incidentId, PlacedAlert alert, TimeSpan window)
    {
        Place(incidentId, alert, window);
        (_changes ??= []).Add(new PlacedChange(incidentId, alert, window));
    }

    public bool Forget(string incidentId)
    {
        // The indexes pass over its alerts as they read them.
        if (!_byIncident.Remove(incidentId)) return false;
        (_changes ??= []).Add(new PlacedChange(incidentId, null, default));
        return true;
    }

    /// <summary>
    /// The latest alert under <paramref name="key"/> (<see cref="NameKey"/>, <see cref="NodeKey"/>) since
    /// <paramref name="since"/> that <paramref name="related"/> accepts, in an incident still open here. Of equal times
    /// the one placed first wins.
    /// </summary>
    public (string IncidentId, DateTimeOffset At)? Latest(IndexKey key, DateTimeOffset since, Func<PlacedAlert, bool>? related = null)
    {
        if (!Index().TryGetValue(key, out var entries)) return null;
        (string IncidentId, DateTimeOffset At)? latest = null;
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var (incidentId, alert) = entries[i];
            if (alert.At < since || latest is { } found && alert.At < found.At) break;
            if (!Holds(incidentId, alert))
            {
                entries.RemoveAt(i); // its incident was forgotten or let it go: never asked for again
                continue;
            }
            if (related is null || related(alert)) latest = (incidentId, alert.At);
        }
        return latest;
    }

    /// <summary>Whether the incident is still open here and still keeps the alert (an incident keeps its latest few).</summary>
    private bool Holds(string incidentId, PlacedAlert alert) =>
        _byIncident.TryGetValue(incidentId, out var placed) && placed.Count > 0 && (ReferenceEquals(placed[^1], alert) || placed.Contains(alert));

    /// <summary>The latest alert at least as severe as <paramref name="severity"/> since <paramref name="since"/>.</summary>
    public (string IncidentId, DateTimeOffset At)? LatestAtLeast(Severity severity, DateTimeOffset since)
    {
        (string IncidentId, DateTimeOffset At)? latest = null;
        foreach (var level in SeverityMapping.All)
            if (level <= severity && Latest(SeverityKey(level), since) is { } found && (latest is null || found.At > latest.Value.At)) latest = found;
        return latest;
    }

    public bool HasChanges => _changes is { Count: > 0 };

    public List<PlacedChange>? TakeChanges()
    {
        var changes = _changes;
        _changes = null;
        return changes;
    }

    public void Apply(List<PlacedChange>? changes)
    {
        foreach (var change in changes ?? [])
        {
            if (change.Alert is { } alert) Place(change.IncidentId, alert, change.Window);
            else _byIncident.Remove(change.IncidentId);
        }
    }

    private void Place(string incidentId, PlacedAlert alert, TimeSpan window)
    {
        if (!_byIncident.TryGetValue(incidentId, out var placed)) _byIncident[incidentId] = placed = [];
        // Only what the window can still see is kept, and at most a bounded burst of it.
        placed.RemoveAll(p => p.At < alert.At - window);
        if (placed.Count >= MaxPerIncident) placed.RemoveAt(0);
        placed.Add(alert);
        if (_index is null) return;
        Indexed(incidentId, alert, window);
        if (_index.Count > _sweepAbove) Sweep(alert.At - window);
    }

    private Dictionary<IndexKey, List<(string IncidentId, PlacedAlert Alert)>> Index()
    {
        if (_index is not null) return _index;
        _index = [];
        foreach (var (incidentId, alert) in _byIncident.SelectMany(p => p.Value.Select(a => (p.Key, a))).OrderBy(p => p.a.At).ToList())
            Indexed(incidentId, alert, TimeSpan.Zero);
        return _index;
    }

    /// <summary>Files the alert under its name, its severity and its node.</summary>
    private void Indexed(string incidentId, PlacedAlert alert, TimeSpan window)
    {
        Indexed(NameKey(alert.Name), incidentId, alert, window);
        Indexed(SeverityKey(alert.Severity), incidentId, alert, window);
        if (alert.Node is { } node) Indexed(NodeKey(node), incidentId, alert, window);
    }

    /// <summary>Adds in time order (placements come in order but for a released alert, placed as of its wait's end), keeping what the window sees.</summary>
    private void Indexed(IndexKey key, string incidentId, PlacedAlert alert, TimeSpan window)
    {
        if (!_index!.TryGetValue(key, out var entries)) _index[key] = entries = [];
        var at = entries.Count;
        while (at > 0 && entries[at - 1].Alert.At > alert.At) at--;
        entries.Insert(at, (incidentId, alert));
        var stale = 0;
        if (window > TimeSpan.Zero)
            while (stale < entries.Count && entries[stale].Alert.At < alert.At - window) stale++;
        stale = Math.Max(stale, entries.Count - MaxPerKey);
        if (stale > 0) entries.RemoveRange(0, stale);
    }

    /// <summary>Drops the keys whose alerts the window no longer sees (alert names and nodes come and go).</summary>
    private void Sweep(DateTimeOffset before)
    {
        var index = _index!;
        foreach (var (key, entries) in index.ToList())
            if (entries.Count == 0 || entries[^1].Alert.At < before) index.Remove(key);
        _sweepAbove = Math.Max(1024, index.Count * 2);
    }
}

/// <summary>
/// The account's recent alerts on each shared resource, whatever service placed them: what relates alerts across
/// services on one node (it runs many services' pods) or in one zone. A zone is named by a label on the alert
/// (<see cref="AccountConfig.ZoneLabels"/>) or by the zone its node is in (<see cref="AccountConfig.Zones"/>); an alert
/// that names a zone and no node is about the whole zone. Derived from the services' placed alerts, which the journal
/// keeps, so rebuilt rather than journaled; it keeps what a time window can see, so its size follows the recent alerts,
/// not the open incidents.
/// </summary>
public sealed class SharedFailures
{
    private const int MaxPerResource = 256;
    private readonly Dictionary<string, List<(string IncidentId, string Service, PlacedAlert Alert)>> _byResource = new(StringComparer.Ordinal);
    private int _sweepAbove = 1024;
    private AccountConfig? _configuredBy;
    private IReadOnlyDictionary<string, string> _zoneOfNode = new Dictionary<string, string>();
    private IReadOnlyList<string> _zoneLabels = AccountConfig.DefaultZoneLabels;
    private IReadOnlyDictionary<string, IReadOnlyList<string>> _nodesOf = new Dictionary<string, IReadOnlyList<string>>();
    private HashSet<string> _declared = [];
    private IReadOnlyList<string> _podLabels = AccountConfig.DefaultPodLabels;
    private readonly Dictionary<string, string> _nodeOfPod = new(StringComparer.Ordinal);
    private const int MaxPods = 100_000;

    /// <summary>The account's <see cref="AccountConfig.SameServiceRelation"/>.</summary>
    public bool SameService { get; private set; }

    /// <summary>Every service's placed alerts, as an activation finds them.</summary>
    public static SharedFailures Of(IEnumerable<KeyValuePair<string, CorrelatorState>> services)
    {
        var shared = new SharedFailures();
        foreach (var (service, state) in services)
            foreach (var (incidentId, placed) in state.Placed.ByIncident)
                foreach (var alert in placed)
                    foreach (var resource in Resources(alert)) shared.List(resource).Add((incidentId, service, alert));
        return shared;
    }

    /// <summary>Takes the account's zones and zone labels (once per configuration).</summary>
    public void Configure(AccountConfig config)
    {
        if (ReferenceEquals(config, _configuredBy)) return;
        _configuredBy = config;
        _zoneLabels = config.ZoneLabels;
        _podLabels = config.PodLabels;
        _nodesOf = config.Services.Where(s => s.Nodes.Count > 0).ToDictionary(s => s.Id, s => s.Nodes, StringComparer.Ordinal);
        _declared = config.Services.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        SameService = config.SameServiceRelation;
        _zoneOfNode = config.Zones.SelectMany(z => z.Value.Select(node => (node, zone: z.Key))).ToDictionary(p => p.node, p => p.zone, StringComparer.Ordinal);
    }

    /// <summary>
    /// Where the alerts of a batch are: each alert that names its node and a pod teaches the pod's node, and an alert that
    /// names a pod and no node (kube-state-metrics' pod alerts) takes the node its pod was last seen on. What is learned
    /// is soft: lost on a restart, taught again by the next re-sends.
    /// </summary>
    public IReadOnlyList<NormalizedAlert> Locate(IReadOnlyList<NormalizedAlert> alerts)
    {
        if (_podLabels.Count == 0) return alerts;
        var unplaced = false;
        foreach (var alert in alerts)
        {
            if (alert.NodeName is not { } node)
            {
                unplaced = true;
                continue;
            }
            foreach (var name in _podLabels)
                if (alert.Labels.TryGetValue(name, out var pod) && pod.Length > 0 && (!_nodeOfPod.TryGetValue(pod, out var known) || known != node))
                {
                    if (_nodeOfPod.Count >= MaxPods) _nodeOfPod.Clear(); // pods come and go; re-sends teach the live ones again
                    _nodeOfPod[pod] = node;
                }
        }
        if (!unplaced) return alerts;
        var located = alerts.ToArray();
        for (var i = 0; i < located.Length; i++)
            if (located[i].NodeName is null && NodeOfPod(located[i]) is { } node) located[i] = located[i] with { Node = node };
        return located;
    }

    private string? NodeOfPod(NormalizedAlert alert)
    {
        foreach (var name in _podLabels)
            if (alert.Labels.TryGetValue(name, out var pod) && _nodeOfPod.TryGetValue(pod, out var node)) return node;
        return null;
    }

    /// <summary>The zone an alert is about: its zone label, else its node's zone.</summary>
    public string? ZoneOf(NormalizedAlert alert)
    {
        foreach (var name in _zoneLabels)
            if (alert.Labels.TryGetValue(name, out var zone) && zone.Length > 0) return zone;
        return alert.NodeName is { } node && _zoneOfNode.TryGetValue(node, out var mapped) ? mapped : null;
    }

    public void Add(string incidentId, string service, PlacedAlert alert, TimeSpan window)
    {
        if (window <= TimeSpan.Zero) return;
        foreach (var resource in Resources(alert))
        {
            var placed = List(resource);
            placed.RemoveAll(p => p.Alert.At < alert.At - window);
            if (placed.Count >= MaxPerResource) placed.RemoveAt(0);
            placed.Add((incidentId, service, alert));
        }
        if (_byResource.Count > _sweepAbove) Sweep(alert.At - window);
    }

    /// <summary>The latest alert on <paramref name="node"/> since <paramref name="since"/> that <paramref name="fails"/> says is a failure.</summary>
    public (string IncidentId, string Service, DateTimeOffset At)? OnNode(string node, DateTimeOffset since, Func<PlacedAlert, bool> fails, string asking,
        DateTimeOffset? machineSince = null) =>
        Latest(node, since, fails, asking, machineSince);

    /// <summary>The latest failure on any node <paramref name="service"/> is declared to run on, and which node it was.</summary>
    public (string Node, string IncidentId, string Service, DateTimeOffset At)? OnNodesOf(string service, DateTimeOffset since, Func<PlacedAlert, bool> fails,
        DateTimeOffset? machineSince = null)
    {
        (string, string, string, DateTimeOffset)? latest = null;
        foreach (var node in _nodesOf.GetValueOrDefault(service) ?? [])
            if (Latest(node, since, fails, service, machineSince) is var (incidentId, failedService, at) && (latest is null || at > latest.Value.Item4))
                latest = (node, incidentId, failedService, at);
        return latest;
    }

    /// <summary>The latest failure of the whole <paramref name="zone"/> (an alert naming the zone and no node).</summary>
    public (string IncidentId, string Service, DateTimeOffset At)? OfZone(string zone, DateTimeOffset since, Func<PlacedAlert, bool> fails) =>
        Latest(ZoneKey(zone), since, fails, asking: "");

    /// <summary>The latest failure on any node of <paramref name="zone"/>.</summary>
    public (string IncidentId, string Service, DateTimeOffset At)? InZone(string zone, DateTimeOffset since, Func<PlacedAlert, bool> fails) =>
        Latest(InZoneKey(zone), since, fails, asking: "");

    /// <summary>The incident is resolved: nothing relates to it any more.</summary>
    public void Forget(string incidentId)
    {
        foreach (var placed in _byResource.Values) placed.RemoveAll(p => p.IncidentId == incidentId);
    }

    /// <summary>Under what an alert is kept: its node, the nodes of its zone, or its whole zone.</summary>
    private static IEnumerable<string> Resources(PlacedAlert alert)
    {
        if (alert.Node is { } node) yield return node;
        if (alert.Zone is { } zone) yield return alert.Node is null ? ZoneKey(zone) : InZoneKey(zone);
    }

    // Node names are the users' own; these prefixes keep a zone apart from a node of the same name.
    private static string ZoneKey(string zone) => "\u0001zone\u0001" + zone;
    private static string InZoneKey(string zone) => "\u0001in-zone\u0001" + zone;

    /// <summary>
    /// The latest failure kept under <paramref name="resource"/> that <paramref name="asking"/> may relate to: its own
    /// service's, or the machine's own (see <see cref="IsInfrastructure"/>); an infrastructure alert relates to any.
    /// A node runs many services, and one service's failure there (its database down) says nothing about another's; nor
    /// is a failure that another service's explains (<see cref="PlacedAlert.Explained"/>) a first sign of the machine's.
    /// The machine's own failure counts from <paramref name="machineSince"/> when given (the whole window: a machine
    /// that is down explains whatever fires on it, however late its alert rules notice), the others from
    /// <paramref name="since"/>.
    /// </summary>
    private (string IncidentId, string Service, DateTimeOffset At)? Latest(
        string resource, DateTimeOffset since, Func<PlacedAlert, bool> fails, string asking, DateTimeOffset? machineSince = null)
    {
        if (!_byResource.TryGetValue(resource, out var placed)) return null;
        var machineAsks = IsInfrastructure(asking);
        var anyService = _declared.Count == 0 || machineAsks;
        (string, string, DateTimeOffset)? latest = null;
        foreach (var (incidentId, service, alert) in placed)
        {
            var machine = IsInfrastructure(service);
            if (alert.At >= (machine ? machineSince ?? since : since) && (latest is null || alert.At > latest.Value.Item3) && fails(alert)
                && (machine || service == asking || anyService && !(machineAsks && alert.Explained)))
                latest = (incidentId, service, alert.At);
        }
        return latest;
    }

    /// <summary>
    /// Whether alerts of <paramref name="service"/> are about the machines rather than a service of the account: when the
    /// account declares its services, an undeclared one is an exporter's (node-exporter, kube-state-metrics, a probe).
    /// An account that declares none relates every service's failures on a node.
    /// </summary>
    public bool IsInfrastructure(string service) => _declared.Count > 0 && !_declared.Contains(service);

    private List<(string IncidentId, string Service, PlacedAlert Alert)> List(string resource)
    {
        if (!_byResource.TryGetValue(resource, out var placed)) _byResource[resource] = placed = [];
        return placed;
    }

    /// <summary>Drops the resources whose alerts the window no longer sees (many nodes fail once, as pods come and go).</summary>
    private void Sweep(DateTimeOffset before)
    {
        foreach (var (resource, placed) in _byResource.ToList())
            if (placed.Count == 0 || placed[^1].Alert.At < before) _byResource.Remove(resource);
        _sweepAbove = Math.Max(1024, _byResource.Count * 2);
    }
}

/// <summary>
/// Which machine an alert is about: the first of the account's node labels it carries (by default <c>node</c>,
/// <c>instance</c>, <c>host</c>). A scrape address names its machine with the exporter's port, so a port is not part of
/// the node: <c>10.0.1.5:9100</c> and <c>10.0.1.5:8080</c> are one machine.
/// </summary>
public static class NodeLabel
{
    public static readonly IReadOnlyList<string> Names = ["node", "instance", "host"];

    public static string? Of(IReadOnlyDictionary<string, string> labels, IReadOnlyList<string>? names = null)
    {
        foreach (var name in names ?? Names)
            if (labels.TryGetValue(name, out var value) && value.Length > 0) return WithoutPort(value);
        return null;
    }

    private static string WithoutPort(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1 || !value.AsSpan(colon + 1).ContainsOnlyDigits()) return value;
        // A bare IPv6 address has colons of its own; only a bracketed one ("[::1]:9100") carries a port.
        if (value.IndexOf(':') != colon && value[colon - 1] != ']') return value;
        return value[..colon];
    }

    private static bool ContainsOnlyDigits(this ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');
}

/// <summary>
/// The group an alert belongs to within its service: the values of the account's <c>group_by</c> labels
/// (a missing label counts as empty). No labels means one group per service; <c>...</c> means every label,
/// as in Alertmanager.
/// </summary>
public static class GroupKey
{
    public const string AllLabels = "...";

    /// <summary>Each configured <c>group_by</c> list's names, distinct and in ordinal order: a key is made for every new alert.</summary>
    private static readonly ConditionalWeakTable<IReadOnlyList<string>, string[]> KeyNames = new();

    public static string Of(IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> groupBy)
    {
        var names = groupBy.Contains(AllLabels) ? DistinctInOrder(labels.Keys) : KeyNames.GetValue(groupBy, DistinctInOrder);
        var key = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        key.AppendLiteral("{");
        for (var i = 0; i < names.Length; i++)
        {
            if (i > 0) key.AppendLiteral(",");
            key.AppendFormatted(names[i]);
            key.AppendLiteral("=\"");
            AppendEscaped(ref key, labels.GetValueOrDefault(names[i], ""));
            key.AppendLiteral("\"");
        }
        key.AppendLiteral("}");
        return key.ToStringAndClear();
    }

    private static string[] DistinctInOrder(IEnumerable<string> names)
    {
        var distinct = names.Distinct().ToArray();
        Array.Sort(distinct, StringComparer.Ordinal);
        return distinct;
    }

    private static void AppendEscaped(ref DefaultInterpolatedStringHandler key, string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"') < 0)
        {
            key.AppendFormatted(value);
            return;
        }
        foreach (var c in value)
        {
            if (c is '\\' or '"') key.AppendLiteral("\\");
            key.AppendFormatted(c);
        }
    }
}
