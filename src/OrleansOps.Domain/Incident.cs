namespace OrleansOps.Domain;

[GenerateSerializer]
public enum IncidentStatus
{
    Triggered = 0,
    Acknowledged = 1,
    Resolved = 2,
}

/// <summary>One alert as an incident remembers it: identity, latest content, and how often it was seen.</summary>
[GenerateSerializer, SuppressReferenceTracking] // never shared within a graph; an incident holds many
public sealed class IncidentAlert
{
    [Id(0)] public required string Fingerprint { get; init; }
    // Label sets whatever map they are given: an incident holds two per alert, and they are far smaller than dictionaries.
    [Id(1)] private LabelSet _labels = LabelSet.Empty;
    [Id(2)] private LabelSet _annotations = LabelSet.Empty;
    public required IReadOnlyDictionary<string, string> Labels { get => _labels; set => _labels = LabelSet.Of(value); }
    public IReadOnlyDictionary<string, string> Annotations { get => _annotations; set => _annotations = LabelSet.Of(value); }
    [Id(3)] public AlertStatus Status { get; set; }
    [Id(4)] public Severity Severity { get; set; }
    // Its times as UTC ticks: a DateTimeOffset takes 16 bytes and a nullable one 24, for an offset that is zero on
    // every time here (senders' times are read as UTC, and so is the clock), and an incident holds five per alert.
    [Id(5)] private long _startsAt;
    [Id(6)] private long _endsAt;
    [Id(7)] private long _firstSeen;
    [Id(8)] private long _lastSeen;
    [Id(13)] private long _expiresAt;
    public DateTimeOffset StartsAt { get => UtcTicks.Time(_startsAt); set => _startsAt = value.UtcTicks; }
    public DateTimeOffset? EndsAt { get => UtcTicks.TimeOrNull(_endsAt); set => _endsAt = UtcTicks.Of(value); }
    public DateTimeOffset FirstSeen { get => UtcTicks.Time(_firstSeen); init => _firstSeen = value.UtcTicks; }
    public DateTimeOffset LastSeen { get => UtcTicks.Time(_lastSeen); set => _lastSeen = value.UtcTicks; }
    /// <summary>Every event received for this alert, repeats included.</summary>
    [Id(9)] public long Count { get; set; }
    [Id(10)] public required string Source { get; set; }
    [Id(11)] public IReadOnlyList<AlertLink> Links { get; set; } = [];
    /// <summary>How many times it started firing within this incident.</summary>
    [Id(12)] public int Occurrences { get; set; }
    /// <summary>
    /// When a firing alert ends unless its sender refreshes it: the endsAt that Prometheus sends ahead of time.
    /// Alertmanager resolves an alert at that moment; so do we.
    /// </summary>
    public DateTimeOffset? ExpiresAt { get => UtcTicks.TimeOrNull(_expiresAt); set => _expiresAt = UtcTicks.Of(value); }
    /// <summary>The service the alert came from; another service than the incident's makes it a symptom (topology).</summary>
    [Id(14)] public string? Service { get; set; }
    /// <summary>Why correlation put the alert here: its group key, the time window, or topology.</summary>
    [Id(15)] public string? Rule { get; set; }
    /// <summary>The relations correlation weighed against <see cref="Rule"/> and passed over, each as "incident: rule".</summary>
    [Id(16)] public IReadOnlyList<string>? Considered { get; set; }
    /// <summary>The machine it is about, as the account's node labels named it when it arrived (null when none did).</summary>
    [Id(17)] public string? Node { get; set; }
    /// <summary>The incident it was in before that incident was merged into this one.</summary>
    [Id(18)] public string? MergedFrom { get; set; }

    /// <summary>
    /// Takes <paramref name="other"/>'s instances of the texts this alert has in common with it: the alerts of one
    /// incident mostly repeat each other's alert name, rule, links and label names, and each arrives as its own copy.
    /// What the alert holds does not change, only which copy of it.
    /// </summary>
    public void ShareTextsWith(IncidentAlert other)
    {
        _labels = _labels.SharingWith(other._labels);
        _annotations = _annotations.SharingWith(other._annotations);
        if (!ReferenceEquals(Links, other.Links) && Links.SequenceEqual(other.Links)) Links = other.Links;
        if (Rule is not null && !ReferenceEquals(Rule, other.Rule) && Rule == other.Rule) Rule = other.Rule;
        if (Node is not null && !ReferenceEquals(Node, other.Node) && Node == other.Node) Node = other.Node;
    }

    /// <summary>A re-send's annotations and links replace the held ones, keeping the held copies of what did not change.</summary>
    public void Refresh(IReadOnlyDictionary<string, string> annotations, IReadOnlyList<AlertLink> links)
    {
        _annotations = LabelSet.Of(annotations).SharingWith(_annotations);
        if (!ReferenceEquals(Links, links) && !Links.SequenceEqual(links)) Links = links;
    }
}

/// <summary>
/// A moment as the UTC ticks a compact record keeps of it. Zero, the default, stands for no moment: it would be the
/// first instant of year 1, which no alert can carry (senders' zero times are read as no time at all).
/// </summary>
internal static class UtcTicks
{
    public const long None = 0;

    public static long Of(DateTimeOffset? at) => at?.UtcTicks ?? None;

    public static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    public static DateTimeOffset? TimeOrNull(long ticks) => ticks == None ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
}

/// <summary>The incident as the account's index and lists see it.</summary>
[GenerateSerializer, Immutable]
public sealed record IncidentSummary
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string AccountId { get; init; }
    [Id(2)] public required string Service { get; init; }
    [Id(3)] public bool ServiceDeclared { get; init; }
    [Id(4)] public required string Title { get; init; }
    [Id(5)] public Severity Severity { get; init; }
    [Id(6)] public IncidentStatus Status { get; init; }
    [Id(7)] public DateTimeOffset OpenedAt { get; init; }
    [Id(8)] public DateTimeOffset StartedAt { get; init; }
    [Id(9)] public DateTimeOffset? AcknowledgedAt { get; init; }
    [Id(10)] public DateTimeOffset? ResolvedAt { get; init; }
    [Id(11)] public int AlertCount { get; init; }
    [Id(12)] public int FiringAlertCount { get; init; }
    /// <summary>The services the incident's alerts come from, for topology: a failure spreads through its dependants.</summary>
    [Id(13)] public ServiceSpans Services { get; init; } = ServiceSpans.None;
    /// <summary>
    /// The nodes its alerts name (label node, instance or host), for per-node commitments: the first
    /// <see cref="IncidentState.SummaryNodes"/> to join, in name order; <see cref="NodeCount"/> says how many it names in all.
    /// </summary>
    [Id(14)] public NodeList Nodes { get; init; } = NodeList.None;
    /// <summary>How many escalation levels paged (for the escalations-per-incident KPI).</summary>
    [Id(15)] public int Escalations { get; init; }
    /// <summary>The first acknowledgement, kept when a timed-out acknowledgement or a reopen clears <see cref="AcknowledgedAt"/> (for MTTA).</summary>
    [Id(16)] public DateTimeOffset? FirstAcknowledgedAt { get; init; }
    /// <summary>How many of its tickets cannot be written right now (failing and retrying, or stuck).</summary>
    [Id(17)] public int TicketsFailing { get; init; }
    /// <summary>The incident's journal position when it was taken: of two summaries of one incident, the higher is newer.</summary>
    [Id(18)] public long Version { get; init; }
    /// <summary>How many nodes its alerts name; more than <see cref="Nodes"/> lists once a failure spreads that wide.</summary>
    [Id(19)] public int NodeCount { get; init; }
    /// <summary>An operator's correction of how it counts against the account's SLOs, if any.</summary>
    [Id(20)] public SlaCorrection? SlaCorrection { get; init; }
    /// <summary>The incident it was merged into: its alerts and its impact count there.</summary>
    [Id(21)] public string? MergedInto { get; init; }

    /// <summary>Whether the incident names nodes beyond those <see cref="Nodes"/> lists.</summary>
    public bool NodesTruncated => NodeCount > Nodes.Count;
}

/// <summary>A service with alerts in an incident: the most severe of them, and when the first alert that severe joined.</summary>
[GenerateSerializer, Immutable]
public sealed record ServiceSpan([property: Id(0)] string Service, [property: Id(1)] DateTimeOffset Since, [property: Id(2)] Severity Severity);

/// <summary>Node names compared by content, so that an unchanged summary stays equal.</summary>
[GenerateSerializer, Immutable]
public sealed class NodeList : IReadOnlyList<string>, IEquatable<NodeList>
{
    public static readonly NodeList None = new() { Items = [] };

    [Id(0)] public required IReadOnlyList<string> Items { get; init; }

    public string this[int index] => Items[index];
    public int Count => Items.Count;
    public IEnumerator<string> GetEnumerator() => Items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public bool Equals(NodeList? other) => other is not null && Items.SequenceEqual(other.Items);
    public override bool Equals(object? obj) => Equals(obj as NodeList);
    public override int GetHashCode() => Items.Aggregate(Items.Count, (hash, node) => HashCode.Combine(hash, node));
}

/// <summary>The services an incident spans, by name; compared by content so that an unchanged summary stays equal.</summary>
[GenerateSerializer, Immutable]
public sealed class ServiceSpans : IEquatable<ServiceSpans>
{
    public static readonly ServiceSpans None = new() { Items = [] };

    [Id(0)] public required IReadOnlyList<ServiceSpan> Items { get; init; }

    public static ServiceSpans Of(IEnumerable<ServiceSpan> spans) =>
        new() { Items = spans.OrderBy(s => s.Service, StringComparer.Ordinal).ToArray() };

    public bool Equals(ServiceSpans? other) => other is not null && Items.SequenceEqual(other.Items);
    public override bool Equals(object? obj) => Equals(obj as ServiceSpans);
    public override int GetHashCode() => Items.Aggregate(Items.Count, (hash, span) => HashCode.Combine(hash, span));
}

[GenerateSerializer]
public enum AlertOutcome
{
    /// <summary>The alert changed the incident.</summary>
    Applied = 0,
    /// <summary>A pure repeat: only count and last-seen moved.</summary>
    Repeated = 1,
    /// <summary>Nothing to do (a duplicate resolve, an acknowledgement of a resolved incident).</summary>
    Ignored = 2,
    /// <summary>The incident is resolved; a new firing is a new occurrence and belongs elsewhere.</summary>
    Rejected = 3,
    /// <summary>A silence or maintenance window held the alert back; it opened nothing.</summary>
    Suppressed = 4,
    /// <summary>An always-firing alert that pings a heartbeat (Prometheus' <c>Watchdog</c>): it opened nothing.</summary>
    Heartbeat = 5,
}

/// <summary>A past incident brought in so that the account's SLA window is complete from its first day.</summary>
[GenerateSerializer, Immutable]
public sealed record ImportedIncident
{
    [Id(0)] public required string AccountId { get; init; }
    [Id(1)] public required string Service { get; init; }
    [Id(2)] public bool ServiceDeclared { get; init; } = true;
    [Id(3)] public required Severity Severity { get; init; }
    [Id(4)] public required string Title { get; init; }
    [Id(5)] public required DateTimeOffset StartedAt { get; init; }
    [Id(6)] public DateTimeOffset? AcknowledgedAt { get; init; }
    [Id(7)] public required DateTimeOffset ResolvedAt { get; init; }
    /// <summary>The nodes it took down, for per-node SLAs (a live incident learns them from its alerts' node labels).</summary>
    [Id(8)] public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>The same past incident imported twice is one incident: its id comes from what identifies it.</summary>
    public string IncidentId => Ids.Derived("import", AccountId, Service, StartedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture), Title);
}

/// <summary>Where a new incident comes from: everything it needs to exist on its own.</summary>
[GenerateSerializer, Immutable]
public sealed record IncidentOrigin
{
    [Id(0)] public required string AccountId { get; init; }
    [Id(1)] public required string Service { get; init; }
    [Id(2)] public bool ServiceDeclared { get; init; } = true;
    [Id(3)] public required string GroupKey { get; init; }
}

/// <summary>
/// The incident: its lifecycle (triggered → acknowledged → resolved, reopen), its alerts and its chronicle. Every change
/// appends a chronicle entry. The chronicle itself is not held here, only its head (the last entry's number and hash):
/// the entries a change records wait in <see cref="Recorded"/> until the grain hands them to storage, which keeps
/// them for good and pages them on read.
/// </summary>
[GenerateSerializer]
public sealed partial class IncidentState
{
    [Id(0)] public string? Id { get; set; }
    [Id(1)] public string AccountId { get; set; } = "";
    [Id(2)] public string Service { get; set; } = "";
    [Id(3)] public bool ServiceDeclared { get; set; } = true;
    [Id(4)] public string GroupKey { get; set; } = "";
    [Id(5)] public string Title { get; set; } = "";
    [Id(6)] public Severity Severity { get; set; } = SeverityMapping.Default;
    [Id(7)] public IncidentStatus Status { get; set; }
    [Id(8)] public DateTimeOffset OpenedAt { get; set; }
    [Id(9)] public DateTimeOffset StartedAt { get; set; }
    [Id(10)] public DateTimeOffset? AcknowledgedAt { get; set; }
    [Id(11)] public string? AcknowledgedBy { get; set; }
    [Id(12)] public DateTimeOffset? ResolvedAt { get; set; }
    [Id(13)] public string? ResolvedBy { get; set; }
    /// <summary>Its alerts by fingerprint, in the order they joined (never removed, so the order holds).</summary>
    [Id(14)] public Dictionary<string, IncidentAlert> Alerts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>When an operator last reopened it: a later automatic resolve cannot date itself before that.</summary>
    [Id(19)] public DateTimeOffset? ReopenedAt { get; set; }
    [Id(24)] public DateTimeOffset? FirstAcknowledgedAt { get; set; }
    /// <summary>The last chronicle entry's number and hash: the next entry links to them.</summary>
    [Id(26)] public long ChronicleSeq { get; set; }
    [Id(27)] private Sha256Digest _chronicleHash = Sha256Digest.Parse(Domain.Chronicle.GenesisHash);
    public string ChronicleHash { get => _chronicleHash.ToString(); set => _chronicleHash = Sha256Digest.Parse(value); }
    /// <summary>How many escalation steps paged (for the escalations-per-incident KPI).</summary>
    [Id(28)] public int Escalations { get; set; }
    /// <summary>The last chronicle entry that belongs on a ticket: a ticket synced up to it is in step.</summary>
    [Id(29)] public long TicketEntrySeq { get; set; }
    /// <summary>The nodes an imported incident names: it has no alerts whose labels would.</summary>
    [Id(30)] public IReadOnlyList<string> ImportedNodes { get; set; } = [];
    /// <summary>An operator's correction of how it counts against the account's SLOs, if any.</summary>
    [Id(31)] public SlaCorrection? SlaCorrection { get; set; }
    /// <summary>The incident this one was merged into (it is resolved, and left out of the SLOs: its impact counts there).</summary>
    [Id(32)] public string? MergedInto { get; set; }

    // What the state implies, kept up to date as it changes rather than recounted (an incident may hold 100,000 alerts);
    // rebuilt from the alerts after a load.
    [NonSerialized] private List<IncidentAlert> _ordered = [];
    [NonSerialized] private int _firing;
    [NonSerialized] private readonly Dictionary<string, ServiceSpan> _spans = new(StringComparer.Ordinal);
    [NonSerialized] private readonly HashSet<string> _nodes = new(StringComparer.Ordinal);
    /// <summary>The first nodes to join, which the summary names.</summary>
    [NonSerialized] private readonly SortedSet<string> _summaryNodes = new(StringComparer.Ordinal);
    [NonSerialized] private readonly AlertExpiries _expiries = new();
    /// <summary>
    /// The nodes the last summary named, until they change: most changes leave them as they were, and a summary lives
    /// until the next change (in the account's index too), so a new copy each time would be long-lived garbage. (The
    /// services are summarized anew each time: the account schedules an SLA review when they are another instance.)
    /// </summary>
    [NonSerialized] private NodeList? _summarizedNodes;

    // What changed since the grain last took the changes.
    // Made by the first entry or outcome of a change and handed over with it, so that they go with the change rather
    // than wait, empty, for the next one in an activation that may last for hours.
    [NonSerialized] private List<ChronicleEntry>? _recorded;
    [NonSerialized] private readonly List<IncidentAlert> _attached = [];
    [NonSerialized] private readonly HashSet<string> _updated = new(StringComparer.Ordinal);
    [NonSerialized] private readonly HashSet<string> _repeated = new(StringComparer.Ordinal);
    [NonSerialized] private List<NotificationOutcome>? _newOutcomes;

    /// <summary>
    /// How many nodes a summary names: a change costs the same however many nodes a storm's alerts name (a summary goes
    /// with every change). An incident that names more counts against every per-node commitment of its services.
    /// </summary>
    public const int SummaryNodes = 16;

    public bool Exists => Id is not null;

    public bool IsOpen => Exists && Status != IncidentStatus.Resolved;

    /// <summary>Chronicle entries recorded since the grain last took them (for pure use, the whole chronicle).</summary>
    public IReadOnlyList<ChronicleEntry> Recorded => _recorded ?? [];

    /// <summary>How many of its alerts fire now.</summary>
    public int FiringAlertCount => _firing;

    /// <summary>Its alerts in the order they joined, from <paramref name="offset"/> on.</summary>
    public IEnumerable<IncidentAlert> AlertsFrom(int offset) => _ordered.Skip(offset);

    /// <summary>The fingerprints of its firing alerts.</summary>
    public IEnumerable<string> FiringFingerprints => _ordered.Where(a => a.Status == AlertStatus.Firing).Select(a => a.Fingerprint);

    /// <summary>Records a past incident as it happened: opened when it started, acknowledged and resolved at its times.</summary>
    public void Import(ImportedIncident past, DateTimeOffset now)
    {
        Id = past.IncidentId;
        AccountId = past.AccountId;
        Service = past.Service;
        ServiceDeclared = past.ServiceDeclared;
        GroupKey = "imported";
        Title = past.Title;
        Severity = past.Severity;
        OpenedAt = StartedAt = past.StartedAt;
        Status = IncidentStatus.Resolved;
        AcknowledgedAt = FirstAcknowledgedAt = past.AcknowledgedAt;
        AcknowledgedBy = past.AcknowledgedAt is null ? null : "import";
        ResolvedAt = past.ResolvedAt;
        ResolvedBy = "import";
        ImportedNodes = past.Nodes;
        foreach (var node in ImportedNodes) Names(node);
        var data = new Dictionary<string, string>
        {
            ["service"] = Service,
            ["severity"] = Severity.ToWire(),
            ["startedAt"] = past.StartedAt.ToString("O"),
            ["resolvedAt"] = past.ResolvedAt.ToString("O"),
        };
        if (past.AcknowledgedAt is { } acknowledged) data["acknowledgedAt"] = acknowledged.ToString("O");
        if (past.Nodes.Count > 0) data["nodes"] = string.Join(",", past.Nodes);
        Record(now, ChronicleKinds.Imported, "import", $"Imported: {Title}", data);
    }

    public void Open(string id, IncidentOrigin origin, NormalizedAlert first, DateTimeOffset now, string? rule = null)
    {
        Id = id;
        AccountId = origin.AccountId;
        Service = origin.Service;
        ServiceDeclared = origin.ServiceDeclared;
        GroupKey = origin.GroupKey;
        Title = $"{first.Name} on {origin.Service}";
        Severity = first.Severity;
        Status = IncidentStatus.Triggered;
        OpenedAt = now;
        StartedAt = first.StartsAt;
        var data = new Dictionary<string, string>
        {
            ["service"] = Service,
            ["severity"] = Severity.ToWire(),
            ["groupKey"] = GroupKey,
        };
        if (!ServiceDeclared) data["undeclaredService"] = "true";
        if (rule is not null) data["rule"] = rule;
        Record(now, ChronicleKinds.Opened, first.Source, $"Incident opened: {Title}", data);
        StartEscalation(now);
    }

    /// <param name="rule">Why correlation sent a new alert here (recorded with it and in the chronicle).</param>
    /// <param name="considered">The relations correlation passed over for <paramref name="rule"/>.</param>
    public AlertOutcome Apply(NormalizedAlert alert, DateTimeOffset now, string? rule = null, IReadOnlyList<string>? considered = null)
    {
        if (alert.Action == AlertAction.Acknowledge)
        {
            return Status == IncidentStatus.Triggered && Acknowledge(alert.Source, now) ? AlertOutcome.Applied : AlertOutcome.Ignored;
        }
        return alert.Status == AlertStatus.Firing ? Fire(alert, now, rule, considered) : ResolveAlert(alert, now);
    }

    private AlertOutcome Fire(NormalizedAlert alert, DateTimeOffset now, string? rule, IReadOnlyList<string>? considered)
    {
        if (Status == IncidentStatus.Resolved)
        {
            return AlertOutcome.Rejected;
        }
        if (Alerts.TryGetValue(alert.Fingerprint, out var known))
        {
            known.Count++;
            known.LastSeen = now;
            known.Refresh(alert.Annotations, alert.Links);
            if (known.Status == AlertStatus.Firing)
            {
                SetExpiry(known, alert.EndsAt);
                if (!_updated.Contains(known.Fingerprint)) _repeated.Add(known.Fingerprint);
                return AlertOutcome.Repeated;
            }
            known.Status = AlertStatus.Firing;
            _firing++;
            SetExpiry(known, alert.EndsAt);
            known.StartsAt = alert.StartsAt;
            known.EndsAt = null;
            known.Occurrences++;
            Touched(known);
            Record(now, ChronicleKinds.AlertRefired, alert.Source, $"Alert {alert.Name} fired again", AlertData(alert));
        }
        else
        {
            var added = new IncidentAlert
            {
                Fingerprint = alert.Fingerprint,
                Labels = alert.Labels,
                Annotations = alert.Annotations,
                Status = AlertStatus.Firing,
                Severity = alert.Severity,
                StartsAt = alert.StartsAt,
                FirstSeen = now,
                LastSeen = now,
                Count = 1,
                Source = alert.Source,
                Links = alert.Links,
                Occurrences = 1,
                Service = alert.Service,
                Rule = rule,
                Considered = considered,
                Node = alert.NodeName,
            };
            Alerts[alert.Fingerprint] = added;
            Joined(added);
            SetExpiry(added, alert.EndsAt);
            _attached.Add(added);
            if (alert.StartsAt < StartedAt) StartedAt = alert.StartsAt;
            var data = AlertData(alert);
            if (rule is not null) data["rule"] = rule;
            if (considered is { Count: > 0 }) data["considered"] = string.Join("; ", considered);
            if (alert.Service != Service) data["symptomOf"] = Service!;
            Record(now, ChronicleKinds.AlertAttached, alert.Source,
                alert.Service != Service ? $"Alert {alert.Name} on {alert.Service} attached as a symptom ({rule})"
                : rule is null ? $"Alert {alert.Name} attached" : $"Alert {alert.Name} attached ({rule})", data);
        }
        RaiseSeverityTo(alert.Severity, alert.Source, now);
        return AlertOutcome.Applied;
    }

    private AlertOutcome ResolveAlert(NormalizedAlert alert, DateTimeOffset now)
    {
        if (!Alerts.TryGetValue(alert.Fingerprint, out var known) || known.Status == AlertStatus.Resolved)
        {
            return AlertOutcome.Ignored;
        }
        known.Count++;
        EndAlert(known, alert.EndsAt, alert.Source, $"Alert {alert.Name} resolved", now);
        return AlertOutcome.Applied;
    }

    /// <summary>The earliest moment a firing alert ends by itself, if any does; null once the incident is resolved.</summary>
    public DateTimeOffset? NextExpiry => Status != IncidentStatus.Resolved && _expiries.TryPeek(out _, out var at) ? at : null;

    /// <summary>Resolves every firing alert whose sender let its endsAt pass without a refresh; returns whether any did.</summary>
    public bool ExpireAlerts(DateTimeOffset now)
    {
        var expired = 0;
        while (_expiries.TryPeek(out var alert, out var at) && at <= now)
        {
            var name = alert.Labels.GetValueOrDefault("alertname") ?? alert.Fingerprint;
            EndAlert(alert, alert.ExpiresAt, "expiry", $"Alert {name} expired: not refreshed before its endsAt", now);
            expired++;
        }
        return expired > 0;
    }

    private void EndAlert(IncidentAlert known, DateTimeOffset? endsAt, string actor, string text, DateTimeOffset now)
    {
        known.LastSeen = now;
        SetExpiry(known, null);
        known.Status = AlertStatus.Resolved;
        _firing--;
        known.EndsAt = AlertClock.EndWithinBounds(endsAt, known.StartsAt, now);
        Touched(known);
        Record(now, ChronicleKinds.AlertResolved, actor, text, new Dictionary<string, string>
        {
            ["fingerprint"] = known.Fingerprint,
            ["endsAt"] = known.EndsAt.Value.ToString("O"),
        });

        if (Status != IncidentStatus.Resolved && _firing == 0)
        {
            // The incident ends when its last alert ended, by the sender's clock, not when we heard of it.
            var endedAt = Alerts.Values.Max(a => a.EndsAt!.Value);
            if (ReopenedAt is { } reopened && endedAt < reopened) endedAt = reopened;
            MarkResolved(endedAt, now, "auto", "All alerts resolved", note: null);
        }
    }

    /// <returns>False when already acknowledged (acknowledging twice changes nothing).</returns>
    /// <exception cref="IncidentTransitionException">When the incident is resolved.</exception>
    public bool Acknowledge(string actor, DateTimeOffset now)
    {
        if (Status == IncidentStatus.Resolved)
            throw new IncidentTransitionException($"Incident {Id} is resolved; reopen it before acknowledging.");
        if (Status == IncidentStatus.Acknowledged) return false;
        Status = IncidentStatus.Acknowledged;
        AcknowledgedAt = now;
        FirstAcknowledgedAt ??= now;
        AcknowledgedBy = actor;
        Record(now, ChronicleKinds.Acknowledged, actor, $"Acknowledged by {actor}");
        StopForAcknowledgement(now);
        return true;
    }

    /// <returns>False when already resolved.</returns>
    public bool Resolve(string actor, string? note, DateTimeOffset now)
    {
        if (Status == IncidentStatus.Resolved) return false;
        MarkResolved(now, now, actor, $"Resolved by {actor}", note);
        return true;
    }

    /// <exception cref="IncidentTransitionException">When the incident is not resolved.</exception>
    public void Reopen(string actor, string? reason, DateTimeOffset now)
    {
        if (Status != IncidentStatus.Resolved)
            throw new IncidentTransitionException($"Incident {Id} is not resolved; only a resolved incident can be reopened.");
        Status = IncidentStatus.Triggered;
        AcknowledgedAt = null;
        AcknowledgedBy = null;
        ResolvedAt = null;
        ResolvedBy = null;
        ReopenedAt = now;
        Record(now, ChronicleKinds.Reopened, actor, reason is null ? $"Reopened by {actor}" : $"Reopened by {actor}: {reason}");
        RestartEscalation(now);
        // Not resolved after all: the resolution clock runs again towards its deadline from the opening.
        foreach (var clock in Clocks.Where(c => c.Kind == ClockKind.Resolution && !c.Breached)) clock.MetAt = null;
    }

    public void AddNote(string actor, string text, DateTimeOffset now) =>
        Record(now, ChronicleKinds.Note, actor, text);

    /// <summary>
    /// Corrects how the incident counts against the account's SLOs (null withdraws the correction in force); false when
    /// that changes nothing. Chronicled with who and why, like every other step.
    /// </summary>
    public bool CorrectSla(SlaCorrection? correction, string actor, string reason, DateTimeOffset now)
    {
        if (correction is null ? SlaCorrection is null : SlaCorrection is { } current && current.SameEffect(correction)) return false;
        if (correction is { ImpactStart: not null } or { ImpactEnd: not null }) CheckImpactWindow(correction);
        var withdrawn = SlaCorrection;
        SlaCorrection = correction;
        var data = new Dictionary<string, string> { ["reason"] = reason };
        if (correction is not null)
        {
            data["excluded"] = correction.Excluded ? "true" : "false";
            if (correction.Slos.Count > 0) data["slos"] = string.Join(",", correction.Slos);
            if (correction.ImpactStart is { } start) data["impactStart"] = start.ToString("O");
            if (correction.ImpactEnd is { } end) data["impactEnd"] = end.ToString("O");
        }
        Record(now, ChronicleKinds.SlaCorrected, actor,
            correction is null ? $"SLA correction withdrawn ({withdrawn!.Describe()}): {reason}" : $"SLA corrected, {correction.Describe()}: {reason}", data);
        return true;
    }

    /// <summary>
    /// A corrected window must still be a window of this incident: where one end is left as it happened (its start, its
    /// resolution), the other must not pass it, or the impact would count backwards.
    /// </summary>
    private void CheckImpactWindow(SlaCorrection correction)
    {
        var start = correction.ImpactStart ?? StartedAt;
        if ((correction.ImpactEnd ?? ResolvedAt) is not { } end || start <= end) return;
        throw new IncidentTransitionException(correction.ImpactStart is { } asked
            ? $"impactStart {asked:u} is after the impact's end ({(correction.ImpactEnd is null ? "the incident was resolved at " : "")}{end:u}); give impactEnd too, or an earlier start."
            : $"impactEnd {end:u} is before the incident's start ({start:u}); give impactStart too, or a later end.");
    }

    /// <param name="version">The incident's journal position, so that the newer of two summaries can be told.</param>
    public IncidentSummary Summarize(long version = 0) => new()
    {
        Id = Id!,
        AccountId = AccountId,
        Service = Service,
        ServiceDeclared = ServiceDeclared,
        Title = Title,
        Severity = Severity,
        Status = Status,
        OpenedAt = OpenedAt,
        StartedAt = StartedAt,
        AcknowledgedAt = AcknowledgedAt,
        ResolvedAt = ResolvedAt,
        AlertCount = Alerts.Count,
        FiringAlertCount = _firing,
        Services = ServiceSpans.Of(_spans.Values),
        Nodes = _summarizedNodes ??= new NodeList { Items = _summaryNodes.ToArray() },
        SlaCorrection = SlaCorrection,
        MergedInto = MergedInto,
        NodeCount = _nodes.Count,
        Escalations = Escalations,
        FirstAcknowledgedAt = FirstAcknowledgedAt,
        TicketsFailing = Tickets.Count(t => t.Failures > 0 || t.Stuck),
        Version = version,
    };

    private void MarkResolved(DateTimeOffset resolvedAt, DateTimeOffset now, string actor, string text, string? note)
    {
        Status = IncidentStatus.Resolved;
        ResolvedAt = resolvedAt;
        ResolvedBy = actor;
        var data = new Dictionary<string, string> { ["resolvedAt"] = resolvedAt.ToString("O") };
        if (note is not null) data["note"] = note;
        Record(now, ChronicleKinds.Resolved, actor, note is null ? text : $"{text}: {note}", data);
        StopForResolution(now);
    }

    private void RaiseSeverityTo(Severity severity, string actor, DateTimeOffset now)
    {
        var worst = SeverityMapping.Worst(Severity, severity);
        if (worst == Severity) return;
        var before = Severity;
        Severity = worst;
        Record(now, ChronicleKinds.SeverityChanged, actor, $"Severity raised from {before.ToWire()} to {worst.ToWire()}",
            new Dictionary<string, string> { ["from"] = before.ToWire(), ["to"] = worst.ToWire() });
        Escalation.StakeholderReviewAt = now;
    }

    private static Dictionary<string, string> AlertData(NormalizedAlert alert) => new()
    {
        ["fingerprint"] = alert.Fingerprint,
        ["severity"] = alert.Severity.ToWire(),
        ["startsAt"] = alert.StartsAt.ToString("O"),
    };

    private void Record(DateTimeOffset at, string kind, string actor, string text, IReadOnlyDictionary<string, string>? data = null)
    {
        var entry = Domain.Chronicle.Next(ChronicleSeq, ChronicleHash, at, kind, actor, text, data);
        (_recorded ??= []).Add(entry);
        ChronicleSeq = entry.Seq;
        ChronicleHash = entry.Hash;
        if (kind == ChronicleKinds.Escalated) Escalations++;
        if (BelongsOnTicket(entry)) TicketEntrySeq = entry.Seq;
    }

    /// <summary>An alert joined: it counts towards the services and nodes the incident spans.</summary>
    private void Joined(IncidentAlert alert)
    {
        ShareTexts(alert);
        _ordered.Add(alert);
        if (alert.Status == AlertStatus.Firing) _firing++;
        var service = alert.Service ?? Service;
        // The worst severity of a service, and when the first alert that severe joined: alerts never leave, so this only moves forward.
        if (!_spans.TryGetValue(service, out var span) || alert.Severity < span.Severity)
            _spans[service] = new ServiceSpan(service, alert.FirstSeen, alert.Severity);
        else if (alert.Severity == span.Severity && alert.FirstSeen < span.Since)
            _spans[service] = span with { Since = alert.FirstSeen };
        if ((alert.Labels.GetValueOrDefault("node") ?? alert.Labels.GetValueOrDefault("instance") ?? alert.Labels.GetValueOrDefault("host")) is { } node)
            Names(node);
    }

    /// <summary>The incident names <paramref name="node"/>: counted, and listed in its summary while it lists few.</summary>
    private void Names(string node)
    {
        if (!_nodes.Add(node) || _summaryNodes.Count >= SummaryNodes) return;
        _summaryNodes.Add(node);
        _summarizedNodes = null;
    }

    /// <summary>
    /// A joining alert holds the texts it repeats once: from the incident's first and latest alert (its name, rule,
    /// links and the rest of its labels usually match theirs), or else from the process-wide pool (its source and
    /// service, which a load reads back as a copy per alert).
    /// </summary>
    private void ShareTexts(IncidentAlert alert)
    {
        alert.Source = SharedText.Share(alert.Source);
        alert.Service = SharedText.ShareOrNull(alert.Service);
        if (_ordered.Count == 0) return;
        alert.ShareTextsWith(_ordered[0]);
        if (_ordered.Count > 1) alert.ShareTextsWith(_ordered[^1]);
    }

    private void SetExpiry(IncidentAlert alert, DateTimeOffset? expiresAt) => _expiries.Set(alert, expiresAt, Alerts.Values);

    private void Touched(IncidentAlert alert)
    {
        _repeated.Remove(alert.Fingerprint);
        if (!_attached.Contains(alert)) _updated.Add(alert.Fingerprint);
    }

    /// <summary>Recomputes what the state implies from the alerts, after it was loaded.</summary>
    public void Rebuild()
    {
        _identityTaken = Exists;
        Recount(Alerts.Values.ToList());
    }

    /// <summary>What the state implies, counted again from <paramref name="alerts"/> (all of its alerts, in the order they joined).</summary>
    private void Recount(List<IncidentAlert> alerts)
    {
        _ordered = new List<IncidentAlert>(alerts.Count);
        _firing = 0;
        _spans.Clear();
        _nodes.Clear();
        _summaryNodes.Clear();
        _summarizedNodes = null;
        foreach (var node in ImportedNodes) Names(node);
        foreach (var alert in alerts) Joined(alert);
        _expiries.Rebuild(Alerts.Values);
    }
}

[GenerateSerializer]
public sealed class IncidentTransitionException(string message) : Exception(message);
