namespace OrleansOps.Domain;

/// <summary>
/// A span of time that includes <see cref="Start"/> and excludes <see cref="End"/>, so that back-to-back ranges share
/// no instant and nothing on a boundary is counted twice. A range whose end is not after its start is empty.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TimeRange([property: Id(0)] DateTimeOffset Start, [property: Id(1)] DateTimeOffset End)
{
    /// <summary>The length; zero for an empty range.</summary>
    public TimeSpan Length => End > Start ? End - Start : TimeSpan.Zero;

    public bool Contains(DateTimeOffset at) => Start <= at && at < End;
}

/// <summary>
/// One incident as the SLA ledger sees it: its service, the nodes it touched, its severity (which gives its impact
/// weight), when its impact began (the first firing alert's startsAt, or the open time) and when it ended (the
/// resolve time). <see cref="End"/> is null while the incident is open: it burns budget until <i>now</i>, whatever
/// now is when the ledger is read.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ImpactRecord(
    [property: Id(0)] string IncidentId,
    [property: Id(1)] string Service,
    [property: Id(2)] IReadOnlyList<string> Nodes,
    [property: Id(3)] Severity Severity,
    [property: Id(4)] DateTimeOffset Start,
    [property: Id(5)] DateTimeOffset? End,
    [property: Id(6)] bool MoreNodes = false,
    [property: Id(7)] SlaCorrection? Correction = null)
{
    public bool IsOpen => End is null;

    /// <summary>Whether the record counts for <paramref name="slo"/>: an operator may have left its incident out.</summary>
    public bool CountsFor(string slo) => Correction?.ExcludesFrom(slo) != true;
}

/// <summary>
/// Where an SLO stands. Ordered by gravity, so that a fleet view can sort on it: breached (the budget is spent),
/// at-risk (one more typical incident spends it, or a burn-rate alert fires), healthy.
/// </summary>
[GenerateSerializer]
public enum SloHealth
{
    Healthy = 0,
    AtRisk = 1,
    Breached = 2,
}

/// <summary>
/// One multi-window burn-rate alert: it fires while the burn rate over both <see cref="Long"/> and <see cref="Short"/>
/// is at least <see cref="Threshold"/>. The long window makes it significant (a real share of the budget is gone), the
/// short one makes it current (the burn is still going on, so the alert stops soon after the incident ends).
/// <see cref="Page"/> tells a page (wake someone) from a ticket.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record BurnAlert(
    [property: Id(0)] string Name,
    [property: Id(1)] double Threshold,
    [property: Id(2)] TimeSpan Long,
    [property: Id(3)] TimeSpan Short,
    [property: Id(4)] bool Page);

/// <summary>The burn-rate alerts OrleansOps evaluates and the look-back windows it reports.</summary>
public static class BurnAlerts
{
    /// <summary>
    /// The Google SRE Workbook's recommended pairs for a 30-day budget ("Alerting on SLOs"): a threshold t over a long
    /// window L spends t × L ÷ 30 d of the budget before it fires — 14.4 × 1 h is 2 %, 6 × 6 h is 5 %, 1 × 3 d is 10 %.
    /// Each short window is 1/12 of its long one. Ordered fastest first: while a faster pair fires, a slower one adds
    /// nothing a responder does not already know, so one burn episode should notify once.
    /// </summary>
    public static readonly IReadOnlyList<BurnAlert> Pairs =
    [
        new("page-1h", 14.4, TimeSpan.FromHours(1), TimeSpan.FromMinutes(5), Page: true),
        new("page-6h", 6, TimeSpan.FromHours(6), TimeSpan.FromMinutes(30), Page: true),
        new("ticket-3d", 1, TimeSpan.FromDays(3), TimeSpan.FromHours(6), Page: false),
    ];

    /// <summary>Every look-back window of <see cref="Pairs"/>, shortest first; reports key them 5m, 30m, 1h, 6h, 3d.</summary>
    public static readonly IReadOnlyList<TimeSpan> Windows =
        Pairs.SelectMany(p => new[] { p.Long, p.Short }).Distinct().Order().ToList();

    /// <summary>The key of a look-back window in <see cref="AvailabilityReport.BurnRates"/>: 5m, 30m, 1h, 6h, 3d.</summary>
    public static string Key(TimeSpan window) => Durations.Format(window);
}

/// <summary>
/// One availability SLO evaluated at an instant. Minutes are real minutes of weighted downtime (a sev2 at weight 0.5
/// down for ten minutes is five minutes of downtime); percentages are 0–100.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AvailabilityReport
{
    /// <summary>The SLO's name.</summary>
    [Id(0)] public required string Slo { get; init; }
    /// <summary>The target in percent, e.g. 99.95.</summary>
    [Id(1)] public required double Target { get; init; }
    /// <summary>Where the window starts (inclusive).</summary>
    [Id(2)] public required DateTimeOffset WindowStart { get; init; }
    /// <summary>Where the window ends: <i>now</i> for a rolling window, the start of the next month for a calendar month.</summary>
    [Id(3)] public required DateTimeOffset WindowEnd { get; init; }
    /// <summary>100 × (1 − downtime ÷ window length). For a calendar month the length is the whole month's.</summary>
    [Id(4)] public required double SliPercent { get; init; }
    /// <summary>(1 − target ÷ 100) × window length, in minutes.</summary>
    [Id(5)] public required double BudgetMinutes { get; init; }
    /// <summary>Weighted downtime inside the window up to now, maintenance excluded when the SLO says so.</summary>
    [Id(6)] public required double DowntimeMinutes { get; init; }
    /// <summary>Budget − downtime; negative once the budget is overspent.</summary>
    [Id(7)] public required double RemainingMinutes { get; init; }
    /// <summary>Downtime ÷ budget: 1 is the whole budget, above 1 an overspend.</summary>
    [Id(8)] public required double Consumed { get; init; }
    /// <summary>Burn rate per look-back window, keyed 5m, 30m, 1h, 6h, 3d.</summary>
    [Id(9)] public required IReadOnlyDictionary<string, double> BurnRates { get; init; }
    /// <summary>The pairs of <see cref="BurnAlerts.Pairs"/> that fire now, fastest first.</summary>
    [Id(10)] public required IReadOnlyList<BurnAlert> FiringBurnAlerts { get; init; }
    /// <summary>Minutes of downtime each minute adds right now: the largest weight among open in-scope incidents (0 if none, or inside excluded maintenance).</summary>
    [Id(11)] public required double CurrentBurnWeight { get; init; }
    /// <summary>Remaining ÷ current burn weight; zero when nothing remains; null when nothing burns.</summary>
    [Id(12)] public TimeSpan? TimeToExhaustion { get; init; }
    /// <summary>Now + <see cref="TimeToExhaustion"/>.</summary>
    [Id(13)] public DateTimeOffset? ExhaustedAt { get; init; }
    /// <summary>Nearest-rank median of the weighted impact of the ledger's resolved in-scope incidents; null when there are none.</summary>
    [Id(14)] public double? MedianImpactMinutes { get; init; }
    /// <summary>Nearest-rank 90th percentile of the same impacts.</summary>
    [Id(15)] public double? P90ImpactMinutes { get; init; }
    /// <summary>Remaining ÷ median impact: how many more incidents of median impact the budget absorbs.</summary>
    [Id(16)] public double? HeadroomMedian { get; init; }
    /// <summary>Remaining ÷ p90 impact.</summary>
    [Id(17)] public double? HeadroomP90 { get; init; }
    /// <summary>Whether one more incident of median impact would spend the budget: remaining ≤ median impact.</summary>
    [Id(18)] public required bool OneMoreMedianBreaches { get; init; }
    [Id(19)] public required SloHealth Status { get; init; }
    /// <summary>The credit the schedule gives for the SLI so far (for a calendar month, final once the month ends).</summary>
    [Id(20)] public required double CreditPercent { get; init; }
    /// <summary>
    /// When the status changes next if the current burn goes on: healthy → at-risk when the remaining budget falls to
    /// the median impact (or → breached at exhaustion when no median is known), at-risk → breached at exhaustion. Null
    /// when breached or when nothing burns. Like <see cref="ExhaustedAt"/> it assumes nothing else changes, and it does
    /// not foresee a burn pair starting or stopping: re-evaluate when the ledger changes and when this instant comes.
    /// </summary>
    [Id(21)] public DateTimeOffset? NextTransitionAt { get; init; }
}

/// <summary>
/// The error-budget arithmetic of an availability SLO, as pure functions of the SLO, the incident ledger, the
/// maintenance calendar and <i>now</i> (DESIGN §6; docs/sla-math.md works every formula through by hand).
/// </summary>
/// <remarks>
/// Time is counted in ticks (100 ns) and weighted time in <see cref="decimal"/>, and the target's error fraction is
/// taken in decimal as well (1 − 99.95 ÷ 100 is exactly 0.0005 there, not 0.000499999… as in binary floating point).
/// So every comparison that decides a status or an alert — downtime against budget, a burn rate against its threshold,
/// the remaining budget against the median impact — is exact: at the boundary the condition holds, one tick short of
/// it it does not. Reports carry the results as <see cref="double"/>.
/// </remarks>
/// <summary>The error budget left at one instant of a window.</summary>
[GenerateSerializer, Immutable]
public sealed record BudgetPoint([property: Id(0)] DateTimeOffset At, [property: Id(1)] double RemainingMinutes);

/// <summary>An availability SLO's budget burn-down over its current window (<see cref="AvailabilityMath.BurnDown"/>).</summary>
[GenerateSerializer, Immutable]
public sealed record BurnDownSeries(
    [property: Id(0)] string Slo, [property: Id(1)] double BudgetMinutes, [property: Id(2)] DateTimeOffset WindowStart,
    [property: Id(3)] DateTimeOffset WindowEnd, [property: Id(4)] IReadOnlyList<BudgetPoint> Points);

public static class AvailabilityMath
{
    /// <summary>The window name of a calendar-month SLO; any other window is a duration such as <c>30d</c>.</summary>
    public const string CalendarMonth = "calendar-month";

    /// <summary>
    /// The SLO's window at <paramref name="now"/>. A rolling window (a duration such as <c>30d</c>) is
    /// [now − duration, now]. A calendar month is [local midnight of the 1st of the current month, local midnight of
    /// the 1st of the next month) in <paramref name="zone"/>; its length is the real time between those instants, so a
    /// month with a spring-forward change is an hour short (March 2026 in America/Chicago: 743 h) and one with a
    /// fall-back change an hour long (November 2026 there: 721 h). A midnight that a DST change skips means the first
    /// instant after the gap. Throws <see cref="ArgumentException"/> for a window that is neither.
    /// </summary>
    public static TimeRange Window(AvailabilitySlo slo, TimeZoneInfo zone, DateTimeOffset now)
    {
        if (slo.Window == CalendarMonth)
        {
            var local = TimeZoneInfo.ConvertTime(now, zone).DateTime;
            var first = new DateTime(local.Year, local.Month, 1, 0, 0, 0, DateTimeKind.Unspecified);
            return new TimeRange(WallClock.Resolve(first, zone), WallClock.Resolve(first.AddMonths(1), zone));
        }
        if (Durations.TryParse(slo.Window, out var length)) return new TimeRange(now - length, now);
        throw new ArgumentException($"'{slo.Window}' is neither a duration such as 30d nor {CalendarMonth}", nameof(slo));
    }

    /// <summary>
    /// Whether an incident counts against the SLO: no services listed means every service, otherwise the record's
    /// service must be listed (ordinal comparison); when nodes are listed the record must have touched at least one of
    /// them. To commit uptime per node, evaluate the SLO once per node with <c>Nodes = [node]</c>. An incident that
    /// touched more nodes than its summary names (a failure spreading over a fleet) counts against every node.
    /// </summary>
    public static bool InScope(AvailabilitySlo slo, ImpactRecord record) =>
        (slo.Services.Count == 0 || slo.Services.Contains(record.Service, StringComparer.Ordinal))
        && (slo.Nodes.Count == 0 || record.MoreNodes || record.Nodes.Any(n => slo.Nodes.Contains(n, StringComparer.Ordinal)));

    /// <summary>
    /// Weighted downtime in minutes: ∫ max weight(t) dt over <paramref name="within"/>, where weight(t) is the largest
    /// weight of the impacts whose range covers t (0 where none does, and 0 inside any of
    /// <paramref name="exclusions"/>). Overlapping impacts never count twice: where a sev1 (weight 1) and a sev2
    /// (weight 0.5) overlap, the minute counts 1, not 1.5. Ranges are [start, end); impacts with a weight that is not a
    /// positive finite number count nothing, and a weight above 1 counts as 1 (nothing is more than a full outage).
    /// </summary>
    public static double DowntimeMinutes(IEnumerable<(TimeRange Range, double Weight)> impacts, TimeRange within, IEnumerable<TimeRange> exclusions) =>
        Minutes(WeightedTicks(impacts, within, exclusions));

    /// <summary>
    /// The credit owed for an SLI of <paramref name="sliPercent"/>: the largest credit among the tiers whose
    /// <see cref="CreditTier.Below"/> the SLI is strictly under, 0 when none is. With tiers &lt;99.95 → 10,
    /// &lt;99.0 → 25, &lt;95.0 → 100: 99.8 gives 10, 98.7 gives 25, exactly 99.95 gives 0.
    /// </summary>
    public static double CreditPercent(IReadOnlyList<CreditTier> tiers, double sliPercent)
    {
        var credit = 0.0;
        foreach (var tier in tiers)
            if (sliPercent < tier.Below && tier.Credit > credit) credit = tier.Credit;
        return credit;
    }

    /// <summary>
    /// Evaluates <paramref name="slo"/> at <paramref name="now"/> over <paramref name="ledger"/> (any order; records of
    /// other scopes are skipped) with <paramref name="maintenance"/> as the occurrences of the maintenance windows that
    /// apply to the SLO, expanded to ranges by the caller.
    /// <list type="bullet">
    /// <item>Window W per <see cref="Window"/>; budget B = (1 − target ÷ 100) × |W| (the whole month for a calendar month).</item>
    /// <item>An in-scope record's impact is [Start, End ?? now) at weight <see cref="AvailabilitySlo.WeightOf"/> of its
    /// severity. Downtime D = <see cref="DowntimeMinutes"/> over [W.start, min(now, W.end)), excluding maintenance when
    /// <see cref="AvailabilitySlo.ExcludeMaintenance"/>.</item>
    /// <item>SLI = 100 × (1 − D ÷ |W|); remaining = B − D; consumed = D ÷ B.</item>
    /// <item>Burn rate over L = downtime in [now − L, now) ÷ ((1 − target ÷ 100) × L), for L in 5m, 30m, 1h, 6h, 3d
    /// (not clipped to the window: a burn that began last month still burns). A pair fires when both its rates are
    /// ≥ its threshold.</item>
    /// <item>Current burn weight w = the largest weight of in-scope open records that started by now, 0 inside excluded
    /// maintenance. Time to exhaustion = remaining ÷ w (null for w = 0, zero when remaining ≤ 0), rounded up to the
    /// tick so that at <see cref="AvailabilityReport.ExhaustedAt"/> the budget is spent and one tick before it is not.
    /// It assumes nothing else changes, so on a rolling window (old downtime leaving the window) or ahead of a
    /// maintenance window the real exhaustion can only come later: re-evaluate at that instant.</item>
    /// <item>Impact of a resolved in-scope record = (End − Start) × weight, whole (not clipped to the window, no
    /// overlap or maintenance taken off); records of weight 0 or no duration are not impacts. Median and p90 by
    /// nearest rank over the whole ledger; headroom = remaining ÷ impact.</item>
    /// <item>Breached when D ≥ B; else at-risk when remaining ≤ median impact or a burn pair fires; else healthy.</item>
    /// <item>Next transition, while w &gt; 0: healthy → at-risk at now + (remaining − median) ÷ w (rounded up to the
    /// tick), or at exhaustion when no median is known; at-risk → breached at exhaustion; none when breached.</item>
    /// <item>Credit per <see cref="CreditPercent"/> of the SLI.</item>
    /// </list>
    /// Throws <see cref="ArgumentException"/> when the target is not strictly between 0 and 100 or the window is
    /// unknown (<see cref="AccountConfig.Validate"/> refuses both).
    /// </summary>
    public static AvailabilityReport Evaluate(AvailabilitySlo slo, TimeZoneInfo zone, IReadOnlyList<ImpactRecord> ledger, IReadOnlyList<TimeRange> maintenance, DateTimeOffset now) =>
        Evaluate(slo, zone, ledger, _ => maintenance, now);

    /// <summary>
    /// As above, with the maintenance that applies to each record (its own service's and node's windows): a window on
    /// one service never hides another service's downtime. Each record is cut around its maintenance before the union.
    /// </summary>
    public static AvailabilityReport Evaluate(AvailabilitySlo slo, TimeZoneInfo zone, IReadOnlyList<ImpactRecord> ledger,
        Func<ImpactRecord, IReadOnlyList<TimeRange>> maintenanceOf, DateTimeOffset now)
    {
        if (!(slo.Target > 0 && slo.Target < 100))
            throw new ArgumentException($"target {slo.Target} must be a percentage strictly between 0 and 100", nameof(slo));
        var errorFraction = 1m - (decimal)slo.Target / 100m;
        var window = Window(slo, zone, now);
        var budget = errorFraction * (window.End - window.Start).Ticks;

        var scoped = Scoped(slo, ledger, maintenanceOf);
        var pieces = Pieces(scoped, now);
        var impacts = pieces.Select(p => (p.Range, p.Weight)).ToList();
        IReadOnlyList<TimeRange> exclusions = [];

        var counted = new TimeRange(window.Start, now < window.End ? now : window.End);
        var downtime = WeightedTicks(impacts, counted, exclusions);
        var remaining = budget - downtime;
        var sli = 100m * (1m - downtime / (window.End - window.Start).Ticks);

        var burnRates = new Dictionary<string, double>(StringComparer.Ordinal);
        var burnt = new Dictionary<TimeSpan, decimal>();
        foreach (var lookBack in BurnAlerts.Windows)
        {
            burnt[lookBack] = WeightedTicks(impacts, new TimeRange(now - lookBack, now), exclusions);
            burnRates[BurnAlerts.Key(lookBack)] = (double)(burnt[lookBack] / (errorFraction * lookBack.Ticks));
        }
        // Compared as downtime ≥ threshold × (1 − target) × L rather than through the rounded rate, so that a burn of
        // exactly the threshold fires.
        var firing = BurnAlerts.Pairs
            .Where(p => burnt[p.Long] >= (decimal)p.Threshold * errorFraction * p.Long.Ticks
                && burnt[p.Short] >= (decimal)p.Threshold * errorFraction * p.Short.Ticks)
            .ToList();

        var weightNow = scoped
            .Where(s => s.Record.End is null && s.Record.Start <= now && !s.Maintenance.Any(m => m.Contains(now)))
            .Select(s => Effective(s.Weight) ?? 0m).DefaultIfEmpty(0m).Max();
        var toExhaustion = weightNow == 0m ? null : TicksToBurn(remaining, weightNow, now);

        // An incident's impact is its own weighted downtime (the union of its records, maintenance cut out): an incident
        // that spans two services is one impact, not two.
        var impactsOfResolved = pieces
            .GroupBy(p => p.Record.IncidentId, StringComparer.Ordinal)
            .Where(g => g.All(p => p.Record.End is not null))
            .Select(g => WeightedTicks(g.Select(p => (p.Range, p.Weight)), new TimeRange(g.Min(p => p.Range.Start), g.Max(p => p.Range.End)), []))
            .Where(impact => impact > 0m)
            .Order()
            .ToList();
        decimal? median = impactsOfResolved.Count == 0 ? null : impactsOfResolved[Kpis.Rank(impactsOfResolved.Count, 0.5) - 1];
        decimal? p90 = impactsOfResolved.Count == 0 ? null : impactsOfResolved[Kpis.Rank(impactsOfResolved.Count, 0.9) - 1];
        var oneMoreBreaches = median is { } m0 && remaining <= m0;

        var status = downtime >= budget ? SloHealth.Breached
            : oneMoreBreaches || firing.Count > 0 ? SloHealth.AtRisk
            : SloHealth.Healthy;

        DateTimeOffset? exhaustedAt = toExhaustion is { } t ? now + TimeSpan.FromTicks(t) : null;
        DateTimeOffset? next = null;
        if (weightNow > 0m && status == SloHealth.AtRisk) next = exhaustedAt;
        else if (weightNow > 0m && status == SloHealth.Healthy && median is null) next = exhaustedAt;
        else if (weightNow > 0m && status == SloHealth.Healthy && TicksToBurn(remaining - median!.Value, weightNow, now) is { } toAtRisk)
            next = now + TimeSpan.FromTicks(toAtRisk); // healthy means remaining > median, so this lies ahead

        var sliPercent = (double)sli;
        return new AvailabilityReport
        {
            Slo = slo.Name,
            Target = slo.Target,
            WindowStart = window.Start,
            WindowEnd = window.End,
            SliPercent = sliPercent,
            BudgetMinutes = Minutes(budget),
            DowntimeMinutes = Minutes(downtime),
            RemainingMinutes = Minutes(remaining),
            Consumed = (double)(downtime / budget),
            BurnRates = burnRates,
            FiringBurnAlerts = firing,
            CurrentBurnWeight = (double)weightNow,
            TimeToExhaustion = toExhaustion is { } ticks ? TimeSpan.FromTicks(ticks) : null,
            ExhaustedAt = exhaustedAt,
            MedianImpactMinutes = median is { } med ? Minutes(med) : null,
            P90ImpactMinutes = p90 is { } p ? Minutes(p) : null,
            HeadroomMedian = median is { } hm ? (double)(remaining / hm) : null,
            HeadroomP90 = p90 is { } hp ? (double)(remaining / hp) : null,
            OneMoreMedianBreaches = oneMoreBreaches,
            Status = status,
            CreditPercent = CreditPercent(slo.Credits, sliPercent),
            NextTransitionAt = next,
        };
    }

    /// <summary>
    /// The burn-down of the SLO's current window: the budget left at <paramref name="points"/> evenly spaced instants
    /// from the window's start to <paramref name="now"/> (or the window's end), each counting the downtime from the
    /// window's start to that instant as <see cref="Evaluate"/> counts it. So the line starts at the whole budget and
    /// its last point is the report's remaining budget. At least two points.
    /// </summary>
    public static BurnDownSeries BurnDown(AvailabilitySlo slo, TimeZoneInfo zone, IReadOnlyList<ImpactRecord> ledger,
        Func<ImpactRecord, IReadOnlyList<TimeRange>> maintenanceOf, DateTimeOffset now, int points)
    {
        if (!(slo.Target > 0 && slo.Target < 100))
            throw new ArgumentException($"target {slo.Target} must be a percentage strictly between 0 and 100", nameof(slo));
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 2);
        var window = Window(slo, zone, now);
        var budget = (1m - (decimal)slo.Target / 100m) * (window.End - window.Start).Ticks;
        var impacts = Pieces(Scoped(slo, ledger, maintenanceOf), now).Select(p => (p.Range, p.Weight)).ToList();
        var end = now < window.End ? now : window.End;
        var step = Math.Max(0, (end - window.Start).Ticks) / (points - 1);
        var line = Enumerable.Range(0, points).Select(i =>
        {
            var at = i == points - 1 ? end : window.Start + TimeSpan.FromTicks(step * i);
            return new BudgetPoint(at, Minutes(budget - WeightedTicks(impacts, new TimeRange(window.Start, at), [])));
        }).ToList();
        return new BurnDownSeries(slo.Name, Minutes(budget), window.Start, window.End, line);
    }

    /// <summary>The ledger's records in the SLO's scope with their weight and, when it excludes maintenance, their maintenance.</summary>
    private static List<(ImpactRecord Record, double Weight, IReadOnlyList<TimeRange> Maintenance)> Scoped(
        AvailabilitySlo slo, IReadOnlyList<ImpactRecord> ledger, Func<ImpactRecord, IReadOnlyList<TimeRange>> maintenanceOf) =>
        ledger.Where(r => InScope(slo, r))
            .Select(r => (Record: r, Weight: slo.WeightOf(r.Severity), Maintenance: slo.ExcludeMaintenance ? maintenanceOf(r) : (IReadOnlyList<TimeRange>)[]))
            .ToList();

    /// <summary>Each record's impact up to <paramref name="now"/> with its maintenance cut out, as the pieces left.</summary>
    private static List<(ImpactRecord Record, TimeRange Range, double Weight)> Pieces(
        IEnumerable<(ImpactRecord Record, double Weight, IReadOnlyList<TimeRange> Maintenance)> scoped, DateTimeOffset now) =>
        scoped.SelectMany(s => Subtract(new TimeRange(s.Record.Start, s.Record.End ?? now), s.Maintenance)
            .Select(range => (s.Record, Range: range, s.Weight))).ToList();

    /// <summary>
    /// The fewest whole ticks after which burning at <paramref name="weight"/> spends <paramref name="amount"/>
    /// weighted ticks (zero when nothing is left to spend); null when that lies beyond the last representable instant.
    /// </summary>
    private static long? TicksToBurn(decimal amount, decimal weight, DateTimeOffset now)
    {
        if (amount <= 0m) return 0;
        var ticks = decimal.Ceiling(amount / weight);
        if (ticks > DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks) return null;
        // The quotient is rounded to 28 digits; settle the last tick by multiplication, which is exact.
        while (ticks > 0 && (ticks - 1) * weight >= amount) ticks--;
        while (ticks * weight < amount) ticks++;
        return (long)ticks;
    }

    /// <summary>
    /// A weight as the maths uses it: null (counts nothing) unless it is a positive finite number, and at most 1, since
    /// no incident is more than a full outage.
    /// </summary>
    private static decimal? Effective(double weight) => double.IsFinite(weight) && weight > 0 ? (decimal)Math.Min(weight, 1) : null;

    private static double Minutes(decimal ticks) => (double)(ticks / TimeSpan.TicksPerMinute);

    /// <summary><paramref name="range"/> with <paramref name="holes"/> cut out, as the pieces left, in order.</summary>
    internal static IReadOnlyList<TimeRange> Subtract(TimeRange range, IReadOnlyList<TimeRange> holes)
    {
        var pieces = new List<TimeRange> { range };
        foreach (var hole in holes)
        {
            pieces = pieces.SelectMany(piece => hole.End <= piece.Start || hole.Start >= piece.End
                ? [piece]
                : new[] { new TimeRange(piece.Start, hole.Start), new TimeRange(hole.End, piece.End) }.Where(p => p.End > p.Start)).ToList();
        }
        return pieces;
    }

    /// <summary>The sweep behind <see cref="DowntimeMinutes"/>, in weighted ticks (exact for weights such as 0.5).</summary>
    internal static decimal WeightedTicks(IEnumerable<(TimeRange Range, double Weight)> impacts, TimeRange within, IEnumerable<TimeRange> exclusions)
    {
        long from = within.Start.UtcTicks, to = within.End.UtcTicks;
        if (to <= from) return 0m;

        // Each event opens (+1) or closes (−1) an impact of some weight, or an exclusion (weight null).
        var events = new List<(long At, decimal? Weight, int Delta)>();
        foreach (var (range, weight) in impacts)
        {
            if (Effective(weight) is not { } w) continue;
            long start = Math.Max(range.Start.UtcTicks, from), end = Math.Min(range.End.UtcTicks, to);
            if (start >= end) continue;
            events.Add((start, w, 1));
            events.Add((end, w, -1));
        }
        if (events.Count == 0) return 0m;
        foreach (var exclusion in exclusions)
        {
            long start = Math.Max(exclusion.Start.UtcTicks, from), end = Math.Min(exclusion.End.UtcTicks, to);
            if (start >= end) continue;
            events.Add((start, null, 1));
            events.Add((end, null, -1));
        }
        events.Sort((a, b) => a.At.CompareTo(b.At));

        var open = new Dictionary<decimal, int>(); // weight → how many impacts of it cover the current instant
        var excluded = 0;
        var total = 0m;
        var since = events[0].At;
        foreach (var (at, weight, delta) in events)
        {
            if (at > since)
            {
                if (excluded == 0 && open.Count > 0) total += (at - since) * open.Keys.Max();
                since = at;
            }
            if (weight is not { } w)
            {
                excluded += delta;
                continue;
            }
            var count = open.GetValueOrDefault(w) + delta;
            if (count == 0) open.Remove(w);
            else open[w] = count;
        }
        return total;
    }
}
