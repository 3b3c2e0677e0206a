namespace OrleansOps.Abstractions;

[GenerateSerializer, Immutable]
public sealed record KeyBinding
{
    [Id(0)] public required string AccountId { get; init; }
    [Id(1)] public required string KeyName { get; init; }
    [Id(2)] public string? DefaultService { get; init; }
}

/// <summary>Where a configuration came from: a file (with its content hash, so an unchanged file is not re-applied), the API or opsctl.</summary>
[GenerateSerializer, Immutable]
public sealed record ConfigSource([property: Id(0)] string Kind, [property: Id(1)] string? Path, [property: Id(2)] string? ContentHash)
{
    public static ConfigSource Api { get; } = new("api", null, null);
    public static ConfigSource File(string path, string contentHash) => new("file", path, contentHash);
    /// <summary>A file an operator applied with <c>opsctl config apply</c>: like the API, applied every time, whatever it held before.</summary>
    public static ConfigSource Opsctl(string fileName, string contentHash) => new("opsctl", fileName, contentHash);
}

[GenerateSerializer, Immutable]
public sealed record ConfigResult
{
    [Id(0)] public required bool Applied { get; init; }
    [Id(1)] public required long Version { get; init; }
    [Id(2)] public IReadOnlyList<string> Errors { get; init; } = [];
    [Id(3)] public bool Created { get; init; }
    /// <summary>The <see cref="ConfigPrecondition"/> did not hold: nothing changed, and <see cref="Version"/> is the current one.</summary>
    [Id(4)] public bool PreconditionFailed { get; init; }
    /// <summary>Whether the account had a configuration when the write was judged.</summary>
    [Id(5)] public bool Existed { get; init; }
    /// <summary>The configuration was the one applied already: nothing was written, and <see cref="Version"/> is the current one.</summary>
    [Id(6)] public bool Unchanged { get; init; }
}

/// <summary>
/// A condition on a configuration write (HTTP If-Match / If-None-Match), judged by the account grain in the same turn
/// as the write, so that of two writers holding the same version only the first applies.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ConfigPrecondition
{
    /// <summary>The write applies only while the configuration is at one of these versions (If-Match with entity tags).</summary>
    [Id(0)] public IReadOnlyList<long>? IfVersionIn { get; init; }
    /// <summary>The write applies only to an account that has a configuration (If-Match: *).</summary>
    [Id(1)] public bool IfExists { get; init; }
    /// <summary>The write applies only to an account that has none yet (If-None-Match: *).</summary>
    [Id(2)] public bool IfNew { get; init; }

    public bool HoldsFor(bool exists, long version) =>
        (!IfExists || exists)
        && (!IfNew || !exists)
        && (IfVersionIn is null || exists && IfVersionIn.Contains(version));
}

/// <summary>
/// What ingest needs to normalize the alerts a key sends (their service, whether it is declared), as of one version of
/// the account's configuration: the web tier keeps it, and the correlator says when it is stale.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Routing
{
    [Id(0)] public required long Version { get; init; }
    [Id(1)] public required IReadOnlyList<string> DeclaredServices { get; init; }
    /// <summary>The service of alerts that name none, as the account's configuration gives it for the key.</summary>
    [Id(2)] public string? KeyDefaultService { get; init; }
    /// <summary>The labels that name an alert's service, in order (<see cref="AccountConfig.ServiceLabels"/>).</summary>
    [Id(3)] public IReadOnlyList<string> ServiceLabels { get; init; } = AccountConfig.DefaultServiceLabels;
    /// <summary>The labels that name an alert's node, in order (<see cref="AccountConfig.NodeLabels"/>).</summary>
    [Id(4)] public IReadOnlyList<string> NodeLabels { get; init; } = NodeLabel.Names;
}

/// <summary>The account's configuration as correlation uses it: its version, and the silences that have not ended.</summary>
[GenerateSerializer, Immutable]
public sealed record CorrelationSettings([property: Id(0)] long Version, [property: Id(1)] AccountConfig Config, [property: Id(2)] IReadOnlyList<Silence> Silences)
{
    /// <summary>Whether the account holds the key whose SHA-256 is given (asked per batch; the routing only when it is stale).</summary>
    public bool Holds(string keySha256)
    {
        foreach (var key in Config.IntegrationKeys)
            if (key.KeySha256 == keySha256) return true;
        return false;
    }

    /// <summary>How the alerts of the key whose SHA-256 is given are normalized; null when the account does not hold it.</summary>
    public Routing? RoutingFor(string keySha256) =>
        Config.IntegrationKeys.FirstOrDefault(k => k.KeySha256 == keySha256) is { } key
            ? new Routing
            {
                Version = Version,
                DeclaredServices = Config.Services.Select(s => s.Id).ToList(),
                KeyDefaultService = key.DefaultService,
                ServiceLabels = Config.ServiceLabels,
                NodeLabels = Config.NodeLabels,
            }
            : null;
}

/// <summary>One ingest request's alerts for one account, normalized under <see cref="RoutingVersion"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestBatch(
    [property: Id(0)] string KeySha256, [property: Id(1)] long RoutingVersion, [property: Id(2)] IReadOnlyList<NormalizedAlert> Alerts);

/// <summary>What became of a batch: a receipt per alert, in the batch's order; or why it was not taken.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestResult
{
    [Id(0)] public IReadOnlyList<AlertReceipt>? Receipts { get; init; }
    /// <summary>The batch was normalized under another version of the configuration: normalize it again under this one.</summary>
    [Id(1)] public Routing? Stale { get; init; }
    /// <summary>The account does not hold the key (any longer).</summary>
    [Id(2)] public bool UnknownKey { get; init; }
}

/// <summary>A service's correlation counters.</summary>
[GenerateSerializer, Immutable]
public sealed record ServiceCorrelation([property: Id(0)] string Service, [property: Id(1)] CorrelationCounters Counters);

[GenerateSerializer, Immutable]
public sealed record AccountView
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string Tier { get; init; }
    [Id(3)] public required string TimeZone { get; init; }
    [Id(4)] public required IReadOnlyList<ServiceDefinition> Services { get; init; }
    [Id(5)] public required IReadOnlyList<string> UndeclaredServices { get; init; }
    [Id(6)] public required int OpenIncidents { get; init; }
    [Id(7)] public required int TotalIncidents { get; init; }
    [Id(8)] public required long ConfigVersion { get; init; }
    [Id(9)] public required string ConfigSource { get; init; }
    [Id(10)] public DateTimeOffset? ConfiguredAt { get; init; }
}

[GenerateSerializer]
public enum IncidentStatusFilter
{
    All = 0,
    Open = 1,
    Triggered = 2,
    Acknowledged = 3,
    Resolved = 4,
}

[GenerateSerializer, Immutable]
public sealed record IncidentPage([property: Id(0)] IReadOnlyList<IncidentSummary> Items, [property: Id(1)] string? Next);

/// <summary>What became of one alert of a batch, in the batch's order.</summary>
[GenerateSerializer, Immutable]
public sealed record AlertReceipt
{
    [Id(0)] public required string Fingerprint { get; init; }
    [Id(1)] public string? IncidentId { get; init; }
    [Id(2)] public required AlertOutcome Outcome { get; init; }
    [Id(3)] public bool OpenedIncident { get; init; }
    /// <summary>Set when a silence or maintenance window held the alert back.</summary>
    [Id(4)] public SuppressionReason? SuppressedBy { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record AlertDelivery
{
    [Id(0)] public required IncidentOrigin Origin { get; init; }
    [Id(1)] public required IReadOnlyList<NormalizedAlert> Alerts { get; init; }
    /// <summary>For each alert, why correlation sent it here (null for repeats and resolves).</summary>
    [Id(2)] public IReadOnlyList<string?> Rules { get; init; } = [];
    /// <summary>For each alert, the relations that lost to its rule, if any (see <see cref="Route.Considered"/>).</summary>
    [Id(4)] public IReadOnlyList<IReadOnlyList<string>?> Considered { get; init; } = [];
    /// <summary>For each alert, whether it opens the incident again (a flapping alert back soon after it ended it); empty when none does.</summary>
    [Id(5)] public IReadOnlyList<bool> Reopens { get; init; } = [];
    /// <summary>
    /// The caller's journal (<see cref="IJournal.Instance"/>). When it is the incident's own, the incident answers once it
    /// has appended its change, with the flush to wait for, and the caller waits for it once for all its incidents.
    /// </summary>
    [Id(3)] public string? Journal { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record DeliveryResult
{
    [Id(0)] public required IncidentStatus Status { get; init; }
    [Id(1)] public required IReadOnlyList<AlertOutcome> Outcomes { get; init; }
    /// <summary>The incident's summary after the delivery, for the account's index; null when only repeats came (nothing it shows changed).</summary>
    [Id(2)] public IncidentSummary? Summary { get; init; }
    /// <summary>The flush of the caller's journal that makes this delivery durable, which the caller waits for (0: none).</summary>
    [Id(3)] public long Flush { get; init; }
}

[GenerateSerializer]
public enum CommandOutcome
{
    Applied = 0,
    Unchanged = 1,
    Conflict = 2,
    NotFound = 3,
}

/// <summary>Not [Immutable]: it carries an <see cref="IncidentView"/>, which must be copied at the grain boundary.</summary>
[GenerateSerializer]
public sealed record CommandResult
{
    [Id(0)] public required CommandOutcome Outcome { get; init; }
    [Id(1)] public string? Message { get; init; }
    [Id(2)] public IncidentView? Incident { get; init; }
}

/// <summary>Alerts one incident hands to another (a merge, a split), with how the asking went. Not [Immutable]: copied at the grain boundary.</summary>
[GenerateSerializer]
public sealed record IncidentHandOver([property: Id(0)] CommandResult Result, [property: Id(1)] IReadOnlyList<IncidentAlert> Alerts);

/// <summary>
/// An incident as readers see it. Not [Immutable]: its alerts are the grain's own records, so Orleans copies
/// them at the grain boundary and a reader never shares objects the grain goes on changing.
/// </summary>
[GenerateSerializer]
public sealed record IncidentView
{
    [Id(0)] public required IncidentSummary Summary { get; init; }
    [Id(1)] public required string GroupKey { get; init; }
    [Id(2)] public string? AcknowledgedBy { get; init; }
    [Id(3)] public string? ResolvedBy { get; init; }
    [Id(4)] public required IReadOnlyList<IncidentAlert> Alerts { get; init; }
    [Id(5)] public required int ChronicleEntries { get; init; }
    [Id(6)] public EscalationView Escalation { get; init; } = EscalationView.None;
    /// <summary>How each notification ended, undeliverable ones included.</summary>
    [Id(7)] public IReadOnlyList<NotificationOutcome> Notifications { get; init; } = [];
    /// <summary>Notifications waiting for their time or for the receiver.</summary>
    [Id(8)] public int PendingNotifications { get; init; }
    /// <summary>Its tickets in ServiceNow and Jira, and how their sync stands (a failing one says why).</summary>
    [Id(9)] public IReadOnlyList<TicketView> Tickets { get; init; } = [];
    /// <summary>How many alerts the incident holds; <see cref="Alerts"/> may be only the first of them.</summary>
    [Id(10)] public int AlertCount { get; init; }

    /// <summary>The incident, with at most <paramref name="alerts"/> of its alerts (the first to join).</summary>
    public static IncidentView Of(IncidentState state, int alerts) => new()
    {
        Escalation = EscalationView.Of(state.Escalation, state.Status),
        Notifications = state.Notifications.ToList(),
        PendingNotifications = state.PendingNotifications.Count,
        Tickets = state.Tickets.Select(t => new TicketView(t.System, t.TicketKey, t.SyncedSeq, t.Failures, t.LastError, t.Stuck, t.RetryAt)).ToList(),
        Summary = state.Summarize(),
        GroupKey = state.GroupKey,
        AcknowledgedBy = state.AcknowledgedBy,
        ResolvedBy = state.ResolvedBy,
        ChronicleEntries = (int)state.ChronicleSeq,
        Alerts = state.AlertsFrom(0).Take(alerts).ToList(),
        AlertCount = state.Alerts.Count,
    };
}

/// <summary>Where an incident stands in its escalation policy.</summary>
[GenerateSerializer, Immutable]
public sealed record EscalationView
{
    public static readonly EscalationView None = new() { Assignees = [] };

    /// <summary>Null until the policy was looked up, or when none applies.</summary>
    [Id(0)] public string? Policy { get; init; }
    /// <summary>The level that fires next, from 1; null when nothing is due (acknowledged, resolved, exhausted).</summary>
    [Id(1)] public int? NextLevel { get; init; }
    [Id(2)] public DateTimeOffset? NextAt { get; init; }
    [Id(3)] public int Round { get; init; }
    [Id(4)] public DateTimeOffset? AckTimeoutAt { get; init; }
    [Id(5)] public required IReadOnlyList<string> Assignees { get; init; }
    [Id(6)] public bool Exhausted { get; init; }

    public static EscalationView Of(EscalationProgress progress, IncidentStatus status)
    {
        var levels = progress.Policy?.Levels.Count ?? 0;
        var waiting = status == IncidentStatus.Triggered && progress.NextAt is not null;
        return new EscalationView
        {
            Policy = progress.Policy?.Id,
            NextLevel = waiting ? progress.NextLevel + 1 : null,
            NextAt = waiting ? progress.NextAt : null,
            Round = progress.Round + 1,
            AckTimeoutAt = status == IncidentStatus.Acknowledged ? progress.AckTimeoutAt : null,
            Assignees = progress.Assignees.ToList(),
            Exhausted = levels > 0 && progress.NextLevel >= levels,
        };
    }
}

[GenerateSerializer]
public enum SlaEventKind
{
    /// <summary>An SLO's status changed.</summary>
    Status = 0,
    /// <summary>A burn-rate episode began: a pair of windows fires.</summary>
    BurnStarted = 1,
    /// <summary>The episode ended: no pair fires any more.</summary>
    BurnEnded = 2,
}

[GenerateSerializer, Immutable]
public sealed record SlaEvent
{
    [Id(0)] public required DateTimeOffset At { get; init; }
    [Id(1)] public required string Slo { get; init; }
    [Id(2)] public required SlaEventKind Kind { get; init; }
    [Id(3)] public SloHealth? From { get; init; }
    [Id(4)] public required SloHealth To { get; init; }
    [Id(5)] public string? Detail { get; init; }
    /// <summary>Whom the account told (its <c>sla.notify</c> targets as reached), for status changes to at-risk or breached and burn episodes.</summary>
    [Id(6)] public IReadOnlyList<string> Notified { get; init; } = [];
}

/// <summary>An account as the fleet sees it.</summary>
[GenerateSerializer, Immutable]
public sealed record FleetEntry
{
    [Id(0)] public required string AccountId { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required SloHealth Status { get; init; }
    /// <summary>Whole minutes of budget left in the account's tightest availability SLO; null without one.</summary>
    [Id(3)] public double? RemainingMinutes { get; init; }
    /// <summary>That SLO's name and whole budget in minutes, for a gauge of what is left.</summary>
    [Id(4)] public string? TightestSlo { get; init; }
    [Id(5)] public double? BudgetMinutes { get; init; }
    /// <summary>When that SLO's budget runs out at the current burn; null while it does not burn.</summary>
    [Id(6)] public DateTimeOffset? ExhaustedAt { get; init; }
    /// <summary>Open incidents by severity.</summary>
    [Id(7)] public SeverityCounts Open { get; init; }
    /// <summary>The largest service credit the account's availability SLOs owe in their windows now, in percent.</summary>
    [Id(8)] public double CreditPercent { get; init; }
    /// <summary>Median time to acknowledge and to resolve of the incidents opened in the last 30 days, in minutes.</summary>
    [Id(9)] public double? MttaMinutes { get; init; }
    [Id(10)] public double? MttrMinutes { get; init; }
    /// <summary>Whether some severity's median is over the target its contract sets.</summary>
    [Id(11)] public bool MttaOverTarget { get; init; }
    [Id(12)] public bool MttrOverTarget { get; init; }
}

/// <summary>A count per severity.</summary>
[GenerateSerializer, Immutable]
public readonly record struct SeverityCounts([property: Id(0)] int Sev1, [property: Id(1)] int Sev2, [property: Id(2)] int Sev3, [property: Id(3)] int Sev4)
{
    public static SeverityCounts Of(IEnumerable<Severity> severities)
    {
        var counts = new int[4];
        foreach (var severity in severities) counts[(int)severity - (int)Severity.Sev1]++;
        return new(counts[0], counts[1], counts[2], counts[3]);
    }
}

/// <summary>An account as /metrics shows it: its incidents by status, the tickets it cannot write, and budget left per SLO.</summary>
[GenerateSerializer, Immutable]
public sealed record AccountGauges(
    [property: Id(0)] IReadOnlyDictionary<IncidentStatus, int> Incidents,
    [property: Id(1)] int TicketsFailing,
    [property: Id(2)] IReadOnlyList<BudgetGauge> Budgets);

/// <summary>One availability SLO's error budget left: in minutes, and as a share of the whole (negative once overspent).</summary>
[GenerateSerializer, Immutable]
public sealed record BudgetGauge([property: Id(0)] string Slo, [property: Id(1)] double RemainingMinutes, [property: Id(2)] double RemainingRatio);

/// <summary>A page of the fleet by risk; <see cref="More"/> when entries follow the last one.</summary>
[GenerateSerializer, Immutable]
public sealed record FleetPage([property: Id(0)] IReadOnlyList<FleetEntry> Items, [property: Id(1)] int Total, [property: Id(2)] bool More);

/// <summary>An incident's ticket in one system: its key once created, the last chronicle entry written to it, and any failure.</summary>
[GenerateSerializer, Immutable]
public sealed record TicketView(
    [property: Id(0)] TicketSystem System, [property: Id(1)] string? Key, [property: Id(2)] long SyncedSeq, [property: Id(3)] int Failures,
    [property: Id(4)] string? LastError, [property: Id(5)] bool Stuck, [property: Id(6)] DateTimeOffset? RetryAt);
