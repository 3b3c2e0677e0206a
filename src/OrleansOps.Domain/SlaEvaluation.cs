namespace OrleansOps.Domain;

/// <summary>How one response or resolution commitment stands: the incidents of the last 30 days that met or missed it, and the trend.</summary>
[GenerateSerializer, Immutable]
public sealed record ClockSloReport
{
    [Id(0)] public required string Slo { get; init; }
    [Id(1)] public required ClockKind Kind { get; init; }
    [Id(2)] public required Severity Severity { get; init; }
    [Id(3)] public required TimeSpan Limit { get; init; }
    [Id(4)] public required DateTimeOffset WindowStart { get; init; }
    [Id(5)] public required DateTimeOffset WindowEnd { get; init; }
    [Id(6)] public required int Incidents { get; init; }
    [Id(7)] public required int Met { get; init; }
    [Id(8)] public required int Breached { get; init; }
    /// <summary>Open incidents whose clock runs, with their deadlines.</summary>
    [Id(9)] public required IReadOnlyList<RunningClock> Running { get; init; }
    [Id(10)] public required DriftResult Drift { get; init; }
    [Id(11)] public required SloHealth Status { get; init; }
    /// <summary>Met ÷ (met + breached), in percent; null before any incident completed or missed.</summary>
    [Id(12)] public double? CompliancePercent { get; init; }
}

/// <summary>An incident whose count against the SLOs an operator corrected, and how.</summary>
[GenerateSerializer, Immutable]
public sealed record CorrectedIncident(
    [property: Id(0)] string IncidentId, [property: Id(1)] string Title, [property: Id(2)] string Service, [property: Id(3)] Severity Severity,
    [property: Id(4)] DateTimeOffset StartedAt, [property: Id(5)] DateTimeOffset? ResolvedAt, [property: Id(6)] SlaCorrection Correction);

[GenerateSerializer, Immutable]
public sealed record RunningClock([property: Id(0)] string IncidentId, [property: Id(1)] DateTimeOffset Deadline);

/// <summary>Every commitment of an account at one instant.</summary>
[GenerateSerializer, Immutable]
public sealed record SlaSnapshot
{
    [Id(0)] public required DateTimeOffset At { get; init; }
    [Id(1)] public required IReadOnlyList<AvailabilityReport> Availability { get; init; }
    [Id(2)] public required IReadOnlyList<ClockSloReport> Clocks { get; init; }
    /// <summary>The worst status of every SLO.</summary>
    [Id(3)] public required SloHealth Status { get; init; }
    /// <summary>The next instant an availability SLO changes status if the current burn goes on (for the account's timer).</summary>
    [Id(4)] public DateTimeOffset? NextTransitionAt { get; init; }
    /// <summary>Whether any open incident burns budget now (the account keeps a reminder while it does).</summary>
    [Id(5)] public bool Burning { get; init; }
    /// <summary>The incidents of the windows evaluated whose count an operator corrected, oldest first.</summary>
    [Id(6)] public IReadOnlyList<CorrectedIncident> Corrections { get; init; } = [];

    /// <summary>The SLO with the least budget left, in minutes (for the fleet's ranking); null without availability SLOs.</summary>
    public double? LowestRemainingMinutes => Tightest?.RemainingMinutes;

    /// <summary>The availability SLO with the least budget left; null without availability SLOs.</summary>
    public AvailabilityReport? Tightest => Availability.MinBy(a => a.RemainingMinutes);
}

public static class SlaEvaluation
{
    /// <summary>Response and resolution commitments are measured over the incidents opened in the last 30 days.</summary>
    public static readonly TimeSpan ClockWindow = TimeSpan.FromDays(30);

    /// <summary>How many completed incidents the drift trend looks at.</summary>
    public const int DriftWindow = 10;

    /// <param name="clockPeriod">The incidents whose response and resolution clocks count: by default those opened in the last 30 days.</param>
    public static SlaSnapshot Evaluate(AccountConfig config, IReadOnlyCollection<IncidentSummary> incidents, DateTimeOffset now, TimeRange? clockPeriod = null)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(config.TimeZone);
        var ledger = SlaLedger.From(incidents);
        var availability = Commitments(config).Select(slo =>
        {
            var window = AvailabilityMath.Window(slo, zone, now);
            var longestLookBack = now - TimeSpan.FromDays(3);
            var range = new TimeRange(window.Start < longestLookBack ? window.Start : longestLookBack, now);
            return AvailabilityMath.Evaluate(slo, zone, For(slo, ledger), SlaLedger.MaintenanceOf(config, range), now);
        }).ToList();
        var clockRange = clockPeriod ?? new TimeRange(now - ClockWindow, now);
        var clocks = Clocks(config.Sla, zone, incidents, now, clockRange).ToList();
        var statuses = availability.Select(a => a.Status).Concat(clocks.Select(c => c.Status)).ToList();
        var earliest = availability.Select(a => a.WindowStart).Append(clockRange.Start).Min();
        return new SlaSnapshot
        {
            At = now,
            Availability = availability,
            Clocks = clocks,
            Status = statuses.Count == 0 ? SloHealth.Healthy : statuses.Max(),
            NextTransitionAt = availability.Select(a => a.NextTransitionAt).Where(t => t is not null).Min(),
            Burning = availability.Any(a => a.CurrentBurnWeight > 0),
            Corrections = incidents.Where(i => i.SlaCorrection is not null && (i.ResolvedAt ?? now) >= earliest && i.StartedAt <= now)
                .OrderBy(i => i.StartedAt)
                .Select(i => new CorrectedIncident(i.Id, i.Title, i.Service, i.Severity, i.StartedAt, i.ResolvedAt, i.SlaCorrection!))
                .ToList(),
        };
    }

    /// <summary>Each availability commitment's budget burn-down over its current window, <paramref name="points"/> instants each.</summary>
    public static IReadOnlyList<BurnDownSeries> BurnDown(AccountConfig config, IReadOnlyCollection<IncidentSummary> incidents, DateTimeOffset now, int points)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(config.TimeZone);
        var ledger = SlaLedger.From(incidents);
        return Commitments(config).Select(slo =>
        {
            var window = AvailabilityMath.Window(slo, zone, now);
            return AvailabilityMath.BurnDown(slo, zone, For(slo, ledger), SlaLedger.MaintenanceOf(config, new TimeRange(window.Start, now)), now, points);
        }).ToList();
    }

    /// <summary>The records that count for <paramref name="slo"/>: the ledger itself unless an operator left some out of it.</summary>
    private static IReadOnlyList<ImpactRecord> For(AvailabilitySlo slo, IReadOnlyList<ImpactRecord> ledger) =>
        ledger.All(r => r.Correction is null) ? ledger : ledger.Where(r => r.CountsFor(slo.Name)).ToList();

    /// <summary>The availability SLOs as commitments: per-node uptime makes each node one of its own (named "&lt;slo&gt;:&lt;node&gt;").</summary>
    private static IEnumerable<AvailabilitySlo> Commitments(AccountConfig config) =>
        config.Sla.Availability.SelectMany(slo => slo.Nodes.Count <= 1 ? [slo]
            : slo.Nodes.Select(node => slo with { Name = $"{slo.Name}:{node}", Nodes = [node] }));

    private static IEnumerable<ClockSloReport> Clocks(SlaContract contract, TimeZoneInfo zone, IReadOnlyCollection<IncidentSummary> incidents, DateTimeOffset now, TimeRange period)
    {
        var from = period.Start;
        foreach (var (kind, limits) in new[] { (ClockKind.Response, contract.Response), (ClockKind.Resolution, contract.Resolution) })
        {
            foreach (var (severity, limit) in limits.OrderBy(l => l.Key))
            {
                var name = $"{severity.ToWire()}-{kind.ToString().ToLowerInvariant()}";
                var ofSeverity = incidents.Where(i => i.Severity == severity && i.SlaCorrection?.ExcludesFrom(name) != true).ToList();
                var inWindow = ofSeverity.Where(i => i.OpenedAt >= from && i.OpenedAt < period.End && i.OpenedAt <= now).ToList();
                // Business time when the contract counts it so: a took-time is compared with the limit on the same clock.
                TimeSpan? Took(IncidentSummary i) => Done(kind, i) is { } done ? contract.Elapsed(severity, i.OpenedAt, done, zone) : null;
                var taken = inWindow.Select(i => (Incident: i, Took: Took(i), Deadline: contract.Deadline(severity, i.OpenedAt, limit, zone))).ToList();
                var met = taken.Count(t => t.Took is { } took && took <= limit);
                var breached = taken.Count(t => t.Took is { } took ? took > limit : now > t.Deadline);
                var running = taken.Where(t => t.Took is null && now <= t.Deadline)
                    .Select(t => new RunningClock(t.Incident.Id, t.Deadline))
                    .OrderBy(r => r.Deadline).ToList();
                var completed = ofSeverity.Select(i => (Done: Done(kind, i), Took: Took(i)))
                    .Where(c => c.Done is not null).OrderBy(c => c.Done).TakeLast(DriftWindow)
                    .Select(c => c.Took!.Value.TotalMinutes).ToList();
                var drift = Drift.Detect(completed, limit.TotalMinutes);
                var warned = taken.Any(t => t.Took is null && now <= t.Deadline
                    && now >= contract.Deadline(severity, t.Incident.OpenedAt, limit, zone, SlaClocks.WarnAtFraction));
                yield return new ClockSloReport
                {
                    Slo = name,
                    Kind = kind,
                    Severity = severity,
                    Limit = limit,
                    WindowStart = from,
                    WindowEnd = period.End,
                    Incidents = inWindow.Count,
                    Met = met,
                    Breached = breached,
                    Running = running,
                    Drift = drift,
                    Status = breached > 0 ? SloHealth.Breached : warned || drift.Drifting ? SloHealth.AtRisk : SloHealth.Healthy,
                    CompliancePercent = met + breached == 0 ? null : 100.0 * met / (met + breached),
                };
            }
        }
    }

    /// <summary>When the clock stopped: the first acknowledgement (or, for one resolved unacknowledged, its resolution), or the resolution.</summary>
    private static DateTimeOffset? Done(ClockKind kind, IncidentSummary incident) =>
        kind == ClockKind.Response ? incident.FirstAcknowledgedAt ?? incident.AcknowledgedAt ?? incident.ResolvedAt : incident.ResolvedAt;
}
