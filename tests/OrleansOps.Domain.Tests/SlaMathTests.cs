using System.Globalization;

namespace OrleansOps.Domain.Tests;

/// <summary>
/// Every expected number below is worked out by hand in the comment beside it. The SLO of the demo account is
/// 99.95 % over a rolling 30 days: its error fraction is 1 − 0.9995 = 0.0005 and its budget 0.0005 × 43,200 min =
/// 21.6 min = 1,296 s. DST facts used: America/Chicago springs forward on 2026-03-08 (02:00 CST becomes 03:00 CDT) and
/// falls back on 2026-11-01 (02:00 CDT becomes 01:00 CST); its local midnight is 06:00Z in CST and 05:00Z in CDT.
/// </summary>
public sealed class SlaMathTests
{
    private static readonly DateTimeOffset Now = T("2026-03-20T12:00:00Z");
    private static readonly TimeZoneInfo Chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private static readonly IReadOnlyList<CreditTier> Tiers = [new(99.95, 10), new(99.0, 25), new(95.0, 100)];

    private static readonly AvailabilitySlo Slo = new()
    {
        Name = "availability",
        Target = 99.95,
        Window = "30d",
        Services = ["ehr-api", "imaging"],
        Credits = Tiers,
    };

    private static DateTimeOffset T(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    /// <summary>Minutes and seconds rounded to the nearest tick, so that 21.6 min is exactly 12,960,000,000 ticks.</summary>
    private static TimeSpan Min(double minutes) => TimeSpan.FromTicks((long)Math.Round(minutes * TimeSpan.TicksPerMinute));

    private static TimeSpan Sec(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    private static ImpactRecord Resolved(Severity severity, DateTimeOffset start, TimeSpan length, string service = "ehr-api", params string[] nodes) =>
        new($"inc-{start.UtcTicks}-{severity}", service, nodes, severity, start, start + length);

    private static ImpactRecord Open(Severity severity, DateTimeOffset start, string service = "ehr-api") =>
        new($"inc-{start.UtcTicks}-open", service, [], severity, start, null);

    private static AvailabilityReport Evaluate(params ImpactRecord[] ledger) =>
        AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], Now);

    // ---- budget, downtime, SLI, status, credit ----

    [Fact]
    public void Three_sev1_incidents_of_26_31_and_29_minutes_overspend_a_21_6_minute_budget()
    {
        var report = Evaluate(
            Resolved(Severity.Sev1, T("2026-03-02T10:00:00Z"), Min(26)),
            Resolved(Severity.Sev1, T("2026-03-10T08:00:00Z"), Min(31)),
            Resolved(Severity.Sev1, T("2026-03-15T22:00:00Z"), Min(29)));

        Assert.Equal(T("2026-02-18T12:00:00Z"), report.WindowStart); // 30 days before 2026-03-20T12:00Z
        Assert.Equal(Now, report.WindowEnd);
        Assert.Equal(21.6, report.BudgetMinutes, 9); // (1 − 0.9995) × 30 × 1440 min = 0.0005 × 43,200
        Assert.Equal(86, report.DowntimeMinutes, 9); // 26 + 31 + 29, weight 1 each, no overlap
        Assert.Equal(99.8009, report.SliPercent, 4); // 100 × (1 − 86 ÷ 43,200) = 100 × (1 − 0.0019907…) = 99.80093
        Assert.Equal(-64.4, report.RemainingMinutes, 9); // 21.6 − 86
        Assert.Equal(3.9815, report.Consumed, 4); // 86 ÷ 21.6 = 3.98148…
        Assert.Equal(SloHealth.Breached, report.Status); // 86 ≥ 21.6
        Assert.Equal(10, report.CreditPercent); // 99.8009 < 99.95 (10 %), not < 99.0
        Assert.Equal(29, report.MedianImpactMinutes); // 26, 29, 31: rank ⌈0.5 × 3⌉ = 2
        Assert.Equal(31, report.P90ImpactMinutes); // rank ⌈0.9 × 3⌉ = 3
        Assert.Equal(-2.2207, report.HeadroomMedian!.Value, 4); // −64.4 ÷ 29 = −2.22069
        Assert.True(report.OneMoreMedianBreaches);
        Assert.Equal(0, report.CurrentBurnWeight); // nothing open
        Assert.Null(report.TimeToExhaustion);
        Assert.Null(report.NextTransitionAt);
        Assert.All(report.BurnRates.Values, rate => Assert.Equal(0, rate)); // the last one ended over 4 days ago, before the 3d look-back
        Assert.Equal(["1h", "30m", "3d", "5m", "6h"], report.BurnRates.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(99.8, 10)] // under 99.95 only
    [InlineData(98.7, 25)] // under 99.95 and 99.0: the larger credit
    [InlineData(94.9, 100)] // under all three
    [InlineData(99.95, 0)] // exactly at a tier's bound is not under it
    [InlineData(99.99, 0)]
    [InlineData(99.0, 10)]
    public void The_credit_is_the_largest_of_the_tiers_the_SLI_is_under(double sli, double credit) =>
        Assert.Equal(credit, AvailabilityMath.CreditPercent(Tiers, sli));

    [Fact]
    public void No_credit_schedule_owes_nothing() => Assert.Equal(0, AvailabilityMath.CreditPercent([], 50));

    [Fact]
    public void Downtime_of_exactly_the_budget_is_breached_and_owes_no_credit()
    {
        // 21.6 min of sev1: remaining 0, consumed 1, SLI 100 × (1 − 21.6 ÷ 43,200) = 99.95 exactly, not under 99.95.
        var report = Evaluate(Resolved(Severity.Sev1, T("2026-03-10T08:00:00Z"), Min(21.6)));
        Assert.Equal(SloHealth.Breached, report.Status);
        Assert.Equal(0, report.RemainingMinutes, 9);
        Assert.Equal(1, report.Consumed);
        Assert.Equal(99.95, report.SliPercent);
        Assert.Equal(0, report.CreditPercent);
    }

    [Fact]
    public void Only_the_part_of_an_incident_inside_the_window_counts()
    {
        // From 10 min before the window's start (2026-02-18T12:00Z) to 5 min after it: 5 min. An open sev1 started
        // 3 min before now burns until now: 3 min. The median impact is the resolved one's whole 15 min.
        var report = Evaluate(
            Resolved(Severity.Sev1, T("2026-02-18T11:50:00Z"), Min(15)),
            Open(Severity.Sev1, Now - Min(3)));
        Assert.Equal(8, report.DowntimeMinutes, 9);
        Assert.Equal(15, report.MedianImpactMinutes);
    }

    // ---- weights, overlap, maintenance, scope ----

    public static TheoryData<string, (Severity Severity, string At, double Minutes)[], double> Overlaps => new()
    {
        // [10:00, 10:30) ∪ [10:20, 10:50) = [10:00, 10:50): 50 min, not 30 + 30 = 60.
        { "two overlapping sev1 count once", [(Severity.Sev1, "10:00", 30), (Severity.Sev1, "10:20", 30)], 50 },
        // 40 min at weight 0.5.
        { "a sev2 alone counts half", [(Severity.Sev2, "10:00", 40)], 20 },
        // sev1 [10:20, 10:40) at 1 = 20, the sev2's other 40 min of [10:00, 11:00) at 0.5 = 20: 40, not 20 + 30 = 50.
        { "a sev2 overlapping a sev1 counts the sev1 where they overlap", [(Severity.Sev2, "10:00", 60), (Severity.Sev1, "10:20", 20)], 40 },
        // The sev2 [10:15, 10:45) lies inside the sev1 [10:00, 11:00): 60.
        { "a sev2 inside a sev1 adds nothing", [(Severity.Sev1, "10:00", 60), (Severity.Sev2, "10:15", 30)], 60 },
        // sev3 and sev4 weigh 0.
        { "sev3 and sev4 cost nothing", [(Severity.Sev3, "10:00", 60), (Severity.Sev4, "11:00", 60)], 0 },
        // [10:00, 10:30) and [10:30, 11:00) touch without overlapping: 60.
        { "back-to-back incidents both count", [(Severity.Sev1, "10:00", 30), (Severity.Sev1, "10:30", 30)], 60 },
        // Two sev2 overlapping [10:10, 10:30): the union [10:00, 10:40) at 0.5 = 20.
        { "two overlapping sev2 count once at half", [(Severity.Sev2, "10:00", 30), (Severity.Sev2, "10:10", 30)], 20 },
    };

    [Theory]
    [MemberData(nameof(Overlaps))]
    public void Downtime_is_the_integral_of_the_largest_weight_over_the_union(string why, (Severity Severity, string At, double Minutes)[] incidents, double downtime)
    {
        var ledger = incidents.Select(i => Resolved(i.Severity, T($"2026-03-10T{i.At}:00Z"), Min(i.Minutes))).ToArray();
        Assert.True(Math.Abs(downtime - Evaluate(ledger).DowntimeMinutes) < 1e-9, why);
    }

    [Fact]
    public void Maintenance_time_is_excluded_unless_the_SLO_says_otherwise()
    {
        // sev1 [10:00, 11:00), maintenance [10:30, 12:00): only [10:00, 10:30) counts.
        ImpactRecord[] ledger = [Resolved(Severity.Sev1, T("2026-03-10T10:00:00Z"), Min(60))];
        TimeRange[] maintenance = [new(T("2026-03-10T10:30:00Z"), T("2026-03-10T12:00:00Z"))];

        Assert.Equal(30, AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, maintenance, Now).DowntimeMinutes, 9);
        Assert.Equal(60, AvailabilityMath.Evaluate(Slo with { ExcludeMaintenance = false }, TimeZoneInfo.Utc, ledger, maintenance, Now).DowntimeMinutes, 9);
    }

    [Fact]
    public void Downtime_minutes_can_be_asked_directly()
    {
        // sev1 [10:00, 10:30) and sev2 [10:15, 11:15); maintenance [10:50, 11:00); counted within [10:05, 11:10).
        // sev1 [10:05, 10:30) = 25 at 1; sev2 alone [10:30, 10:50) and [11:00, 11:10) = 30 at 0.5 = 15; total 40.
        (TimeRange, double)[] impacts =
        [
            (new(T("2026-03-10T10:00:00Z"), T("2026-03-10T10:30:00Z")), 1.0),
            (new(T("2026-03-10T10:15:00Z"), T("2026-03-10T11:15:00Z")), 0.5),
        ];
        var within = new TimeRange(T("2026-03-10T10:05:00Z"), T("2026-03-10T11:10:00Z"));
        TimeRange[] maintenance = [new(T("2026-03-10T10:50:00Z"), T("2026-03-10T11:00:00Z"))];

        Assert.Equal(40, AvailabilityMath.DowntimeMinutes(impacts, within, maintenance), 9);
        // Without the maintenance: the sev2 alone [10:30, 11:10) = 40 at 0.5 = 20; total 45.
        Assert.Equal(45, AvailabilityMath.DowntimeMinutes(impacts, within, []), 9);
        Assert.Equal(0, AvailabilityMath.DowntimeMinutes(impacts, new TimeRange(within.End, within.Start), []));
    }

    [Fact]
    public void Node_scope_counts_only_incidents_that_touched_a_listed_node()
    {
        var slo = Slo with { Nodes = ["db-1"] };
        ImpactRecord[] ledger =
        [
            Resolved(Severity.Sev1, T("2026-03-10T10:00:00Z"), Min(10), "ehr-api", "db-1", "web-1"), // counts: touched db-1
            Resolved(Severity.Sev1, T("2026-03-11T10:00:00Z"), Min(20), "ehr-api", "web-2"), // another node
            Resolved(Severity.Sev1, T("2026-03-12T10:00:00Z"), Min(40), "ehr-api"), // no node at all
        ];
        Assert.True(AvailabilityMath.InScope(slo, ledger[0]));
        Assert.False(AvailabilityMath.InScope(slo, ledger[1]));
        Assert.False(AvailabilityMath.InScope(slo, ledger[2]));
        Assert.Equal(10, AvailabilityMath.Evaluate(slo, TimeZoneInfo.Utc, ledger, [], Now).DowntimeMinutes, 9);
        Assert.Equal(70, AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], Now).DowntimeMinutes, 9); // 10 + 20 + 40
    }

    [Fact]
    public void Service_scope_counts_only_listed_services_and_no_list_means_all()
    {
        ImpactRecord[] ledger =
        [
            Resolved(Severity.Sev1, T("2026-03-10T10:00:00Z"), Min(10), "ehr-api"),
            Resolved(Severity.Sev1, T("2026-03-11T10:00:00Z"), Min(20), "imaging"),
            Resolved(Severity.Sev1, T("2026-03-12T10:00:00Z"), Min(40), "billing"), // not in the SLO
        ];
        Assert.False(AvailabilityMath.InScope(Slo, ledger[2]));
        Assert.Equal(30, AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], Now).DowntimeMinutes, 9); // 10 + 20
        Assert.Equal(70, AvailabilityMath.Evaluate(Slo with { Services = [] }, TimeZoneInfo.Utc, ledger, [], Now).DowntimeMinutes, 9);
    }

    [Fact]
    public void Custom_weights_replace_the_defaults()
    {
        var slo = Slo with { Weights = new Dictionary<Severity, double> { [Severity.Sev1] = 1, [Severity.Sev3] = 0.25 } };
        var report = AvailabilityMath.Evaluate(slo, TimeZoneInfo.Utc,
            [Resolved(Severity.Sev3, T("2026-03-10T10:00:00Z"), Min(40)), Resolved(Severity.Sev2, T("2026-03-11T10:00:00Z"), Min(40))], [], Now);
        Assert.Equal(10, report.DowntimeMinutes, 9); // sev3 40 × 0.25; sev2 is not listed, so it weighs 0

        // No incident is more than a full outage: a weight of 2 counts as 1.
        var heavy = Slo with { Weights = new Dictionary<Severity, double> { [Severity.Sev1] = 2 } };
        Assert.Equal(40, AvailabilityMath.Evaluate(heavy, TimeZoneInfo.Utc, [Resolved(Severity.Sev1, T("2026-03-10T10:00:00Z"), Min(40))], [], Now).DowntimeMinutes, 9);
    }

    // ---- windows ----

    [Fact]
    public void A_rolling_window_ends_now()
    {
        Assert.Equal(new TimeRange(T("2026-02-18T12:00:00Z"), Now), AvailabilityMath.Window(Slo, TimeZoneInfo.Utc, Now));
        Assert.Equal(new TimeRange(T("2026-03-06T12:00:00Z"), Now), AvailabilityMath.Window(Slo with { Window = "2w" }, TimeZoneInfo.Utc, Now));
        Assert.Throws<ArgumentException>(() => AvailabilityMath.Window(Slo with { Window = "monthly" }, TimeZoneInfo.Utc, Now));
    }

    [Theory]
    // March 2026: 1 March 00:00 CST = 06:00Z; 1 April 00:00 CDT = 05:00Z; 31 × 24 − 1 = 743 h.
    [InlineData("2026-03-15T12:00:00Z", "2026-03-01T06:00:00Z", "2026-04-01T05:00:00Z", 743)]
    [InlineData("2026-03-01T06:00:00Z", "2026-03-01T06:00:00Z", "2026-04-01T05:00:00Z", 743)] // the first instant of March
    [InlineData("2026-04-01T04:59:59Z", "2026-03-01T06:00:00Z", "2026-04-01T05:00:00Z", 743)] // 23:59:59 CDT on 31 March
    // 05:59:59Z on 1 March is 23:59:59 CST on 28 February: still February, 28 × 24 = 672 h, no DST change.
    [InlineData("2026-03-01T05:59:59Z", "2026-02-01T06:00:00Z", "2026-03-01T06:00:00Z", 672)]
    // November 2026: 1 November 00:00 CDT = 05:00Z; 1 December 00:00 CST = 06:00Z; 30 × 24 + 1 = 721 h.
    [InlineData("2026-11-15T12:00:00Z", "2026-11-01T05:00:00Z", "2026-12-01T06:00:00Z", 721)]
    // December into January: 31 × 24 = 744 h, across the year.
    [InlineData("2026-12-31T23:00:00Z", "2026-12-01T06:00:00Z", "2027-01-01T06:00:00Z", 744)]
    public void A_calendar_month_runs_between_local_midnights(string now, string start, string end, double hours)
    {
        var window = AvailabilityMath.Window(Slo with { Window = "calendar-month" }, Chicago, T(now));
        Assert.Equal(T(start), window.Start);
        Assert.Equal(T(end), window.End);
        Assert.Equal(TimeSpan.FromHours(hours), window.Length);
    }

    [Fact]
    public void A_calendar_month_budget_is_its_real_length_and_the_SLI_divides_by_the_whole_month()
    {
        var slo = Slo with { Window = "calendar-month" };
        // A sev1 from 05:50Z to 06:10Z on 1 March (23:50 CST on 28 February to 00:10 CST): 10 min fall in March.
        var ledger = new[] { Resolved(Severity.Sev1, T("2026-03-01T05:50:00Z"), Min(20)) };
        var march = AvailabilityMath.Evaluate(slo, Chicago, ledger, [], T("2026-03-15T12:00:00Z"));

        Assert.Equal(22.29, march.BudgetMinutes, 9); // 743 h × 60 = 44,580 min × 0.0005
        Assert.Equal(10, march.DowntimeMinutes, 9);
        Assert.Equal(12.29, march.RemainingMinutes, 9); // 22.29 − 10
        Assert.Equal(99.9776, march.SliPercent, 4); // 100 × (1 − 10 ÷ 44,580) = 100 − 0.022432 = 99.977568

        var november = AvailabilityMath.Evaluate(slo, Chicago, [], [], T("2026-11-15T12:00:00Z"));
        Assert.Equal(21.63, november.BudgetMinutes, 9); // 721 h × 60 = 43,260 min × 0.0005
        Assert.Equal(100, november.SliPercent);
        Assert.Equal(SloHealth.Healthy, november.Status);
    }

    // ---- burn rates ----

    /// <summary>
    /// Two sev1 pieces make each pair's burn exactly its threshold. Burn b over L needs b × 0.0005 × L of downtime:
    /// 14.4 × 1 h → 25.92 s, 14.4 × 5 min → 2.16 s; 6 × 6 h → 64.8 s, 6 × 30 min → 5.4 s; 1 × 3 d → 129.6 s,
    /// 1 × 6 h → 10.8 s. The short piece lies inside the short window (and so inside the long one), the long piece inside
    /// the long window only, so the long piece is the long window's downtime minus the short's. Each piece lies outside
    /// the short windows of the faster pairs, so only the pair under test can fire. Shortening the short piece by a tick
    /// (and lengthening the long one by a tick, which keeps the long window's downtime) puts only the short window a
    /// tick below; shortening the long piece puts only the long window below. Either stops the pair.
    /// </summary>
    [Theory]
    // 1 h: long piece 25.92 − 2.16 = 23.76 s at now − 50 min; short piece 2.16 s ending at now.
    [InlineData("page-1h", 50 * 60.0, 23.76, 2.16, 2.16, "1h", "5m", 0, 0, true)]
    [InlineData("page-1h", 50 * 60.0, 23.76, 2.16, 2.16, "1h", "5m", 1, -1, false)]
    [InlineData("page-1h", 50 * 60.0, 23.76, 2.16, 2.16, "1h", "5m", -1, 0, false)]
    // 6 h: long piece 64.8 − 5.4 = 59.4 s at now − 5 h; short piece 5.4 s at now − 20 min (outside the 5 min window).
    [InlineData("page-6h", 5 * 3600.0, 59.4, 20 * 60.0, 5.4, "6h", "30m", 0, 0, true)]
    [InlineData("page-6h", 5 * 3600.0, 59.4, 20 * 60.0, 5.4, "6h", "30m", 1, -1, false)]
    [InlineData("page-6h", 5 * 3600.0, 59.4, 20 * 60.0, 5.4, "6h", "30m", -1, 0, false)]
    // 3 d: long piece 129.6 − 10.8 = 118.8 s at now − 2 d; short piece 10.8 s at now − 3 h (outside 30 min and 1 h).
    [InlineData("ticket-3d", 2 * 86400.0, 118.8, 3 * 3600.0, 10.8, "3d", "6h", 0, 0, true)]
    [InlineData("ticket-3d", 2 * 86400.0, 118.8, 3 * 3600.0, 10.8, "3d", "6h", 1, -1, false)]
    [InlineData("ticket-3d", 2 * 86400.0, 118.8, 3 * 3600.0, 10.8, "3d", "6h", -1, 0, false)]
    public void A_burn_pair_fires_at_its_threshold_on_both_windows_and_not_a_tick_below(
        string pair, double longAgo, double longSeconds, double shortAgo, double shortSeconds,
        string longKey, string shortKey, int longTicks, int shortTicks, bool fires)
    {
        var report = Evaluate(
            Resolved(Severity.Sev1, Now - Sec(longAgo), Sec(longSeconds) + Tick * longTicks),
            Resolved(Severity.Sev1, Now - Sec(shortAgo), Sec(shortSeconds) + Tick * shortTicks));

        var threshold = BurnAlerts.Pairs.Single(p => p.Name == pair).Threshold;
        Assert.Equal(fires, report.FiringBurnAlerts.Select(p => p.Name).SequenceEqual([pair]));
        Assert.DoesNotContain(report.FiringBurnAlerts, p => p.Name != pair);
        if (fires)
        {
            Assert.Equal(threshold, report.BurnRates[longKey], 12);
            Assert.Equal(threshold, report.BurnRates[shortKey], 12);
        }
        else Assert.True(report.BurnRates[longKey] < threshold || report.BurnRates[shortKey] < threshold);
        // The budget is far from spent (at most 129.6 s of 1,296 s) and the median piece fits many times: a firing pair
        // is what makes the SLO at risk.
        Assert.Equal(fires ? SloHealth.AtRisk : SloHealth.Healthy, report.Status);
    }

    [Fact]
    public void Burn_rates_are_downtime_over_each_look_back_divided_by_the_error_rate()
    {
        // One sev1 of 3 min ended 10 min ago: [now − 13 min, now − 10 min).
        var report = Evaluate(Resolved(Severity.Sev1, Now - Min(13), Min(3)));
        Assert.Equal(0, report.BurnRates["5m"]); // nothing in [now − 5 min, now)
        Assert.Equal(200, report.BurnRates["30m"], 9); // 3 ÷ (0.0005 × 30) = 3 ÷ 0.015
        Assert.Equal(100, report.BurnRates["1h"], 9); // 3 ÷ 0.03
        Assert.Equal(16.6667, report.BurnRates["6h"], 4); // 3 ÷ 0.18
        Assert.Equal(1.3889, report.BurnRates["3d"], 4); // 3 ÷ 2.16
        // 1h is over 14.4 but 5m is 0: page-1h does not fire; 6h (16.7) and 30m (200) are over 6: page-6h fires;
        // 3d (1.39) and 6h are over 1: ticket-3d fires too. Fastest first.
        Assert.Equal(["page-6h", "ticket-3d"], report.FiringBurnAlerts.Select(p => p.Name));
    }

    // ---- time to exhaustion ----

    [Fact]
    public void An_open_sev1_breaches_exactly_when_time_to_exhaustion_says()
    {
        // 10 min resolved on 10 March plus an open sev1 since 1 min ago: downtime 11, remaining 21.6 − 11 = 10.6 min,
        // burning at weight 1: 10.6 min to exhaustion, at 12:10:36Z.
        ImpactRecord[] ledger = [Resolved(Severity.Sev1, T("2026-03-10T08:00:00Z"), Min(10)), Open(Severity.Sev1, Now - Min(1))];
        var report = AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], Now);

        Assert.Equal(1, report.CurrentBurnWeight);
        Assert.Equal(10.6, report.RemainingMinutes, 9);
        Assert.Equal(Min(10.6), report.TimeToExhaustion);
        Assert.Equal(T("2026-03-20T12:10:36Z"), report.ExhaustedAt);

        var before = AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], report.ExhaustedAt!.Value - Tick);
        var at = AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], report.ExhaustedAt!.Value);
        Assert.NotEqual(SloHealth.Breached, before.Status);
        Assert.Equal(SloHealth.Breached, at.Status);
        Assert.Equal(0, at.RemainingMinutes, 9);
        Assert.Equal(TimeSpan.Zero, at.TimeToExhaustion); // nothing remains
        Assert.Equal(at.ExhaustedAt, report.ExhaustedAt);
    }

    [Fact]
    public void An_open_sev2_burns_at_half_speed()
    {
        // 10 min resolved plus an open sev2 since 2 min ago (1 weighted min): remaining 21.6 − 11 = 10.6 min; at weight
        // 0.5 that takes 21.2 min: 12:21:12Z. Then 10 + 0.5 × (2 + 21.2) = 21.6.
        ImpactRecord[] ledger = [Resolved(Severity.Sev1, T("2026-03-10T08:00:00Z"), Min(10)), Open(Severity.Sev2, Now - Min(2))];
        var report = AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], Now);

        Assert.Equal(0.5, report.CurrentBurnWeight);
        Assert.Equal(Min(21.2), report.TimeToExhaustion);
        Assert.Equal(T("2026-03-20T12:21:12Z"), report.ExhaustedAt);
        Assert.Equal(SloHealth.Breached, AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], report.ExhaustedAt!.Value).Status);
        Assert.NotEqual(SloHealth.Breached, AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], report.ExhaustedAt!.Value - Tick).Status);
    }

    [Fact]
    public void An_open_incident_inside_excluded_maintenance_burns_nothing()
    {
        ImpactRecord[] ledger = [Open(Severity.Sev1, Now - Min(5))];
        TimeRange[] maintenance = [new(Now - Min(10), Now + Min(50))];
        var report = AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, maintenance, Now);
        Assert.Equal(0, report.DowntimeMinutes);
        Assert.Equal(0, report.CurrentBurnWeight);
        Assert.Null(report.TimeToExhaustion);
        Assert.Null(report.NextTransitionAt);
        // When maintenance does not count, it burns.
        Assert.Equal(1, AvailabilityMath.Evaluate(Slo with { ExcludeMaintenance = false }, TimeZoneInfo.Utc, ledger, maintenance, Now).CurrentBurnWeight);
    }

    [Fact]
    public void An_overspent_budget_has_no_time_left()
    {
        // 30 min resolved plus an open sev1 since 1 min ago: remaining 21.6 − 31 < 0.
        var report = Evaluate(Resolved(Severity.Sev1, T("2026-03-10T08:00:00Z"), Min(30)), Open(Severity.Sev1, Now - Min(1)));
        Assert.Equal(SloHealth.Breached, report.Status);
        Assert.Equal(TimeSpan.Zero, report.TimeToExhaustion);
        Assert.Equal(Now, report.ExhaustedAt);
        Assert.Null(report.NextTransitionAt);
    }

    // ---- headroom and status ----

    /// <summary>
    /// Impacts of the resolved incidents: sev1 3.6 min, sev2 12 min × 0.5 = 6, sev1 6 min; sorted 3.6, 6, 6, so the
    /// median (rank 2) and p90 (rank 3) are both 6. A sev3 (weight 0) and a billing incident (out of scope) are not
    /// impacts. Downtime 3.6 + 6 + 6 = 15.6, remaining 21.6 − 15.6 = 6 = the median: one more breaches. A tick less of
    /// the first incident leaves 6 min and a tick: it does not.
    /// </summary>
    [Theory]
    [InlineData(0, true)]
    [InlineData(-1, false)]
    public void One_more_median_incident_breaches_exactly_when_remaining_is_at_most_the_median(int ticks, bool breaches)
    {
        var report = Evaluate(
            Resolved(Severity.Sev1, T("2026-03-01T08:00:00Z"), Sec(216) + Tick * ticks),
            Resolved(Severity.Sev2, T("2026-03-05T08:00:00Z"), Min(12)),
            Resolved(Severity.Sev1, T("2026-03-09T08:00:00Z"), Min(6)),
            Resolved(Severity.Sev3, T("2026-03-10T08:00:00Z"), Min(300)),
            Resolved(Severity.Sev1, T("2026-03-11T08:00:00Z"), Min(1), "billing"));

        Assert.Equal(6, report.MedianImpactMinutes!.Value, 9);
        Assert.Equal(6, report.P90ImpactMinutes!.Value, 9);
        Assert.Equal(6, report.RemainingMinutes, 6);
        Assert.Equal(1, report.HeadroomMedian!.Value, 6);
        Assert.Equal(breaches, report.OneMoreMedianBreaches);
        Assert.Equal(breaches, report.HeadroomMedian <= 1);
        Assert.Empty(report.FiringBurnAlerts); // the last incident ended 9 days ago
        Assert.Equal(breaches ? SloHealth.AtRisk : SloHealth.Healthy, report.Status);
    }

    [Fact]
    public void Headroom_counts_incidents_of_median_and_p90_impact()
    {
        // Impacts 1, 2, 3, 4, 10 min: median rank ⌈2.5⌉ = 3 → 3, p90 rank ⌈4.5⌉ = 5 → 10. Downtime 20, remaining
        // 21.6 − 20 = 1.6; headroom 1.6 ÷ 3 = 0.5333 and 1.6 ÷ 10 = 0.16. Remaining ≤ median: at risk, not breached.
        var report = Evaluate(
            Resolved(Severity.Sev1, T("2026-03-01T08:00:00Z"), Min(1)),
            Resolved(Severity.Sev1, T("2026-03-02T08:00:00Z"), Min(2)),
            Resolved(Severity.Sev1, T("2026-03-03T08:00:00Z"), Min(3)),
            Resolved(Severity.Sev1, T("2026-03-04T08:00:00Z"), Min(4)),
            Resolved(Severity.Sev1, T("2026-03-05T08:00:00Z"), Min(10)));
        Assert.Equal(3, report.MedianImpactMinutes!.Value, 9);
        Assert.Equal(10, report.P90ImpactMinutes!.Value, 9);
        Assert.Equal(0.5333, report.HeadroomMedian!.Value, 4);
        Assert.Equal(0.16, report.HeadroomP90!.Value, 9);
        Assert.True(report.OneMoreMedianBreaches);
        Assert.Equal(SloHealth.AtRisk, report.Status);
    }

    [Fact]
    public void Without_resolved_incidents_there_is_no_headroom()
    {
        var report = Evaluate();
        Assert.Null(report.MedianImpactMinutes);
        Assert.Null(report.HeadroomMedian);
        Assert.Null(report.HeadroomP90);
        Assert.False(report.OneMoreMedianBreaches);
        Assert.Equal(SloHealth.Healthy, report.Status);
        Assert.Equal(100, report.SliPercent);
        Assert.Equal(0, report.Consumed);
    }

    // ---- next transition ----

    /// <summary>
    /// Budget 1,296 s. Resolved sev1 impacts 300, 300 and 394 s (median rank 2 = 300 s) long ago, plus an open sev1
    /// since 1 s ago: downtime 994 + 1 = 995 s, remaining 301 s. Healthy: 301 &gt; 300, and 1 s in 5 min is a burn of
    /// 1 ÷ 0.15 = 6.7 &lt; 14.4 (30 min: 1 ÷ 0.9 = 1.1 &lt; 6; 6 h: 1 ÷ 10.8 &lt; 1). At weight 1 the remaining budget
    /// reaches the median 1 s later (at-risk) and 0 another 300 s later (breached, 301 s from now). One tick before
    /// each transition the status has not changed yet: at now + 1 s − 1 tick the 5 min burn is (2 s − 1 tick) ÷ 0.15 s
    /// &lt; 14.4 still.
    /// </summary>
    [Fact]
    public void The_next_transition_is_when_the_current_burn_reaches_the_median_and_then_the_budget()
    {
        ImpactRecord[] ledger =
        [
            Resolved(Severity.Sev1, T("2026-03-01T08:00:00Z"), Sec(300)),
            Resolved(Severity.Sev1, T("2026-03-02T08:00:00Z"), Sec(300)),
            Resolved(Severity.Sev1, T("2026-03-03T08:00:00Z"), Sec(394)),
            Open(Severity.Sev1, Now - Sec(1)),
        ];
        AvailabilityReport At(DateTimeOffset t) => AvailabilityMath.Evaluate(Slo, TimeZoneInfo.Utc, ledger, [], t);

        var healthy = At(Now);
        Assert.Equal(SloHealth.Healthy, healthy.Status);
        Assert.Equal(301 / 60.0, healthy.RemainingMinutes, 9);
        Assert.Equal(Now + Sec(1), healthy.NextTransitionAt);
        Assert.Equal(Now + Sec(301), healthy.ExhaustedAt);

        Assert.Equal(SloHealth.Healthy, At(Now + Sec(1) - Tick).Status);
        var atRisk = At(Now + Sec(1));
        Assert.Equal(SloHealth.AtRisk, atRisk.Status);
        Assert.True(atRisk.OneMoreMedianBreaches);
        Assert.Empty(atRisk.FiringBurnAlerts); // 2 s ÷ 0.15 s = 13.3 < 14.4: the median alone makes it at-risk
        Assert.Equal(Now + Sec(301), atRisk.NextTransitionAt);

        Assert.Equal(SloHealth.AtRisk, At(Now + Sec(301) - Tick).Status);
        var breached = At(Now + Sec(301));
        Assert.Equal(SloHealth.Breached, breached.Status);
        Assert.Null(breached.NextTransitionAt);
    }

    [Fact]
    public void Without_a_median_a_healthy_SLO_turns_next_at_exhaustion()
    {
        // Only an open sev1 since 1 s ago: remaining 1,296 − 1 = 1,295 s; 5 min burn 1 ÷ 0.15 = 6.7, healthy.
        var report = Evaluate(Open(Severity.Sev1, Now - Sec(1)));
        Assert.Equal(SloHealth.Healthy, report.Status);
        Assert.Equal(Now + Sec(1295), report.ExhaustedAt);
        Assert.Equal(report.ExhaustedAt, report.NextTransitionAt);
    }

    [Fact]
    public void Nothing_burning_means_no_next_transition()
    {
        var report = Evaluate(Resolved(Severity.Sev1, T("2026-03-10T08:00:00Z"), Min(5)));
        Assert.Equal(0, report.CurrentBurnWeight);
        Assert.Null(report.TimeToExhaustion);
        Assert.Null(report.ExhaustedAt);
        Assert.Null(report.NextTransitionAt);
    }

    [Fact]
    public void An_incident_that_starts_after_now_is_not_burning_yet()
    {
        var report = Evaluate(Open(Severity.Sev1, Now + Min(1)));
        Assert.Equal(0, report.DowntimeMinutes);
        Assert.Equal(0, report.CurrentBurnWeight);
    }

    [Fact]
    public void A_target_outside_0_to_100_is_refused() =>
        Assert.Throws<ArgumentException>(() => AvailabilityMath.Evaluate(Slo with { Target = 100 }, TimeZoneInfo.Utc, [], [], Now));

    // ---- burn-down ----

    [Fact]
    public void The_burn_down_starts_at_the_whole_budget_steps_down_with_each_outage_and_ends_at_the_remaining_budget()
    {
        // 99.95 % over 30 d: 21.6 min. A 10-min sev1 ten days ago and a 4-min sev2 (weight 0.5, 2 min) yesterday.
        var ledger = new[] { Resolved(Severity.Sev1, Now.AddDays(-10), Min(10)), Resolved(Severity.Sev2, Now.AddDays(-1), Min(4)) };
        var series = AvailabilityMath.BurnDown(Slo, TimeZoneInfo.Utc, ledger, _ => [], Now, points: 31);

        Assert.Equal(21.6, series.BudgetMinutes, 9);
        Assert.Equal((Now.AddDays(-30), Now), (series.WindowStart, series.WindowEnd));
        Assert.Equal(31, series.Points.Count);
        Assert.Equal(Now.AddDays(-30), series.Points[0].At);
        Assert.Equal(Now, series.Points[^1].At);
        Assert.All(series.Points.Zip(series.Points.Skip(1)), pair => Assert.True(pair.Second.At - pair.First.At == TimeSpan.FromDays(1)));
        Assert.Equal(21.6, series.Points[20].RemainingMinutes, 9); // day 20 of 30: the instant the sev1 began
        Assert.Equal(11.6, series.Points[21].RemainingMinutes, 9); // a day later its 10 minutes are spent
        Assert.Equal(11.6, series.Points[29].RemainingMinutes, 9);
        Assert.Equal(Evaluate(ledger).RemainingMinutes, series.Points[^1].RemainingMinutes, 9);
        Assert.Equal(9.6, series.Points[^1].RemainingMinutes, 9);
    }

    [Fact]
    public void A_calendar_month_burn_down_runs_from_the_first_of_the_month_to_now_and_counts_an_open_incident_to_now()
    {
        var monthly = Slo with { Window = AvailabilityMath.CalendarMonth };
        var series = AvailabilityMath.BurnDown(monthly, TimeZoneInfo.Utc, [Open(Severity.Sev1, Now.AddMinutes(-5))], _ => [], Now, points: 2);
        Assert.Equal((T("2026-03-01T00:00:00Z"), T("2026-04-01T00:00:00Z")), (series.WindowStart, series.WindowEnd));
        Assert.Equal([T("2026-03-01T00:00:00Z"), Now], series.Points.Select(p => p.At));
        Assert.Equal(series.BudgetMinutes, series.Points[0].RemainingMinutes, 9);
        Assert.Equal(series.BudgetMinutes - 5, series.Points[1].RemainingMinutes, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => AvailabilityMath.BurnDown(monthly, TimeZoneInfo.Utc, [], _ => [], Now, points: 1));
    }
}
