using System.Globalization;

namespace OrleansOps.Domain.Tests;

/// <summary>
/// A hand set of incidents in March 2026 (all times UTC), each written as minutes after its start:
/// <code>
///        severity  opened  acked  resolved  escalations   MTTD  MTTA  MTTR
///   I1   sev1      +2      +7     +60       0             2     5     60    opened at exactly 2026-03-01T00:00Z
///   I2   sev1      +4      +14    +90       1             4     10    90
///   I3   sev2      +1      +4     +30       0             1     3     30
///   I4   sev2      +6      —      —         2             6     —     —
///   I5   sev1      +2      +22    +240      3             2     20    240
///   I6   sev1      opened in February                                            outside the period
///   I7   sev1      opened at exactly 2026-04-01T00:00Z                           outside: the period excludes its end
/// </code>
/// </summary>
public sealed class KpiTests
{
    private static readonly TimeRange March = new(T("2026-03-01T00:00:00Z"), T("2026-04-01T00:00:00Z"));

    private static DateTimeOffset T(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    private static IncidentTimes Incident(string id, Severity severity, DateTimeOffset opened, double detect, double? ack, double? resolve, int escalations)
    {
        var started = opened.AddMinutes(-detect);
        return new(id, severity, started, opened,
            ack is { } a ? started.AddMinutes(a) : null,
            resolve is { } r ? started.AddMinutes(r) : null,
            escalations);
    }

    private static readonly IncidentTimes[] Incidents =
    [
        Incident("I1", Severity.Sev1, T("2026-03-01T00:00:00Z"), 2, 7, 60, 0),
        Incident("I2", Severity.Sev1, T("2026-03-05T10:04:00Z"), 4, 14, 90, 1),
        Incident("I3", Severity.Sev2, T("2026-03-09T10:01:00Z"), 1, 4, 30, 0),
        Incident("I4", Severity.Sev2, T("2026-03-12T10:06:00Z"), 6, null, null, 2),
        Incident("I5", Severity.Sev1, T("2026-03-20T10:02:00Z"), 2, 22, 240, 3),
        Incident("I6", Severity.Sev1, T("2026-02-27T10:00:00Z"), 100, 200, 300, 9),
        Incident("I7", Severity.Sev1, T("2026-04-01T00:00:00Z"), 100, 200, 300, 9),
    ];

    [Fact]
    public void All_severities_over_March()
    {
        var report = Kpis.Compute(Incidents, null, March);

        Assert.Null(report.Severity);
        Assert.Equal(March, report.Period);
        Assert.Equal(5, report.Incidents); // I1–I5
        // MTTA over the 4 acknowledged: 5, 10, 3, 20 → mean 38 ÷ 4 = 9.5; sorted 3, 5, 10, 20: median rank ⌈2⌉ = 2 → 5,
        // p90 rank ⌈3.6⌉ = 4 → 20.
        Assert.Equal(new Stat(4, 9.5, 5, 20), report.Mtta);
        // MTTR over the 4 resolved: 60, 90, 30, 240 → mean 420 ÷ 4 = 105; sorted 30, 60, 90, 240: median 60, p90 240.
        Assert.Equal(new Stat(4, 105, 60, 240), report.Mttr);
        // MTTD over all 5: 2, 4, 1, 6, 2 → mean 15 ÷ 5 = 3; sorted 1, 2, 2, 4, 6: median rank ⌈2.5⌉ = 3 → 2, p90 rank
        // ⌈4.5⌉ = 5 → 6.
        Assert.Equal(new Stat(5, 3, 2, 6), report.Mttd);
        Assert.Equal(0.8, report.AcknowledgementRate); // 4 ÷ 5
        Assert.Equal(1.2, report.EscalationsPerIncident!.Value, 9); // (0 + 1 + 0 + 2 + 3) ÷ 5
    }

    [Fact]
    public void Sev1_only()
    {
        var report = Kpis.Compute(Incidents, Severity.Sev1, March);

        Assert.Equal(Severity.Sev1, report.Severity);
        Assert.Equal(3, report.Incidents); // I1, I2, I5
        // MTTA 5, 10, 20: mean 35 ÷ 3 = 11.6667, median rank ⌈1.5⌉ = 2 → 10, p90 rank ⌈2.7⌉ = 3 → 20.
        Assert.Equal(3, report.Mtta.Count);
        Assert.Equal(11.6667, report.Mtta.MeanMinutes!.Value, 4);
        Assert.Equal(10, report.Mtta.MedianMinutes);
        Assert.Equal(20, report.Mtta.P90Minutes);
        // MTTR 60, 90, 240: mean 390 ÷ 3 = 130, median 90, p90 240.
        Assert.Equal(new Stat(3, 130, 90, 240), report.Mttr);
        // MTTD 2, 4, 2: mean 8 ÷ 3 = 2.6667; sorted 2, 2, 4: median 2, p90 4.
        Assert.Equal(2.6667, report.Mttd.MeanMinutes!.Value, 4);
        Assert.Equal(2, report.Mttd.MedianMinutes);
        Assert.Equal(4, report.Mttd.P90Minutes);
        Assert.Equal(1, report.AcknowledgementRate); // 3 ÷ 3
        Assert.Equal(1.3333, report.EscalationsPerIncident!.Value, 4); // (0 + 1 + 3) ÷ 3
    }

    [Fact]
    public void Sev2_only()
    {
        var report = Kpis.Compute(Incidents, Severity.Sev2, March);

        Assert.Equal(2, report.Incidents); // I3, I4
        Assert.Equal(new Stat(1, 3, 3, 3), report.Mtta); // only I3 was acknowledged
        Assert.Equal(new Stat(1, 30, 30, 30), report.Mttr); // only I3 was resolved
        // MTTD 1, 6: mean 3.5, median rank ⌈1⌉ = 1 → 1, p90 rank ⌈1.8⌉ = 2 → 6.
        Assert.Equal(new Stat(2, 3.5, 1, 6), report.Mttd);
        Assert.Equal(0.5, report.AcknowledgementRate); // 1 ÷ 2
        Assert.Equal(1, report.EscalationsPerIncident); // (0 + 2) ÷ 2
    }

    [Fact]
    public void A_severity_without_incidents_has_empty_stats()
    {
        var report = Kpis.Compute(Incidents, Severity.Sev3, March);
        Assert.Equal(0, report.Incidents);
        Assert.Equal(new Stat(0, null, null, null), report.Mtta);
        Assert.Equal(new Stat(0, null, null, null), report.Mttr);
        Assert.Equal(new Stat(0, null, null, null), report.Mttd);
        Assert.Null(report.AcknowledgementRate);
        Assert.Null(report.EscalationsPerIncident);
    }

    [Fact]
    public void The_period_counts_incidents_by_when_they_opened()
    {
        // February holds I6 only (I1 started in February but opened on 1 March).
        var february = Kpis.Compute(Incidents, null, new TimeRange(T("2026-02-01T00:00:00Z"), T("2026-03-01T00:00:00Z")));
        Assert.Equal(1, february.Incidents);
        Assert.Equal(new Stat(1, 100, 100, 100), february.Mttd);
        Assert.Equal(new Stat(1, 100, 100, 100), february.Mtta); // acknowledged 200 after start, opened 100 after it
        Assert.Equal(new Stat(1, 300, 300, 300), february.Mttr);

        // April holds I7, which opened at the very instant March ends.
        Assert.Equal(1, Kpis.Compute(Incidents, null, new TimeRange(T("2026-04-01T00:00:00Z"), T("2026-05-01T00:00:00Z"))).Incidents);
    }

    [Fact]
    public void A_start_after_the_open_counts_as_zero_detection_time()
    {
        // A sender's clock puts the alert's start 3 min after the incident opened: detection time 0, not −3.
        var skewed = new IncidentTimes("I9", Severity.Sev1, T("2026-03-02T10:03:00Z"), T("2026-03-02T10:00:00Z"), null, null, 0);
        Assert.Equal(new Stat(1, 0, 0, 0), Kpis.Compute([skewed], null, March).Mttd);
    }

    [Theory]
    [InlineData(new double[] { 10, 20, 30, 40 }, 0.5, 20.0)] // rank ⌈2⌉ = 2
    [InlineData(new double[] { 40, 10, 30, 20 }, 0.9, 40.0)] // sorted first; rank ⌈3.6⌉ = 4
    [InlineData(new double[] { 10, 20, 30, 40, 50 }, 0.5, 30.0)] // rank ⌈2.5⌉ = 3
    [InlineData(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 0.9, 9.0)] // rank exactly 9, not 10
    [InlineData(new double[] { 7 }, 0.9, 7.0)] // rank ⌈0.9⌉ = 1
    [InlineData(new double[] { 10, 20, 30 }, 0.0, 10.0)] // rank 0 means the smallest
    [InlineData(new double[] { 10, 20, 30 }, 1.0, 30.0)]
    public void Percentiles_are_nearest_rank(double[] values, double p, double expected) =>
        Assert.Equal(expected, Kpis.Percentile(values, p));

    [Fact]
    public void A_percentile_rank_is_exact_where_binary_arithmetic_is_not()
    {
        // 0.07 × 100 is 7.000000000000001 in binary floating point, whose ceiling would be 8; the rank is 7.
        var values = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
        Assert.Equal(7, Kpis.Percentile(values, 0.07));
        Assert.Equal(90, Kpis.Percentile(values, 0.9));
    }

    [Fact]
    public void No_values_have_no_percentile_and_p_is_a_fraction()
    {
        Assert.Null(Kpis.Percentile([], 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kpis.Percentile([1.0], 90));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kpis.Percentile([1.0], -0.1));
    }

    [Fact]
    public void The_KPI_target_is_the_SLA_window_times_the_buffer()
    {
        Assert.Equal(TimeSpan.FromHours(2), Kpis.Target(TimeSpan.FromHours(4))); // 4 h × 0.5
        Assert.Equal(TimeSpan.FromMinutes(7.5), Kpis.Target(TimeSpan.FromMinutes(15))); // sev1 response 15 min × 0.5
        Assert.Equal(TimeSpan.FromMinutes(90), Kpis.Target(TimeSpan.FromHours(2), 0.75)); // 120 min × 0.75
        Assert.Equal(TimeSpan.FromHours(2), Kpis.Target(TimeSpan.FromHours(2), 1)); // no buffer at all
        Assert.Throws<ArgumentOutOfRangeException>(() => Kpis.Target(TimeSpan.FromHours(2), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Kpis.Target(TimeSpan.FromHours(2), 1.5));
    }
}
