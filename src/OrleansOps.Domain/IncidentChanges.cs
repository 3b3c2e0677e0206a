namespace OrleansOps.Domain;

/// <summary>
/// What one change did to an incident, as its journal entry keeps it: the new values of what changed (outcomes, never
/// the alerts or commands that caused them), so that replaying it decides nothing again.
/// </summary>
[GenerateSerializer, Alias("orleansops.incident-change.v1")]
public sealed class IncidentChange
{
    /// <summary>What the incident is: only with the change that opened (or imported) it.</summary>
    [Id(0)] public IncidentIdentity? Identity { get; init; }
    [Id(5)] public required IncidentProgress Progress { get; init; }
    /// <summary>Alerts that joined, whole.</summary>
    [Id(1)] public List<IncidentAlert>? Attached { get; init; }
    /// <summary>Alerts already held whose progress changed (fired again, repeated, resolved, expired).</summary>
    [Id(2)] public List<AlertProgress>? Updated { get; init; }
    /// <summary>Escalation, pending notifications, SLA clocks and tickets, serialized whole when any of them changed.</summary>
    [Id(3)] public byte[]? Extras { get; init; }
    /// <summary>Notification outcomes recorded.</summary>
    [Id(4)] public List<NotificationOutcome>? Outcomes { get; init; }
    /// <summary>Alerts that left (split out into another incident), by fingerprint.</summary>
    [Id(6)] public List<string>? Detached { get; init; }
}

/// <summary>What an incident is, which never changes after it opened.</summary>
[GenerateSerializer, Immutable, Alias("orleansops.incident-identity.v1")]
public sealed record IncidentIdentity
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string AccountId { get; init; }
    [Id(2)] public required string Service { get; init; }
    [Id(3)] public bool ServiceDeclared { get; init; }
    [Id(4)] public required string GroupKey { get; init; }
    [Id(5)] public required string Title { get; init; }
    [Id(6)] public DateTimeOffset OpenedAt { get; init; }
    /// <summary>The nodes an imported incident names (see <see cref="IncidentState.ImportedNodes"/>).</summary>
    [Id(7)] public IReadOnlyList<string>? ImportedNodes { get; init; }
}

/// <summary>Where an incident stands: its own fields that change, small enough to travel with every change.</summary>
[GenerateSerializer, Immutable, Alias("orleansops.incident-progress.v1")]
public sealed record IncidentProgress
{
    [Id(0)] public Severity Severity { get; init; }
    [Id(1)] public IncidentStatus Status { get; init; }
    [Id(2)] public DateTimeOffset StartedAt { get; init; }
    [Id(3)] public DateTimeOffset? AcknowledgedAt { get; init; }
    [Id(4)] public string? AcknowledgedBy { get; init; }
    [Id(5)] public DateTimeOffset? ResolvedAt { get; init; }
    [Id(6)] public string? ResolvedBy { get; init; }
    [Id(7)] public DateTimeOffset? ReopenedAt { get; init; }
    [Id(8)] public DateTimeOffset? FirstAcknowledgedAt { get; init; }
    [Id(9)] public long ChronicleSeq { get; init; }
    [Id(10)] public required string ChronicleHash { get; init; }
    [Id(11)] public int Escalations { get; init; }
    [Id(12)] public long TicketEntrySeq { get; init; }
    [Id(13)] public SlaCorrection? SlaCorrection { get; init; }
    [Id(14)] public string? MergedInto { get; init; }
}

/// <summary>Where one alert of an incident stands: everything about it that changes after it joined.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("orleansops.alert-progress.v1")]
public sealed record AlertProgress
{
    [Id(0)] public required string Fingerprint { get; init; }
    [Id(1)] public AlertStatus Status { get; init; }
    [Id(2)] public DateTimeOffset StartsAt { get; init; }
    [Id(3)] public DateTimeOffset? EndsAt { get; init; }
    [Id(4)] public DateTimeOffset LastSeen { get; init; }
    [Id(5)] public long Count { get; init; }
    [Id(6)] public int Occurrences { get; init; }
    [Id(7)] public DateTimeOffset? ExpiresAt { get; init; }
    [Id(8)] public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    [Id(9)] public IReadOnlyList<AlertLink> Links { get; init; } = [];
}

/// <summary>The parts of an incident that only escalation, notification, SLA clocks and ticket sync change.</summary>
[GenerateSerializer, Alias("orleansops.incident-extras.v1")]
public sealed class IncidentExtras
{
    [Id(0)] public required EscalationProgress Escalation { get; init; }
    [Id(1)] public required List<PendingNotification> PendingNotifications { get; init; }
    [Id(2)] public required List<SlaClock> Clocks { get; init; }
    [Id(3)] public required List<TicketSync> Tickets { get; init; }
}

public sealed partial class IncidentState
{
    /// <summary>The incident's identity went with a change already (or came with the state loaded).</summary>
    [NonSerialized] private bool _identityTaken;

    /// <summary>Whether anything changed since the last <see cref="TakeChange"/>, repeats aside.</summary>
    public bool HasChanges => _recorded is { Count: > 0 } || _attached.Count > 0 || _updated.Count > 0 || _newOutcomes is { Count: > 0 } || _detached.Count > 0;

    /// <summary>Whether alerts fired again while firing (their count and last-seen moved) since the last change taken with them.</summary>
    public bool HasRepeats => _repeated.Count > 0;

    /// <summary>The escalation, notification, clock and ticket parts, as <see cref="IncidentChange.Extras"/> carries them.</summary>
    public IncidentExtras Extras => new() { Escalation = Escalation, PendingNotifications = PendingNotifications, Clocks = Clocks, Tickets = Tickets };

    public IncidentIdentity Identity => new()
    {
        Id = Id!,
        AccountId = AccountId,
        Service = Service,
        ServiceDeclared = ServiceDeclared,
        GroupKey = GroupKey,
        Title = Title,
        OpenedAt = OpenedAt,
        ImportedNodes = ImportedNodes.Count > 0 ? ImportedNodes : null,
    };

    public IncidentProgress Progress => new()
    {
        Severity = Severity,
        Status = Status,
        StartedAt = StartedAt,
        AcknowledgedAt = AcknowledgedAt,
        AcknowledgedBy = AcknowledgedBy,
        ResolvedAt = ResolvedAt,
        ResolvedBy = ResolvedBy,
        ReopenedAt = ReopenedAt,
        FirstAcknowledgedAt = FirstAcknowledgedAt,
        ChronicleSeq = ChronicleSeq,
        ChronicleHash = ChronicleHash,
        Escalations = Escalations,
        TicketEntrySeq = TicketEntrySeq,
        SlaCorrection = SlaCorrection,
        MergedInto = MergedInto,
    };

    /// <summary>
    /// Takes what changed since the last call: the change to journal and the chronicle entries it recorded. Repeats
    /// (an alert firing again while it fires) go with it only when <paramref name="withRepeats"/>; otherwise they wait
    /// for a later change. <paramref name="extras"/> is set by the caller when the escalation, notification, clock or
    /// ticket parts changed (it compares their serialized form).
    /// </summary>
    public (IncidentChange Change, IReadOnlyList<ChronicleEntry> Chronicle) TakeChange(bool withRepeats, byte[]? extras)
    {
        var updated = _updated.Count > 0 || withRepeats && _repeated.Count > 0
            ? _updated.Concat(withRepeats ? _repeated : []).Select(fingerprint => ProgressOf(Alerts[fingerprint])).ToList()
            : null;
        var change = new IncidentChange
        {
            Identity = _identityTaken ? null : Identity,
            Progress = Progress,
            Attached = _attached.Count > 0 ? [.. _attached] : null,
            Updated = updated,
            Extras = extras,
            Outcomes = _newOutcomes is { Count: > 0 } ? _newOutcomes : null,
            Detached = _detached.Count > 0 ? [.. _detached] : null,
        };
        _detached.Clear();
        _identityTaken = true;
        IReadOnlyList<ChronicleEntry> recorded = _recorded ?? [];
        _recorded = null;
        _newOutcomes = null;
        _attached.Clear();
        _updated.Clear();
        if (withRepeats) _repeated.Clear();
        return (change, recorded);
    }

    /// <summary>Replays a change taken by <see cref="TakeChange"/>; <paramref name="extras"/> is its <see cref="IncidentChange.Extras"/>, read back.</summary>
    public void Apply(IncidentChange change, IncidentExtras? extras)
    {
        if (change.Identity is { } i)
        {
            (Id, AccountId, Service, ServiceDeclared, GroupKey, Title, OpenedAt) = (i.Id, i.AccountId, i.Service, i.ServiceDeclared, i.GroupKey, i.Title, i.OpenedAt);
            ImportedNodes = i.ImportedNodes ?? [];
        }
        var p = change.Progress;
        (Severity, Status, StartedAt, AcknowledgedAt, AcknowledgedBy, ResolvedAt, ResolvedBy, ReopenedAt, FirstAcknowledgedAt) =
            (p.Severity, p.Status, p.StartedAt, p.AcknowledgedAt, p.AcknowledgedBy, p.ResolvedAt, p.ResolvedBy, p.ReopenedAt, p.FirstAcknowledgedAt);
        (ChronicleSeq, ChronicleHash, Escalations, TicketEntrySeq) = (p.ChronicleSeq, p.ChronicleHash, p.Escalations, p.TicketEntrySeq);
        SlaCorrection = p.SlaCorrection;
        MergedInto = p.MergedInto;
        _identityTaken = true;
        foreach (var fingerprint in change.Detached ?? []) Alerts.Remove(fingerprint);
        foreach (var alert in change.Attached ?? []) Alerts[alert.Fingerprint] = alert;
        foreach (var progress in change.Updated ?? [])
        {
            if (!Alerts.TryGetValue(progress.Fingerprint, out var alert)) continue;
            alert.Status = progress.Status;
            alert.StartsAt = progress.StartsAt;
            alert.EndsAt = progress.EndsAt;
            alert.LastSeen = progress.LastSeen;
            alert.Count = progress.Count;
            alert.Occurrences = progress.Occurrences;
            alert.ExpiresAt = progress.ExpiresAt;
            alert.Refresh(progress.Annotations, progress.Links);
        }
        if (extras is not null)
        {
            Escalation = extras.Escalation;
            PendingNotifications = extras.PendingNotifications;
            Clocks = extras.Clocks;
            Tickets = extras.Tickets;
        }
        foreach (var outcome in change.Outcomes ?? []) AddOutcome(outcome);
    }

    private static AlertProgress ProgressOf(IncidentAlert alert) => new()
    {
        Fingerprint = alert.Fingerprint,
        Status = alert.Status,
        StartsAt = alert.StartsAt,
        EndsAt = alert.EndsAt,
        LastSeen = alert.LastSeen,
        Count = alert.Count,
        Occurrences = alert.Occurrences,
        ExpiresAt = alert.ExpiresAt,
        Annotations = alert.Annotations,
        Links = alert.Links,
    };
}
