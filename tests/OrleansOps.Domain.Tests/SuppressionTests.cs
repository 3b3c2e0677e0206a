namespace OrleansOps.Domain.Tests;

public sealed class SuppressionTests
{
    private static readonly Dictionary<string, string> Disk = new() { ["alertname"] = "DiskFull", ["node"] = "node-a" };

    private static LabelMatcher Matcher(string text) => LabelMatcher.Parse(text, out var error) ?? throw new InvalidOperationException(error);

    [Theory]
    [InlineData("alertname=\"DiskFull\"", true)]
    [InlineData("alertname!=\"DiskFull\"", false)]
    [InlineData("alertname=~\"Disk\"", false)] // anchored: a regex must match the whole value
    [InlineData("alertname=~\"Disk.*\"", true)]
    [InlineData("alertname=~\"disk.*\"", false)]
    [InlineData("alertname!~\"Disk.*\"", false)]
    [InlineData("node=~\"node-a|node-b\"", true)]
    [InlineData("env=\"\"", true)] // a missing label reads as empty
    [InlineData("env!=\"\"", false)]
    [InlineData("env=~\".*\"", true)]
    [InlineData("severity!=\"critical\"", true)]
    [InlineData("node=node-a", true)]
    public void Matchers_follow_Alertmanager(string text, bool matches) =>
        Assert.Equal(matches, Matcher(text).Matches(Disk));

    [Theory]
    [InlineData("alertname")]
    [InlineData("=\"x\"")]
    [InlineData("1abc=\"x\"")]
    [InlineData("alertname=~\"(\"")]
    [InlineData("alertname==\"x\"")]
    public void Bad_matchers_are_refused_with_a_reason(string text)
    {
        Assert.Null(LabelMatcher.Parse(text, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void A_matcher_prints_as_it_parses()
    {
        var matcher = Matcher("summary=~\"a \\\"quoted\\\" .*\"");
        Assert.Equal("a \"quoted\" .*", matcher.Value);
        Assert.Equal(matcher, Matcher(matcher.ToString()));
    }

    [Fact]
    public void A_one_off_window_covers_its_start_but_not_its_end()
    {
        var start = new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);
        var window = new MaintenanceWindow { Name = "migration", Start = start, End = start.AddHours(2) };

        Assert.Null(window.OccurrenceAt(start.AddTicks(-1), "UTC"));
        Assert.Equal((start, start.AddHours(2)), window.OccurrenceAt(start, "UTC"));
        Assert.NotNull(window.OccurrenceAt(start.AddHours(2).AddTicks(-1), "UTC"));
        Assert.Null(window.OccurrenceAt(start.AddHours(2), "UTC"));
    }

    [Fact]
    public void A_cron_window_in_a_time_zone_lasts_its_duration_in_real_time_across_the_autumn_DST_change()
    {
        // 01:00 New York every day, for two hours. On 2026-11-01 clocks fall back at 02:00 EDT to 01:00 EST:
        // the window opens at 01:00 EDT (05:00Z) once, and closes two real hours later (07:00Z, 02:00 EST).
        var window = new MaintenanceWindow { Name = "nightly", Cron = "0 1 * * *", Duration = TimeSpan.FromHours(2), TimeZone = "America/New_York" };
        DateTimeOffset Utc(int hour, int minute) => new(2026, 11, 1, hour, minute, 0, TimeSpan.Zero);

        Assert.Null(window.OccurrenceAt(Utc(4, 59), "UTC"));
        Assert.Equal((Utc(5, 0), Utc(7, 0)), window.OccurrenceAt(Utc(6, 30), "UTC")); // 01:30 EST, the repeated hour
        Assert.Null(window.OccurrenceAt(Utc(7, 0), "UTC"));
        // The day before, in EDT: 01:00 is 05:00Z as well; the day after, in EST, 06:00Z.
        Assert.NotNull(window.OccurrenceAt(new DateTimeOffset(2026, 10, 31, 5, 30, 0, TimeSpan.Zero), "UTC"));
        Assert.Null(window.OccurrenceAt(new DateTimeOffset(2026, 11, 2, 5, 30, 0, TimeSpan.Zero), "UTC"));
        Assert.NotNull(window.OccurrenceAt(new DateTimeOffset(2026, 11, 2, 6, 30, 0, TimeSpan.Zero), "UTC"));
    }

    [Fact]
    public void A_cron_window_whose_start_falls_in_the_spring_gap_opens_when_the_clock_jumps()
    {
        // 02:30 does not exist in New York on 2026-03-08 (02:00 EST jumps to 03:00 EDT = 07:00Z).
        var window = new MaintenanceWindow { Name = "patch", Cron = "30 2 * * *", Duration = TimeSpan.FromMinutes(30), TimeZone = "America/New_York" };

        var occurrence = window.OccurrenceAt(new DateTimeOffset(2026, 3, 8, 7, 10, 0, TimeSpan.Zero), "UTC");

        Assert.NotNull(occurrence);
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 7, 0, 0, TimeSpan.Zero), occurrence.Value.Start);
    }

    [Fact]
    public void An_rrule_window_recurs_in_local_time_and_the_account_zone_is_the_default()
    {
        // Sundays 03:00 New York local time, one hour: 08:00Z in winter, 07:00Z in summer.
        var window = new MaintenanceWindow
        {
            Name = "sunday",
            RRule = "FREQ=WEEKLY;BYDAY=SU",
            Start = new DateTimeOffset(2026, 3, 1, 3, 0, 0, TimeSpan.FromHours(-5)),
            Duration = TimeSpan.FromHours(1),
        };

        Assert.NotNull(window.OccurrenceAt(new DateTimeOffset(2026, 11, 8, 8, 30, 0, TimeSpan.Zero), "America/New_York"));
        Assert.NotNull(window.OccurrenceAt(new DateTimeOffset(2026, 7, 5, 7, 30, 0, TimeSpan.Zero), "America/New_York"));
        Assert.Null(window.OccurrenceAt(new DateTimeOffset(2026, 7, 5, 8, 30, 0, TimeSpan.Zero), "America/New_York"));
        Assert.Null(window.OccurrenceAt(new DateTimeOffset(2026, 11, 9, 8, 30, 0, TimeSpan.Zero), "America/New_York"));
        Assert.Null(window.OccurrenceAt(new DateTimeOffset(2026, 2, 22, 8, 30, 0, TimeSpan.Zero), "America/New_York")); // before DTSTART
    }

    [Theory]
    [InlineData(null, null, null, null, "exactly one of")]
    [InlineData("* * *", null, "1h", null, "not a cron expression")]
    [InlineData("0 1 * * *", null, null, null, "duration")]
    [InlineData(null, "FREQ=WEEKLY;BYDAY=XX", "1h", "2026-01-01T00:00:00Z", "rrule")]
    [InlineData(null, "FREQ=DAILY", "1h", null, "start: required with rrule")]
    [InlineData("0 1 * * *", null, "40d", null, "duration")]
    public void Invalid_windows_say_what_is_wrong(string? cron, string? rrule, string? duration, string? start, string expected)
    {
        var window = new MaintenanceWindow
        {
            Name = "w",
            Cron = cron,
            RRule = rrule,
            Duration = duration is null ? null : Durations.TryParse(duration, out var d) ? d : throw new InvalidOperationException(),
            Start = start is null ? null : DateTimeOffset.Parse(start),
        };

        Assert.Contains(window.Problems("maintenance[0]", "UTC"), p => p.Contains(expected));
    }

    [Fact]
    public void Rules_name_the_window_or_silence_and_when_it_ends()
    {
        var now = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        var alert = new NormalizedAlert
        {
            Source = "test", Service = "ehr-api", Labels = Disk, Severity = Severity.Sev2, Status = AlertStatus.Firing,
            StartsAt = now, Fingerprint = "f", ReceivedAt = now,
        };
        var silence = new Silence
        {
            Id = "sil-1", Matchers = [Matcher("node=\"node-a\"")], StartsAt = now.AddHours(-1), EndsAt = now.AddHours(1),
            CreatedBy = "ana", CreatedAt = now.AddHours(-1),
        };
        var rules = new SuppressionRules
        {
            Silences = [silence],
            Maintenance = [new MaintenanceWindow { Name = "other", Matchers = [Matcher("service=\"imaging\"")], Start = now, End = now.AddDays(1) }],
        };

        Assert.Equal(new SuppressionReason("silence", "sil-1", now.AddHours(1)), rules.Check(alert, now));
        Assert.Null(rules.Check(alert, now.AddHours(1)));
        Assert.Null(rules with { Silences = [silence with { ExpiredAt = now.AddMinutes(-1) }] } is var expired ? expired.Check(alert, now) : null);
        Assert.Equal("maintenance", (rules with { Maintenance = [rules.Maintenance[0] with { Matchers = [Matcher("service=\"ehr-api\"")] }] }).Check(alert, now)!.Kind);
    }
}
