namespace OrleansOps.Domain;

/// <summary>
/// The instants of one incident that its KPIs are made of: when its impact began (the first alert's startsAt),
/// when OrleansOps opened it, when someone acknowledged and resolved it (null until they do), and how many times it
/// escalated to a further level.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IncidentTimes(
    [property: Id(0)] string IncidentId,
    [property: Id(1)] Severity Severity,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] DateTimeOffset OpenedAt,
    [property: Id(4)] DateTimeOffset? AcknowledgedAt,
    [property: Id(5)] DateTimeOffset? ResolvedAt,
    [property: Id(6)] int Escalations,
    [property: Id(7)] string Title = "",
    [property: Id(8)] string Service = "");

/// <summary>
/// A duration KPI over <see cref="Count"/> incidents, in minutes: the mean beside the nearest-rank median and p90,
/// because incident durations are skewed and a mean alone hides that. All three are null when the count is zero.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Stat(
    [property: Id(0)] int Count,
    [property: Id(1)] double? MeanMinutes,
    [property: Id(2)] double? MedianMinutes,
    [property: Id(3)] double? P90Minutes);

/// <summary>
/// The incident KPIs of one account over <see cref="Period"/>, for one severity or (null) all of them.
/// <see cref="AcknowledgementRate"/> and <see cref="EscalationsPerIncident"/> are null when no incident opened.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record KpiReport(
    [property: Id(0)] Severity? Severity,
    [property: Id(1)] TimeRange Period,
    [property: Id(2)] int Incidents,
    [property: Id(3)] Stat Mtta,
    [property: Id(4)] Stat Mttr,
    [property: Id(5)] Stat Mttd,
    [property: Id(6)] double? AcknowledgementRate,
    [property: Id(7)] double? EscalationsPerIncident);

/// <summary>Incident KPIs (MTTA, MTTR, MTTD, acknowledgement rate, escalations) and their targets, as pure functions.</summary>
public static class Kpis
{
    /// <summary>
    /// The KPIs of the incidents OPENED in <paramref name="period"/> ([start, end)), of <paramref name="severity"/>
    /// only when given. An incident counts in the period it opened in, whenever it is acknowledged or resolved, so a
    /// period's figures do not change as later periods happen (only as its own incidents progress).
    /// <list type="bullet">
    /// <item>MTTA (time to acknowledge) = AcknowledgedAt − OpenedAt, over the acknowledged ones.</item>
    /// <item>MTTR (time to resolve; R is resolve) = ResolvedAt − StartedAt, over the resolved ones: from the start of
    /// the impact, which is what the customer lived through.</item>
    /// <item>MTTD (time to detect) = OpenedAt − StartedAt, over all of them.</item>
    /// <item>Acknowledgement rate = acknowledged ÷ incidents; escalations per incident = mean of Escalations.</item>
    /// </list>
    /// Each duration is given as mean, nearest-rank median and nearest-rank p90 (<see cref="Percentile"/>) in minutes.
    /// A duration that comes out negative (clocks that disagree, such as an alert whose startsAt is after the open)
    /// counts as zero, so that one bad clock cannot pull a mean below anything that happened.
    /// </summary>
    public static KpiReport Compute(IEnumerable<IncidentTimes> incidents, Severity? severity, TimeRange period)
    {
        var chosen = incidents
            .Where(i => period.Contains(i.OpenedAt) && (severity is null || i.Severity == severity))
            .ToList();
        var acknowledged = chosen.Where(i => i.AcknowledgedAt is not null).ToList();
        return new KpiReport(
            severity,
            period,
            chosen.Count,
            Mtta: StatOf(acknowledged.Select(i => i.AcknowledgedAt!.Value - i.OpenedAt)),
            Mttr: StatOf(chosen.Where(i => i.ResolvedAt is not null).Select(i => i.ResolvedAt!.Value - i.StartedAt)),
            Mttd: StatOf(chosen.Select(i => i.OpenedAt - i.StartedAt)),
            AcknowledgementRate: chosen.Count == 0 ? null : (double)acknowledged.Count / chosen.Count,
            EscalationsPerIncident: chosen.Count == 0 ? null : chosen.Average(i => (double)i.Escalations));
    }

    /// <summary>
    /// The nearest-rank percentile: the ⌈p · n⌉-th smallest of the n values (the smallest for p = 0), for p from 0 to 1
    /// (0.5 the median, 0.9 the p90). It is always one of the values, never an interpolation between two. Null when
    /// there are no values. Of 10, 20, 30, 40 the median is the 2nd (20) and the p90 the 4th (40).
    /// </summary>
    public static double? Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToList();
        return sorted[Rank(sorted.Count, p) - 1];
    }

    /// <summary>
    /// The KPI target for an SLA deadline: the deadline × <paramref name="buffer"/> (by default half of it, so a 4 h
    /// resolution SLA gives a 2 h MTTR target), keeping the internal target stricter than the contract. The buffer must
    /// be more than 0 and at most 1.
    /// </summary>
    public static TimeSpan Target(TimeSpan slaWindow, double buffer = 0.5)
    {
        if (!(buffer > 0 && buffer <= 1))
            throw new ArgumentOutOfRangeException(nameof(buffer), buffer, "the buffer is a fraction of the SLA window, more than 0 and at most 1");
        return slaWindow * buffer;
    }

    /// <summary>
    /// The 1-based nearest rank ⌈p · n⌉ (at least 1) of <paramref name="n"/> values. Computed in decimal, so that
    /// 0.9 × 10 is exactly 9 and not the 9.000000000000002 that would round up to a 10th rank.
    /// </summary>
    internal static int Rank(int n, double p)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "a percentile is a fraction from 0 to 1");
        return Math.Max(1, (int)decimal.Ceiling((decimal)p * n));
    }

    private static Stat StatOf(IEnumerable<TimeSpan> durations)
    {
        var minutes = durations.Select(d => d < TimeSpan.Zero ? 0 : d.TotalMinutes).ToList();
        return minutes.Count == 0
            ? new Stat(0, null, null, null)
            : new Stat(minutes.Count, minutes.Average(), Percentile(minutes, 0.5), Percentile(minutes, 0.9));
    }
}
