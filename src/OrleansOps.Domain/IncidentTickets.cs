namespace OrleansOps.Domain;

/// <summary>
/// How far an incident's ticket in one system is in step with its chronicle: the ticket, the last chronicle entry
/// written to it, and the failure streak. The chronicle is the outbox: every entry after <see cref="SyncedSeq"/> that
/// belongs on a ticket is still to be written, in order, and survives restarts with the incident.
/// </summary>
[GenerateSerializer]
public sealed class TicketSync
{
    [Id(0)] public required TicketSystem System { get; init; }
    /// <summary>ServiceNow's sys_id or Jira's issue id; null until the ticket exists.</summary>
    [Id(1)] public string? TicketId { get; set; }
    /// <summary>What people call it: the INC number or the issue key.</summary>
    [Id(2)] public string? TicketKey { get; set; }
    [Id(3)] public long SyncedSeq { get; set; }
    [Id(4)] public int Failures { get; set; }
    [Id(5)] public DateTimeOffset? RetryAt { get; set; }
    [Id(6)] public string? LastError { get; set; }
    /// <summary>The last write failed in a way that may have reached the system (a timeout, a 5xx): look before writing it again.</summary>
    [Id(7)] public bool Unsure { get; set; }
    /// <summary>A failure that retrying cannot cure (bad credentials, a refused field): the sync waits for an operator.</summary>
    [Id(8)] public bool Stuck { get; set; }
    /// <summary>Until when a sync worker holds this outbox (one worker at a time); past it, a new worker may take over.</summary>
    [Id(9)] public DateTimeOffset? LeasedUntil { get; set; }
    [Id(10)] public string? LeaseHolder { get; set; }
}

[GenerateSerializer]
public enum TicketWorkKind
{
    /// <summary>Find the incident's ticket (it may exist from an attempt whose answer was lost), else create it.</summary>
    Create = 0,
    Note = 1,
    Transition = 2,
}

[GenerateSerializer]
public enum TicketState
{
    Acknowledged = 0,
    Resolved = 1,
}

/// <summary>The next write an incident owes one ticket system.</summary>
[GenerateSerializer, Immutable]
public sealed record TicketWork
{
    [Id(0)] public required TicketSystem System { get; init; }
    [Id(1)] public required TicketWorkKind Kind { get; init; }
    [Id(2)] public required string IncidentId { get; init; }
    [Id(3)] public string? TicketId { get; init; }
    [Id(4)] public string? TicketKey { get; init; }
    /// <summary>The chronicle entry this writes (0 for the creation).</summary>
    [Id(5)] public long Seq { get; init; }
    /// <summary>The note (with its <see cref="Marker"/>), or the creation's description.</summary>
    [Id(6)] public required string Text { get; init; }
    [Id(7)] public TicketState? State { get; init; }
    /// <summary>Whether an earlier attempt may have landed: find the marker (or the ticket) before writing.</summary>
    [Id(8)] public bool LookFirst { get; init; }
    [Id(9)] public string? Marker { get; init; }
    [Id(10)] public required string Title { get; init; }
    [Id(11)] public required Severity Severity { get; init; }
}

public sealed partial class IncidentState
{
    [Id(25)] public List<TicketSync> Tickets { get; set; } = [];

    /// <summary>Entries that are about the ticket sync itself never go on the ticket (they would feed themselves).</summary>
    public static bool BelongsOnTicket(ChronicleEntry entry) => entry.Kind is
        ChronicleKinds.Acknowledged or ChronicleKinds.Resolved or ChronicleKinds.Reopened or ChronicleKinds.Note
        or ChronicleKinds.Escalated or ChronicleKinds.Reassigned or ChronicleKinds.AckTimedOut or ChronicleKinds.Retriggered
        or ChronicleKinds.NotificationDelivered or ChronicleKinds.NotificationFailed or ChronicleKinds.SeverityChanged
        or ChronicleKinds.SlaWarning or ChronicleKinds.SlaBreached or ChronicleKinds.StakeholdersUpdated;

    /// <summary>The marker a note carries, so that a note whose write may have landed can be found before it is written again.</summary>
    public string TicketMarker(long seq) => $"[OrleansOps {Id} #{seq}]";

    /// <summary>Starts a sync for each system the account configures and the incident does not sync yet; returns whether any started.</summary>
    public bool StartTicketSync(ItsmSettings itsm, DateTimeOffset now)
    {
        var started = false;
        foreach (var system in Systems(itsm).Where(s => Tickets.All(t => t.System != s)))
        {
            Tickets.Add(new TicketSync { System = system });
            started = true;
        }
        return started;
    }

    /// <summary>
    /// The next write owed to <paramref name="system"/> at <paramref name="now"/>, or null when in step, stuck or waiting to
    /// retry. <paramref name="chronicle"/> holds the chronicle entries after the system's last written one (at least up to
    /// the first that belongs on a ticket); the incident itself keeps only the chronicle's head.
    /// </summary>
    public TicketWork? NextTicketWork(TicketSystem system, DateTimeOffset now, IEnumerable<ChronicleEntry> chronicle)
    {
        if (Tickets.FirstOrDefault(t => t.System == system) is not { } sync || !WorkDue(sync, now)) return null;
        if (sync.TicketId is null)
        {
            return new TicketWork
            {
                System = system, Kind = TicketWorkKind.Create, IncidentId = Id!, Text = TicketDescription(), LookFirst = true,
                Title = $"[{Severity.ToWire().ToUpperInvariant()}] {Title}", Severity = Severity,
            };
        }
        var entry = chronicle.FirstOrDefault(e => e.Seq > sync.SyncedSeq && BelongsOnTicket(e));
        if (entry is null) return null;
        var marker = TicketMarker(entry.Seq);
        TicketState? state = entry.Kind switch
        {
            ChronicleKinds.Acknowledged => TicketState.Acknowledged,
            ChronicleKinds.Resolved => TicketState.Resolved,
            _ => null,
        };
        return new TicketWork
        {
            System = system,
            Kind = state is null ? TicketWorkKind.Note : TicketWorkKind.Transition,
            IncidentId = Id!,
            TicketId = sync.TicketId,
            TicketKey = sync.TicketKey,
            Seq = entry.Seq,
            Text = $"{entry.At:yyyy-MM-dd HH:mm:ss}Z {entry.Actor}: {entry.Text} {marker}",
            State = state,
            LookFirst = sync.Unsure,
            Marker = marker,
            Title = Title,
            Severity = Severity,
        };
    }

    /// <summary>The ticket exists (created now, or found from an earlier attempt).</summary>
    public void TicketCreated(TicketSystem system, string ticketId, string ticketKey, bool found, DateTimeOffset now)
    {
        var sync = Tickets.First(t => t.System == system);
        sync.TicketId = ticketId;
        sync.TicketKey = ticketKey;
        Succeeded(sync);
        Record(now, ChronicleKinds.TicketCreated, "itsm", $"{(found ? "Found" : "Created")} {system} ticket {ticketKey}",
            new Dictionary<string, string> { ["system"] = system.ToString(), ["ticket"] = ticketKey, ["ticketId"] = ticketId });
    }

    /// <summary>The entry <paramref name="seq"/> is on the ticket (written now, or found there by its marker).</summary>
    public void TicketWritten(TicketSystem system, long seq)
    {
        var sync = Tickets.First(t => t.System == system);
        if (seq > sync.SyncedSeq) sync.SyncedSeq = seq;
        Succeeded(sync);
    }

    /// <summary>
    /// A write failed: retried after a back-off (1 s doubling to 30 min) or the system's Retry-After, or stuck until an
    /// operator acts when retrying cannot help. The first failure of a streak goes on the chronicle, so the incident shows it.
    /// </summary>
    public void TicketFailed(TicketSystem system, string error, bool retryable, TimeSpan? retryAfter, DateTimeOffset now, TimeSpan jiraSearchLag)
    {
        var sync = Tickets.First(t => t.System == system);
        sync.Failures++;
        sync.LastError = error;
        sync.Unsure |= retryable;
        sync.Stuck = !retryable;
        var backOff = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, sync.Failures - 1), TimeSpan.FromMinutes(30).TotalSeconds));
        sync.RetryAt = retryable ? now + (retryAfter > backOff ? retryAfter.Value : backOff) : null;
        if (retryable) WaitUntilSearchable(sync, now, jiraSearchLag);
        if (sync.Failures == 1 || !retryable)
            Record(now, ChronicleKinds.TicketFailed, "itsm",
                retryable ? $"{system} ticket sync failed ({error}); retrying" : $"{system} ticket sync stopped: {error}",
                new Dictionary<string, string> { ["system"] = system.ToString(), ["error"] = error });
    }

    /// <summary>When a ticket sync needs the incident again: its retry, or, while a worker holds it, the end of the lease (the worker may be gone).</summary>
    public DateTimeOffset? NextTicketRetry
    {
        get
        {
            DateTimeOffset? next = null;
            foreach (var sync in Tickets)
                if (!sync.Stuck) next = Earliest(next, sync.LeasedUntil ?? sync.RetryAt);
            return next;
        }
    }

    /// <summary>Whether <paramref name="sync"/> owes a write at <paramref name="now"/>: its ticket, or an entry after the last one written.</summary>
    private bool WorkDue(TicketSync sync, DateTimeOffset now) =>
        !sync.Stuck && !(sync.RetryAt > now) && (sync.TicketId is null || sync.SyncedSeq < TicketEntrySeq);

    /// <summary>Whether some system has a write due that no worker holds.</summary>
    public bool TicketWorkDue(DateTimeOffset now) => Tickets.Any(t => !(t.LeasedUntil > now) && WorkDue(t, now));

    /// <summary>
    /// After which chronicle entry the writes <paramref name="holder"/> may take next begin (the lowest last-written entry
    /// of the systems it holds or nobody holds that owe a note); null when none of them needs the chronicle.
    /// </summary>
    public long? TicketChronicleNeededAfter(string holder, DateTimeOffset now) =>
        Tickets.Where(t => (t.LeaseHolder == holder || !(t.LeasedUntil > now)) && t.TicketId is not null && WorkDue(t, now))
            .Select(t => (long?)t.SyncedSeq).Min();

    /// <summary>
    /// The writes due now, one per system that <paramref name="holder"/> holds or nobody holds, leased to it until
    /// <paramref name="leaseUntil"/>; the systems it holds that are in step are released. Another worker's lease is
    /// left alone until it runs out, so two workers never write the same entry. <paramref name="chronicle"/>: the
    /// entries after <see cref="TicketChronicleNeededAfter"/>.
    /// </summary>
    public IReadOnlyList<TicketWork> LeaseTicketWork(string holder, DateTimeOffset now, DateTimeOffset leaseUntil, IEnumerable<ChronicleEntry> chronicle)
    {
        var work = new List<TicketWork>();
        foreach (var sync in Tickets.Where(t => t.LeaseHolder == holder || !(t.LeasedUntil > now)))
        {
            var next = NextTicketWork(sync.System, now, chronicle);
            sync.LeasedUntil = next is null ? null : leaseUntil;
            sync.LeaseHolder = next is null ? null : holder;
            if (next is not null) work.Add(next);
        }
        return work;
    }

    /// <summary>
    /// A new activation voids the leases of the last one (its worker may have died mid-write): each leased sync is free
    /// again, and its next write looks first, since the last one may have landed.
    /// </summary>
    public void ReleaseTicketLeases(DateTimeOffset now, TimeSpan jiraSearchLag)
    {
        foreach (var sync in Tickets.Where(t => t.LeaseHolder is not null))
        {
            sync.LeaseHolder = null;
            sync.LeasedUntil = null;
            sync.Unsure = true;
            WaitUntilSearchable(sync, now, jiraSearchLag);
        }
    }

    /// <summary>
    /// A creation whose answer never came may have made the ticket all the same. ServiceNow's table answers a read at
    /// once, but Jira's search finds a new issue only once it is indexed: looking before then would miss it and create a
    /// second, so the look waits out <paramref name="jiraSearchLag"/>.
    /// </summary>
    private static void WaitUntilSearchable(TicketSync sync, DateTimeOffset now, TimeSpan jiraSearchLag)
    {
        if (sync.System != TicketSystem.Jira || sync.TicketId is not null || jiraSearchLag <= TimeSpan.Zero) return;
        var searchable = now + jiraSearchLag;
        if (!(sync.RetryAt >= searchable)) sync.RetryAt = searchable;
    }

    /// <summary>Leases the systems with writes due to a new worker, <paramref name="holder"/>; false when there is nothing for it.</summary>
    public bool LeaseToNewWorker(string holder, DateTimeOffset now, DateTimeOffset leaseUntil)
    {
        var leased = false;
        foreach (var sync in Tickets.Where(t => !(t.LeasedUntil > now) && WorkDue(t, now)))
        {
            (sync.LeasedUntil, sync.LeaseHolder) = (leaseUntil, holder);
            leased = true;
        }
        return leased;
    }

    private static void Succeeded(TicketSync sync)
    {
        sync.Failures = 0;
        sync.RetryAt = null;
        sync.LastError = null;
        sync.Unsure = false;
    }

    private string TicketDescription() =>
        $"{Title}\nService: {Service}\nSeverity: {Severity.ToWire()}\nOpened: {OpenedAt:yyyy-MM-dd HH:mm:ss}Z\nOrleansOps incident {Id}";

    private static IEnumerable<TicketSystem> Systems(ItsmSettings itsm)
    {
        if (itsm.ServiceNow is not null) yield return TicketSystem.ServiceNow;
        if (itsm.Jira is not null) yield return TicketSystem.Jira;
    }
}
