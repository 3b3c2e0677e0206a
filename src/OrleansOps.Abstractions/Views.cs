namespace OrleansOps.Abstractions;

// The shapes readers get, over HTTP and from opsctl --json alike.

public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

public sealed record IncidentResponse(
    string Id, string Account, string Service, bool ServiceDeclared, string Title, Severity Severity, IncidentStatus Status,
    DateTimeOffset OpenedAt, DateTimeOffset StartedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt, string? ResolvedBy, string GroupKey, int ChronicleEntries, IReadOnlyList<IncidentAlert> Alerts,
    EscalationView Escalation, IReadOnlyList<NotificationOutcome> Notifications, int PendingNotifications, IReadOnlyList<TicketView> Tickets,
    int AlertCount, SlaCorrection? SlaCorrection, string? MergedInto)
{
    public static IncidentResponse Of(IncidentView view) => new(
        view.Summary.Id, view.Summary.AccountId, view.Summary.Service, view.Summary.ServiceDeclared, view.Summary.Title,
        view.Summary.Severity, view.Summary.Status, view.Summary.OpenedAt, view.Summary.StartedAt,
        view.Summary.AcknowledgedAt, view.AcknowledgedBy, view.Summary.ResolvedAt, view.ResolvedBy, view.GroupKey,
        view.ChronicleEntries, view.Alerts, view.Escalation, view.Notifications, view.PendingNotifications, view.Tickets, view.AlertCount,
        view.Summary.SlaCorrection, view.Summary.MergedInto);
}

public sealed record IncidentListItem(
    string Id, string Account, string Service, bool ServiceDeclared, string Title, Severity Severity, IncidentStatus Status,
    DateTimeOffset OpenedAt, DateTimeOffset StartedAt, DateTimeOffset? AcknowledgedAt, DateTimeOffset? ResolvedAt,
    int AlertCount, int FiringAlertCount, string? MergedInto)
{
    public static IncidentListItem Of(IncidentSummary s) => new(
        s.Id, s.AccountId, s.Service, s.ServiceDeclared, s.Title, s.Severity, s.Status, s.OpenedAt, s.StartedAt,
        s.AcknowledgedAt, s.ResolvedAt, s.AlertCount, s.FiringAlertCount, s.MergedInto);
}

/// <summary>One SLO as readers see it; the fields of the other kinds are null.</summary>
public sealed record SloView(
    string Id, string Kind, SloHealth Status, DateTimeOffset WindowStart, DateTimeOffset WindowEnd,
    double? Target, double? Sli, double? BudgetMinutes, double? DowntimeMinutes, double? RemainingMinutes, double? Consumed,
    IReadOnlyDictionary<string, double>? BurnRates, IReadOnlyList<string>? BurnAlerts, double? TimeToExhaustionMinutes, DateTimeOffset? ExhaustedAt,
    HeadroomView? Headroom, double? CreditPercent, DateTimeOffset? NextTransitionAt,
    string? Limit, int? Incidents, int? Met, int? Breached, IReadOnlyList<RunningClock>? Running, DriftResult? Drift)
{
    public static SloView Of(AvailabilityReport a) => new(
        a.Slo, "availability", a.Status, a.WindowStart, a.WindowEnd, a.Target, Math.Round(a.SliPercent, 4), a.BudgetMinutes, a.DowntimeMinutes,
        a.RemainingMinutes, a.Consumed, a.BurnRates, a.FiringBurnAlerts.Select(b => b.Name).ToList(), a.TimeToExhaustion?.TotalMinutes, a.ExhaustedAt,
        new HeadroomView(a.HeadroomMedian, a.HeadroomP90, a.MedianImpactMinutes, a.P90ImpactMinutes, a.OneMoreMedianBreaches),
        a.CreditPercent, a.NextTransitionAt, null, null, null, null, null, null);

    public static SloView Of(ClockSloReport c) => new(
        c.Slo, c.Kind.ToString().ToLowerInvariant(), c.Status, c.WindowStart, c.WindowEnd, null, c.CompliancePercent, null, null, null, null,
        null, null, null, null, null, null, null, Durations.Format(c.Limit), c.Incidents, c.Met, c.Breached, c.Running, c.Drift);

    /// <summary>Every SLO of a snapshot: the availability ones, then the response and resolution clocks.</summary>
    public static IReadOnlyList<SloView> All(SlaSnapshot snapshot) =>
        snapshot.Availability.Select(Of).Concat(snapshot.Clocks.Select(Of)).ToList();
}

public sealed record HeadroomView(double? Median, double? P90, double? MedianImpactMinutes, double? P90ImpactMinutes, bool OneMoreMedianIncidentBreaches);

/// <summary>An account's commitments now, with its latest SLA transitions newest first.</summary>
public sealed record SlaResponse(string Account, DateTimeOffset At, SloHealth Status, IReadOnlyList<SloView> Slos, IReadOnlyList<SlaEvent> RecentEvents,
    IReadOnlyList<CorrectedIncident> Corrections)
{
    public const int RecentEventCount = 50;

    public static SlaResponse Of(string accountId, SlaSnapshot snapshot, IReadOnlyList<SlaEvent> events) =>
        new(accountId, snapshot.At, snapshot.Status, SloView.All(snapshot), events.TakeLast(RecentEventCount).Reverse().ToList(), snapshot.Corrections);
}

/// <summary>
/// An account's month: each SLO as its own calendar window with its credit, the KPIs per severity, the incidents behind
/// them (every one whose impact overlaps the month), and those whose count an operator corrected.
/// </summary>
public sealed record SlaReport(string Account, string Name, string Period, DateTimeOffset From, DateTimeOffset To, bool Closed,
    IReadOnlyList<SloView> Slos, IReadOnlyList<KpiView> Kpis, IReadOnlyList<CorrectedIncident> Corrections, IReadOnlyList<IncidentTimes> Incidents);

/// <summary>Every account's report for one month, for the operator: what each owes and how each did.</summary>
public sealed record FleetReport(string Period, IReadOnlyList<SlaReport> Accounts);

/// <summary>The KPI targets the SLA implies (its response and resolution windows times the KPI buffer); null where it sets none.</summary>
public sealed record KpiTargets(double? MttaMinutes, double? MttrMinutes);

public sealed record KpiView(string Severity, KpiReport Kpis, KpiTargets Targets)
{
    public static KpiView Of(AccountConfig config, IReadOnlyList<IncidentTimes> times, Severity severity, TimeRange period) => new(
        severity.ToWire(), Domain.Kpis.Compute(times, severity, period), new KpiTargets(
            config.Sla.Response.TryGetValue(severity, out var respond) ? Domain.Kpis.Target(respond, config.Sla.KpiBuffer).TotalMinutes : null,
            config.Sla.Resolution.TryGetValue(severity, out var resolve) ? Domain.Kpis.Target(resolve, config.Sla.KpiBuffer).TotalMinutes : null));
}

public sealed record KpisResponse(string Account, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<KpiView> Severities, KpiReport All, double? NoiseReduction);

public sealed record OnCallResponse(string Account, string Schedule, string TimeZone, DateTimeOffset At, IReadOnlyList<string> OnCall, IReadOnlyList<OnCallShift> Shifts);

public sealed record SilenceView(
    string Id, IReadOnlyList<string> Matchers, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string CreatedBy, string Comment,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiredAt, string? ExpiredBy, string State)
{
    public static SilenceView Of(Silence s, DateTimeOffset now) => new(
        s.Id, s.Matchers.Select(m => m.ToString()).ToList(), s.StartsAt, s.EndsAt, s.CreatedBy, s.Comment, s.CreatedAt, s.ExpiredAt, s.ExpiredBy, s.StateAt(now));
}

/// <summary>Correlation counters summed over some correlators; noise reduction = 1 − incidents opened ÷ firing alert events.</summary>
public sealed record CountersView(
    long Received, long FiringEvents, long Deduplicated, long Suppressed, long Grouped, long IncidentsOpened,
    long Resolved, long Unmatched, double? NoiseReduction)
{
    public static CountersView Of(IEnumerable<CorrelationCounters> counters)
    {
        var all = counters.ToList();
        var firing = all.Sum(c => c.FiringEvents);
        var opened = all.Sum(c => c.IncidentsOpened);
        return new CountersView(all.Sum(c => c.Received), firing, all.Sum(c => c.Deduplicated), all.Sum(c => c.Suppressed),
            all.Sum(c => c.Grouped), opened, all.Sum(c => c.Resolved), all.Sum(c => c.Unmatched),
            firing == 0 ? null : Math.Round(1 - (double)opened / firing, 4));
    }
}

public sealed record ServiceCounters(string Service, CountersView Counters);

public sealed record AccountCountersView(string Account, CountersView Total, IReadOnlyList<ServiceCounters> Services)
{
    public static AccountCountersView Of(string accountId, IReadOnlyList<(string Service, CorrelationCounters Counters)> services) => new(
        accountId, CountersView.Of(services.Select(s => s.Counters)), services.Select(s => new ServiceCounters(s.Service, CountersView.Of([s.Counters]))).ToList());
}

/// <summary>
/// A heartbeat and where it stands: <c>waiting</c> (configured, no ping yet), <c>up</c>, or <c>missed</c> (its alert
/// fires since <see cref="MissedAt"/>); <see cref="Deadline"/> is when it is missed unless a ping comes first. Durations
/// read as in the configuration (<c>24h</c>, <c>1m</c>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HeartbeatView(
    [property: Id(0)] string Name, [property: Id(1)] string Status, [property: Id(2)] string Interval, [property: Id(3)] string Grace,
    [property: Id(4)] Severity Severity, [property: Id(5)] string Service, [property: Id(6)] string? Alert, [property: Id(7)] DateTimeOffset Since,
    [property: Id(8)] DateTimeOffset? LastPing, [property: Id(9)] long Pings, [property: Id(10)] DateTimeOffset? Deadline, [property: Id(11)] DateTimeOffset? MissedAt)
{
    public static HeartbeatView Of(HeartbeatDefinition definition, HeartbeatStatus status) => new(
        definition.Name, status.MissedAt is not null ? "missed" : status.LastPing is null ? "waiting" : "up",
        Durations.Format(definition.Interval), Durations.Format(definition.Grace),
        definition.Severity, definition.ServiceOrName, definition.Alert, status.Since, status.LastPing, status.Pings,
        status.MissedAt is null ? status.DeadlineFor(definition) : null, status.MissedAt);
}
