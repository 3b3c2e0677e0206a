using System.Globalization;

namespace OrleansOps.Domain.Tests;

/// <summary>
/// Every expected instant below is worked out by hand. The DST facts used: Europe/Berlin springs forward on
/// 2026-03-29 at 01:00Z (02:00 CET becomes 03:00 CEST) and falls back on 2026-10-25 at 01:00Z (03:00 CEST becomes
/// 02:00 CET); America/New_York springs forward on 2026-03-08 at 07:00Z (02:00 EST becomes 03:00 EDT) and falls back
/// on 2026-11-01 at 06:00Z (02:00 EDT becomes 01:00 EST). 2026-01-05 is a Monday.
/// </summary>
public sealed class OnCallTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1), Week = TimeSpan.FromDays(7);

    private static DateTimeOffset T(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    private static DateTime Local(string iso) => DateTime.Parse(iso, CultureInfo.InvariantCulture);

    private static RotationLayer Layer(string start, TimeSpan turn, params string[] users) =>
        new() { Start = Local(start), TurnLength = turn, Users = users };

    private static OnCallSchedule Schedule(string zone, params RotationLayer[] layers) =>
        new() { Id = "primary", TimeZone = zone, Layers = layers };

    private static ScheduleRestriction Daily(int hour, TimeSpan duration) =>
        new() { Kind = RestrictionKind.Daily, StartTime = new TimeOnly(hour, 0), Duration = duration };

    private static ScheduleRestriction Weekly(DayOfWeek day, int hour, TimeSpan duration) =>
        new() { Kind = RestrictionKind.Weekly, StartDay = day, StartTime = new TimeOnly(hour, 0), Duration = duration };

    /// <summary>Who is on call, comma-separated; empty for nobody.</summary>
    private static string Who(OnCallSchedule schedule, string at) => string.Join(",", schedule.OnCallAt(T(at)));

    [Theory]
    [InlineData("2026-01-05T08:59:59Z", "")] // before the layer starts
    [InlineData("2026-01-05T09:00:00Z", "alice")]
    [InlineData("2026-01-12T08:59:59Z", "alice")]
    [InlineData("2026-01-12T09:00:00Z", "bob")]
    [InlineData("2026-01-19T09:00:00Z", "carol")]
    [InlineData("2026-01-26T08:59:59Z", "carol")]
    [InlineData("2026-01-26T09:00:00Z", "alice")] // back to the first user
    [InlineData("2026-03-02T10:00:00Z", "carol")] // 26 + 28 + 2 = 56 days in: turn 8, 8 mod 3 = 2
    [InlineData("2026-03-02T10:00:00+01:00", "carol")] // the same hand-off instant (09:00Z) written in another offset
    public void A_weekly_rotation_of_three_users_hands_off_every_seven_days(string at, string expected) =>
        Assert.Equal(expected, Who(Schedule("UTC", Layer("2026-01-05T09:00", Week, "alice", "bob", "carol")), at));

    [Theory]
    // Berlin, spring: 09:00 CET is 08:00Z until 2026-03-28, 09:00 CEST is 07:00Z from 2026-03-29.
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-27T07:59:59Z", "")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-27T08:00:00Z", "ann")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-28T07:59:59Z", "ann")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-28T08:00:00Z", "ben")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-29T06:59:59Z", "ben")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-29T07:00:00Z", "ann")] // 09:00 CEST, 23h after ben took over
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-29T09:00:00+02:00", "ann")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-30T06:59:59Z", "ann")]
    [InlineData("Europe/Berlin", "2026-03-27T09:00", "2026-03-30T07:00:00Z", "ben")]
    // Berlin, autumn: 09:00 CEST is 07:00Z until 2026-10-24, 09:00 CET is 08:00Z from 2026-10-25.
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-23T07:00:00Z", "ann")]
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-24T06:59:59Z", "ann")]
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-24T07:00:00Z", "ben")]
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-25T07:00:00Z", "ben")] // 08:00 CET: 24h on, not yet
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-25T07:59:59Z", "ben")]
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-25T08:00:00Z", "ann")] // 09:00 CET, 25h after
    [InlineData("Europe/Berlin", "2026-10-23T09:00", "2026-10-26T08:00:00Z", "ben")]
    // New York, spring: 09:00 EST is 14:00Z until 2026-03-07, 09:00 EDT is 13:00Z from 2026-03-08.
    [InlineData("America/New_York", "2026-03-06T09:00", "2026-03-06T14:00:00Z", "ann")]
    [InlineData("America/New_York", "2026-03-06T09:00", "2026-03-07T14:00:00Z", "ben")]
    [InlineData("America/New_York", "2026-03-06T09:00", "2026-03-08T12:59:59Z", "ben")]
    [InlineData("America/New_York", "2026-03-06T09:00", "2026-03-08T13:00:00Z", "ann")]
    [InlineData("America/New_York", "2026-03-06T09:00", "2026-03-08T09:00:00-04:00", "ann")]
    [InlineData("America/New_York", "2026-03-06T09:00", "2026-03-09T13:00:00Z", "ben")]
    // New York, autumn: 09:00 EDT is 13:00Z until 2026-10-31, 09:00 EST is 14:00Z from 2026-11-01.
    [InlineData("America/New_York", "2026-10-30T09:00", "2026-10-31T13:00:00Z", "ben")]
    [InlineData("America/New_York", "2026-10-30T09:00", "2026-11-01T13:00:00Z", "ben")] // 08:00 EST
    [InlineData("America/New_York", "2026-10-30T09:00", "2026-11-01T13:59:59Z", "ben")]
    [InlineData("America/New_York", "2026-10-30T09:00", "2026-11-01T14:00:00Z", "ann")]
    [InlineData("America/New_York", "2026-10-30T09:00", "2026-11-01T09:00:00-05:00", "ann")]
    [InlineData("America/New_York", "2026-10-30T09:00", "2026-11-02T14:00:00Z", "ben")]
    public void A_daily_rotation_hands_off_at_nine_local_on_both_sides_of_a_DST_change(string zone, string start, string at, string expected) =>
        Assert.Equal(expected, Who(Schedule(zone, Layer(start, Day, "ann", "ben")), at));

    [Fact]
    public void The_turn_spanning_a_DST_change_lasts_23_or_25_hours()
    {
        var spring = Schedule("Europe/Berlin", Layer("2026-03-27T09:00", Day, "ann", "ben"));
        Assert.Equal(
            [
                new OnCallShift("ann", T("2026-03-28T00:00:00Z"), T("2026-03-28T08:00:00Z")), // clipped to the range
                new OnCallShift("ben", T("2026-03-28T08:00:00Z"), T("2026-03-29T07:00:00Z")),
                new OnCallShift("ann", T("2026-03-29T07:00:00Z"), T("2026-03-30T07:00:00Z")),
                new OnCallShift("ben", T("2026-03-30T07:00:00Z"), T("2026-03-31T00:00:00Z")),
            ],
            spring.ShiftsBetween(T("2026-03-28T00:00:00Z"), T("2026-03-31T00:00:00Z")));

        var autumn = Schedule("Europe/Berlin", Layer("2026-10-23T09:00", Day, "ann", "ben"));
        var shifts = autumn.ShiftsBetween(T("2026-10-24T07:00:00Z"), T("2026-10-26T08:00:00Z"));
        Assert.Equal(
            [
                new OnCallShift("ben", T("2026-10-24T07:00:00Z"), T("2026-10-25T08:00:00Z")),
                new OnCallShift("ann", T("2026-10-25T08:00:00Z"), T("2026-10-26T08:00:00Z")),
            ],
            shifts);
        Assert.Equal(TimeSpan.FromHours(25), shifts[0].End - shifts[0].Start);
    }

    [Theory]
    // 02:30 does not exist on 2026-03-29 in Berlin: that hand-off happens at 03:00 CEST (01:00Z), the first instant after the gap.
    [InlineData("2026-03-28T02:30", "2026-03-28T01:29:59Z", "")]
    [InlineData("2026-03-28T02:30", "2026-03-28T01:30:00Z", "ann")] // 02:30 CET
    [InlineData("2026-03-28T02:30", "2026-03-29T00:59:59Z", "ann")] // 01:59:59 CET, the last second before the jump
    [InlineData("2026-03-28T02:30", "2026-03-29T01:00:00Z", "ben")]
    [InlineData("2026-03-28T02:30", "2026-03-29T03:00:00+02:00", "ben")]
    [InlineData("2026-03-28T02:30", "2026-03-30T00:29:59Z", "ben")]
    [InlineData("2026-03-28T02:30", "2026-03-30T00:30:00Z", "ann")] // 02:30 CEST
    // A layer whose very start falls in the gap starts at 03:00 CEST too.
    [InlineData("2026-03-29T02:30", "2026-03-29T00:59:59Z", "")]
    [InlineData("2026-03-29T02:30", "2026-03-29T01:00:00Z", "ann")]
    [InlineData("2026-03-29T02:30", "2026-03-30T00:30:00Z", "ben")]
    public void A_hand_off_time_inside_the_spring_forward_gap_happens_when_the_clocks_jump(string start, string at, string expected) =>
        Assert.Equal(expected, Who(Schedule("Europe/Berlin", Layer(start, Day, "ann", "ben")), at));

    [Theory]
    // 02:30 happens twice on 2026-10-25 in Berlin: first at 02:30 CEST (00:30Z), again at 02:30 CET (01:30Z). The first counts.
    [InlineData("2026-10-24T02:30", "2026-10-24T00:30:00Z", "ann")] // 02:30 CEST
    [InlineData("2026-10-24T02:30", "2026-10-25T00:29:59Z", "ann")]
    [InlineData("2026-10-24T02:30", "2026-10-25T00:30:00Z", "ben")]
    [InlineData("2026-10-24T02:30", "2026-10-25T02:10:00+01:00", "ben")] // the clock reads before 02:30 again, but the hand-off is past
    [InlineData("2026-10-24T02:30", "2026-10-25T02:30:00+01:00", "ben")] // the second 02:30 is no new hand-off
    [InlineData("2026-10-24T02:30", "2026-10-26T01:29:59Z", "ben")]
    [InlineData("2026-10-24T02:30", "2026-10-26T01:30:00Z", "ann")] // 02:30 CET: ben's turn lasted 25h
    [InlineData("2026-10-25T02:30", "2026-10-25T00:29:59Z", "")]
    [InlineData("2026-10-25T02:30", "2026-10-25T00:30:00Z", "ann")]
    public void A_hand_off_time_in_the_repeated_hour_happens_at_its_first_occurrence(string start, string at, string expected) =>
        Assert.Equal(expected, Who(Schedule("Europe/Berlin", Layer(start, Day, "ann", "ben")), at));

    [Theory]
    [InlineData("Europe/Berlin", "2026-03-29T02:30", "2026-03-29T03:00:00+02:00")] // gap: the jump
    [InlineData("Europe/Berlin", "2026-03-29T02:00", "2026-03-29T03:00:00+02:00")] // the first skipped reading
    [InlineData("Europe/Berlin", "2026-03-29T03:00", "2026-03-29T03:00:00+02:00")] // the first reading after the gap
    [InlineData("Europe/Berlin", "2026-10-25T02:30", "2026-10-25T02:30:00+02:00")] // repeated: the CEST one
    [InlineData("Europe/Berlin", "2026-10-25T03:00", "2026-10-25T03:00:00+01:00")] // only once, in CET
    [InlineData("America/New_York", "2026-03-08T02:30", "2026-03-08T03:00:00-04:00")]
    [InlineData("America/New_York", "2026-11-01T01:30", "2026-11-01T01:30:00-04:00")]
    // Lord Howe Island moves its clocks by half an hour (02:00 +10:30 becomes 02:30 +11:00 on 2026-10-04).
    [InlineData("Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-04T02:30:00+11:00")]
    public void Wall_clock_readings_resolve_to_the_first_instant_the_clock_reads_them_or_later(string zone, string local, string expected)
    {
        var resolved = WallClock.Resolve(Local(local), TimeZoneInfo.FindSystemTimeZoneById(zone));
        Assert.Equal(T(expected), resolved);
        Assert.Equal(T(expected).Offset, resolved.Offset);
    }

    [Theory]
    // 12h turns from 09:00 CET (08:00Z): hand-offs every 12 elapsed hours, at 08:00Z and 20:00Z, which is 10:00 and 22:00 CEST after the change.
    [InlineData("2026-03-28T08:00:00Z", "ann")]
    [InlineData("2026-03-28T19:59:59Z", "ann")]
    [InlineData("2026-03-28T20:00:00Z", "ben")]
    [InlineData("2026-03-29T07:00:00Z", "ben")] // 09:00 CEST: a calendar-day rotation would hand off here, this one does not
    [InlineData("2026-03-29T07:59:59Z", "ben")]
    [InlineData("2026-03-29T08:00:00Z", "ann")] // 10:00 CEST
    [InlineData("2026-03-29T20:00:00Z", "ben")]
    [InlineData("2026-04-10T07:59:59Z", "ben")] // turn 25
    [InlineData("2026-04-10T08:00:00Z", "ann")] // 13 days = turn 26
    public void Turns_that_are_not_whole_days_are_counted_in_elapsed_time_across_DST(string at, string expected) =>
        Assert.Equal(expected, Who(Schedule("Europe/Berlin", Layer("2026-03-28T09:00", TimeSpan.FromHours(12), "ann", "ben")), at));

    [Theory]
    // Daily turns from Monday 2026-03-30 00:00 local: ann on 03-30 and 04-01, ben on 03-31 and 04-02; covered only 09:00-17:00 CEST.
    [InlineData("2026-03-29T12:00:00+02:00", "")] // inside the hours, but before the layer starts
    [InlineData("2026-03-30T09:00:00+02:00", "ann")]
    [InlineData("2026-04-01T08:59:59+02:00", "")]
    [InlineData("2026-04-01T09:00:00+02:00", "ann")]
    [InlineData("2026-04-01T16:59:59+02:00", "ann")]
    [InlineData("2026-04-01T17:00:00+02:00", "")]
    [InlineData("2026-04-01T23:00:00+02:00", "")]
    [InlineData("2026-04-02T12:00:00+02:00", "ben")]
    public void A_daily_restriction_limits_the_layer_to_business_hours(string at, string expected)
    {
        var layer = Layer("2026-03-30T00:00", Day, "ann", "ben") with { Restrictions = [Daily(9, TimeSpan.FromHours(8))] };
        Assert.Equal(expected, Who(Schedule("Europe/Berlin", layer), at));
    }

    [Theory]
    // Weekly turns from Monday 2026-01-05 00:00 UTC; covered 22:00 to 08:00 the next morning.
    [InlineData("2026-01-04T23:00:00Z", "")] // inside Sunday night's window, but before the layer starts
    [InlineData("2026-01-05T00:30:00Z", "ann")] // Sunday night's window, after the layer's start
    [InlineData("2026-01-05T07:59:59Z", "ann")]
    [InlineData("2026-01-05T08:00:00Z", "")]
    [InlineData("2026-01-05T21:59:59Z", "")]
    [InlineData("2026-01-05T22:00:00Z", "ann")]
    [InlineData("2026-01-11T23:59:59Z", "ann")]
    [InlineData("2026-01-12T00:00:00Z", "ben")] // a hand-off in the middle of a window
    [InlineData("2026-01-12T08:00:00Z", "")]
    public void A_daily_restriction_may_wrap_past_midnight(string at, string expected)
    {
        var layer = Layer("2026-01-05T00:00", Week, "ann", "ben") with { Restrictions = [Daily(22, TimeSpan.FromHours(10))] };
        Assert.Equal(expected, Who(Schedule("UTC", layer), at));
    }

    [Theory]
    // 22:00 CET on 03-28 is 21:00Z; 08:00 CEST on 03-29 is 06:00Z: the window lasts 9 hours.
    [InlineData("2026-03-23T00:00", "2026-03-28T20:59:59Z", "")]
    [InlineData("2026-03-23T00:00", "2026-03-28T21:00:00Z", "ann")]
    [InlineData("2026-03-23T00:00", "2026-03-29T05:59:59Z", "ann")]
    [InlineData("2026-03-23T00:00", "2026-03-29T06:00:00Z", "")]
    // 22:00 CEST on 10-24 is 20:00Z; 08:00 CET on 10-25 is 07:00Z: the window lasts 11 hours.
    [InlineData("2026-10-19T00:00", "2026-10-24T19:59:59Z", "")]
    [InlineData("2026-10-19T00:00", "2026-10-24T20:00:00Z", "ann")]
    [InlineData("2026-10-19T00:00", "2026-10-25T06:59:59Z", "ann")]
    [InlineData("2026-10-19T00:00", "2026-10-25T07:00:00Z", "")]
    public void A_restriction_spanning_a_DST_night_ends_at_its_local_end_time(string start, string at, string expected)
    {
        var layer = Layer(start, Week, "ann") with { Restrictions = [Daily(22, TimeSpan.FromHours(10))] };
        Assert.Equal(expected, Who(Schedule("Europe/Berlin", layer), at));
    }

    [Theory]
    // Monday 09:00 for 4d8h: continuously until Friday 17:00.
    [InlineData("2026-01-05T08:59:59Z", "")]
    [InlineData("2026-01-05T09:00:00Z", "ann")]
    [InlineData("2026-01-07T03:00:00Z", "ann")] // Wednesday night is inside: one window, not five days
    [InlineData("2026-01-09T16:59:59Z", "ann")]
    [InlineData("2026-01-09T17:00:00Z", "")]
    [InlineData("2026-01-10T12:00:00Z", "")]
    [InlineData("2026-01-11T12:00:00Z", "")]
    [InlineData("2026-01-12T08:59:59Z", "")]
    [InlineData("2026-01-12T09:00:00Z", "ben")]
    public void A_weekly_restriction_covers_one_stretch_a_week(string at, string expected)
    {
        var layer = Layer("2026-01-05T00:00", Week, "ann", "ben") with
        {
            Restrictions = [Weekly(DayOfWeek.Monday, 9, TimeSpan.FromDays(4) + TimeSpan.FromHours(8))],
        };
        Assert.Equal(expected, Who(Schedule("UTC", layer), at));
    }

    [Theory]
    // Friday 18:00 for 2d15h: the weekend, until Monday 09:00, across Saturday-to-Sunday (the end of DayOfWeek's week).
    [InlineData("2026-01-05T08:59:59Z", "ann")] // the window that opened Friday 01-02, after the layer's start
    [InlineData("2026-01-05T09:00:00Z", "")]
    [InlineData("2026-01-09T17:59:59Z", "")]
    [InlineData("2026-01-09T18:00:00Z", "ann")]
    [InlineData("2026-01-11T12:00:00Z", "ann")]
    [InlineData("2026-01-12T00:00:00Z", "ben")]
    [InlineData("2026-01-12T08:59:59Z", "ben")]
    [InlineData("2026-01-12T09:00:00Z", "")]
    public void A_weekly_restriction_may_wrap_past_the_end_of_the_week(string at, string expected)
    {
        var layer = Layer("2026-01-05T00:00", Week, "ann", "ben") with
        {
            Restrictions = [Weekly(DayOfWeek.Friday, 18, TimeSpan.FromDays(2) + TimeSpan.FromHours(15))],
        };
        Assert.Equal(expected, Who(Schedule("UTC", layer), at));
    }

    [Theory]
    [InlineData("2026-01-04T12:00:00Z", "")] // neither layer has started
    [InlineData("2026-01-05T12:00:00Z", "ann")] // the upper layer has not started
    [InlineData("2026-01-06T08:59:59Z", "ann")] // the upper layer is outside its hours
    [InlineData("2026-01-06T09:00:00Z", "xia")]
    [InlineData("2026-01-06T17:00:00Z", "ann")]
    [InlineData("2026-01-07T12:00:00Z", "yan")]
    public void A_higher_layer_wins_only_where_it_has_someone_on_call(string at, string expected)
    {
        var schedule = Schedule(
            "UTC",
            Layer("2026-01-05T00:00", Week, "ann"),
            Layer("2026-01-06T00:00", Day, "xia", "yan") with { Restrictions = [Daily(9, TimeSpan.FromHours(8))] });
        Assert.Equal(expected, Who(schedule, at));
    }

    [Fact]
    public void Layer_order_decides_precedence_and_an_unusable_layer_has_nobody()
    {
        var weekly = Layer("2026-01-05T00:00", Week, "ann");
        var daily = Layer("2026-01-05T00:00", Day, "xia", "yan");
        Assert.Equal(["xia"], Schedule("UTC", weekly, daily).OnCallAt(T("2026-01-05T12:00:00Z")));
        Assert.Equal(["ann"], Schedule("UTC", daily, weekly).OnCallAt(T("2026-01-05T12:00:00Z")));
        Assert.Equal(["ann"], Schedule("UTC", weekly, Layer("2026-01-05T00:00", Day)).OnCallAt(T("2026-01-05T12:00:00Z")));
        Assert.Equal(["ann"], Schedule("UTC", weekly, Layer("2026-01-05T00:00", TimeSpan.Zero, "xia")).OnCallAt(T("2026-01-05T12:00:00Z")));
        Assert.Empty(Schedule("UTC").OnCallAt(T("2026-01-05T12:00:00Z")));
    }

    [Theory]
    [InlineData("2026-01-01T12:00:00Z", "kim")] // an override needs no layer under it
    [InlineData("2026-01-06T09:59:59Z", "ann")]
    [InlineData("2026-01-06T10:00:00Z", "lee")] // start inclusive
    [InlineData("2026-01-06T10:59:59Z", "lee")]
    [InlineData("2026-01-06T11:00:00Z", "sam")] // the later-starting override wins, whatever the list order
    [InlineData("2026-01-06T11:29:59Z", "sam")]
    [InlineData("2026-01-06T11:30:00Z", "lee")] // end exclusive; the longer override resumes
    [InlineData("2026-01-06T11:59:59Z", "lee")]
    [InlineData("2026-01-06T12:00:00Z", "ann")]
    public void Overrides_take_precedence_from_their_start_until_their_end(string at, string expected)
    {
        var schedule = Schedule("UTC", Layer("2026-01-05T00:00", Week, "ann")) with
        {
            Overrides =
            [
                new ScheduleOverride { User = "sam", Start = T("2026-01-06T11:00:00Z"), End = T("2026-01-06T11:30:00Z") },
                new ScheduleOverride { User = "lee", Start = T("2026-01-06T10:00:00Z"), End = T("2026-01-06T12:00:00Z") },
                new ScheduleOverride { User = "kim", Start = T("2026-01-01T00:00:00Z"), End = T("2026-01-02T00:00:00Z") },
            ],
        };
        Assert.Equal(expected, Who(schedule, at));
    }

    [Fact]
    public void Overrides_starting_together_are_all_on_call()
    {
        var schedule = Schedule("UTC", Layer("2026-01-05T00:00", Week, "ann")) with
        {
            Overrides =
            [
                new ScheduleOverride { User = "sam", Start = T("2026-01-06T10:00:00Z"), End = T("2026-01-06T11:00:00Z") },
                new ScheduleOverride { User = "lee", Start = T("2026-01-06T11:00:00+01:00"), End = T("2026-01-06T12:00:00Z") },
            ],
        };
        Assert.Equal(["sam", "lee"], schedule.OnCallAt(T("2026-01-06T10:30:00Z")));
        Assert.Equal(["lee"], schedule.OnCallAt(T("2026-01-06T11:00:00Z")));
    }

    [Fact]
    public void Shifts_for_a_week_view_merge_layers_and_overrides()
    {
        var schedule = Schedule("UTC", Layer("2026-01-05T09:00", Day, "ann", "ben")) with
        {
            Overrides = [new ScheduleOverride { User = "cat", Start = T("2026-01-06T12:00:00Z"), End = T("2026-01-06T14:00:00Z") }],
        };
        Assert.Equal(
            [
                new OnCallShift("ann", T("2026-01-05T09:00:00Z"), T("2026-01-06T09:00:00Z")),
                new OnCallShift("ben", T("2026-01-06T09:00:00Z"), T("2026-01-06T12:00:00Z")),
                new OnCallShift("cat", T("2026-01-06T12:00:00Z"), T("2026-01-06T14:00:00Z")),
                new OnCallShift("ben", T("2026-01-06T14:00:00Z"), T("2026-01-07T00:00:00Z")),
            ],
            schedule.ShiftsBetween(T("2026-01-05T00:00:00Z"), T("2026-01-07T00:00:00Z")));
        Assert.Empty(schedule.ShiftsBetween(T("2026-01-07T00:00:00Z"), T("2026-01-07T00:00:00Z")));
    }

    [Fact]
    public void Shifts_run_on_across_hand_offs_to_the_same_user_and_stop_at_restrictions()
    {
        var solo = Schedule("UTC", Layer("2026-01-05T00:00", Day, "ann"));
        Assert.Equal(
            [new OnCallShift("ann", T("2026-01-05T12:00:00Z"), T("2026-01-08T12:00:00Z"))],
            solo.ShiftsBetween(T("2026-01-05T12:00:00Z"), T("2026-01-08T12:00:00Z")));

        var office = Schedule("UTC", Layer("2026-01-05T00:00", Day, "ann") with { Restrictions = [Daily(9, TimeSpan.FromHours(8))] });
        Assert.Equal(
            [
                new OnCallShift("ann", T("2026-01-05T09:00:00Z"), T("2026-01-05T17:00:00Z")),
                new OnCallShift("ann", T("2026-01-06T09:00:00Z"), T("2026-01-06T17:00:00Z")),
            ],
            office.ShiftsBetween(T("2026-01-05T00:00:00Z"), T("2026-01-07T00:00:00Z")));
    }

    [Fact]
    public void Problems_name_each_field()
    {
        var at = T("2026-01-06T10:00:00Z");
        var schedule = new OnCallSchedule
        {
            Id = " ",
            TimeZone = "Mars/Olympus_Mons",
            Layers =
            [
                Layer("2026-01-05T00:00", TimeSpan.Zero),
                Layer("2026-01-05T00:00", Day, "ann", " ") with
                {
                    Restrictions =
                    [
                        Daily(9, TimeSpan.FromHours(25)) with { StartDay = DayOfWeek.Monday },
                        new ScheduleRestriction { Kind = RestrictionKind.Weekly, StartTime = new TimeOnly(9, 0), Duration = TimeSpan.FromDays(8) },
                        Weekly(DayOfWeek.Monday, 9, TimeSpan.Zero),
                        Daily(9, TimeSpan.FromHours(8)) with { Kind = (RestrictionKind)7 },
                    ],
                },
            ],
            Overrides = [new ScheduleOverride { User = "", Start = at, End = at }],
        };
        Assert.Equal(
            [
                "schedules[0].id: required",
                "schedules[0].timeZone: 'Mars/Olympus_Mons' is not a known IANA time zone",
                "schedules[0].layers[0].users: at least one user is required",
                "schedules[0].layers[0].turnLength: must be at least 1h",
                "schedules[0].layers[1].users[1]: a user id cannot be blank",
                "schedules[0].layers[1].restrictions[0].duration: a daily restriction lasts more than 0 and at most 1d",
                "schedules[0].layers[1].restrictions[0].startDay: only a weekly restriction has a start day",
                "schedules[0].layers[1].restrictions[1].duration: a weekly restriction lasts more than 0 and at most 7d",
                "schedules[0].layers[1].restrictions[1].startDay: required for a weekly restriction",
                "schedules[0].layers[1].restrictions[2].duration: a weekly restriction lasts more than 0 and at most 7d",
                "schedules[0].layers[1].restrictions[3].kind: must be daily or weekly",
                "schedules[0].overrides[0].user: required",
                "schedules[0].overrides[0].end: must be after start",
            ],
            schedule.Problems("schedules[0]"));
    }

    [Fact]
    public void A_valid_schedule_has_no_problems_and_the_longest_restrictions_are_allowed()
    {
        var schedule = Schedule(
            "Europe/Berlin",
            Layer("2026-01-05T09:00", Week, "ann", "ben") with { Restrictions = [Daily(9, Day), Weekly(DayOfWeek.Monday, 9, Week)] }) with
        {
            Overrides = [new ScheduleOverride { User = "cat", Start = T("2026-01-06T10:00:00Z"), End = T("2026-01-06T10:00:01Z") }],
        };
        Assert.Empty(schedule.Problems("schedules[0]"));
    }

    [Theory]
    [InlineData(-60)]
    [InlineData(59)]
    public void A_turn_shorter_than_an_hour_is_refused(int minutes)
    {
        var schedule = Schedule("UTC", Layer("2026-01-05T09:00", TimeSpan.FromMinutes(minutes), "ann"));
        Assert.Equal(["s.layers[0].turnLength: must be at least 1h"], schedule.Problems("s"));
        Assert.Empty(Schedule("UTC", Layer("2026-01-05T09:00", TimeSpan.FromHours(1), "ann")).Problems("s"));
    }
}
