using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

/// <summary>Response and resolution clocks: the incident is woken at the instants it asks for, as its timer would.</summary>
public sealed class SlaClockTests
{
    private static readonly AccountConfig Contract = new()
    {
        Id = "acme",
        Name = "Acme",
        Sla = new SlaContract
        {
            Response = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromMinutes(15), [Severity.Sev2] = TimeSpan.FromHours(1) },
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromHours(2) },
        },
    };

    private static IncidentState Open(Severity severity)
    {
        var incident = new IncidentState();
        var first = Firing("Down", severity);
        incident.Open("inc-aaaaaaaaaaaaaaaa", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, T0);
        incident.Apply(first, T0);
        return incident;
    }

    private static void RunUntil(IncidentState incident, DateTimeOffset until)
    {
        while (incident.NextWake is { } due && due <= until && incident.EscalationDue(due)) incident.Escalate(Contract, due);
    }

    private static List<(string Kind, DateTimeOffset At, string Clock)> ClockEntries(IncidentState incident) =>
        incident.Recorded.Where(e => e.Kind is ChronicleKinds.SlaWarning or ChronicleKinds.SlaBreached)
            .Select(e => (e.Kind, e.At, e.Data["clock"])).ToList();

    [Fact]
    public void A_clock_the_incident_was_left_out_of_warns_and_breaches_nothing_and_wakes_nobody()
    {
        var incident = Open(Severity.Sev1);
        RunUntil(incident, T0.AddMinutes(1)); // the clocks start
        var errors = new List<string>();
        var correction = SlaCorrections.Check(false, true, ["sev1-response"], null, null, "ana", "a test page", Contract, T0, errors);
        Assert.Empty(errors);
        Assert.True(incident.CorrectSla(correction, "ana", "a test page", T0.AddMinutes(1)));

        RunUntil(incident, T0.AddHours(3));

        // Only the resolution clock, which still counts, warns and breaches; then nothing is left to wake for.
        Assert.Equal(
            [(ChronicleKinds.SlaWarning, T0.AddMinutes(96), "sev1-resolution"), (ChronicleKinds.SlaBreached, T0.AddMinutes(120), "sev1-resolution")],
            ClockEntries(incident));
        Assert.Null(incident.NextWake);
    }

    [Fact]
    public void A_sev1_warns_at_80_percent_of_each_window_and_breaches_at_the_deadline()
    {
        var incident = Open(Severity.Sev1);
        RunUntil(incident, T0.AddHours(3));

        // 15 min response: warning at 12 min, breach at 15; 2 h resolution: warning at 96 min, breach at 120.
        Assert.Equal(
            [(ChronicleKinds.SlaWarning, T0.AddMinutes(12), "sev1-response"), (ChronicleKinds.SlaBreached, T0.AddMinutes(15), "sev1-response"),
             (ChronicleKinds.SlaWarning, T0.AddMinutes(96), "sev1-resolution"), (ChronicleKinds.SlaBreached, T0.AddMinutes(120), "sev1-resolution")],
            ClockEntries(incident));
        Assert.Null(incident.NextWake);
    }

    [Fact]
    public void Acknowledging_in_time_stops_the_response_clock_and_resolving_stops_the_resolution_clock()
    {
        var incident = Open(Severity.Sev1);
        RunUntil(incident, T0.AddMinutes(13));
        incident.Acknowledge("ana", T0.AddMinutes(13));
        RunUntil(incident, T0.AddMinutes(100));
        incident.Resolve("ana", null, T0.AddMinutes(100));
        RunUntil(incident, T0.AddHours(5));

        Assert.Equal(
            [(ChronicleKinds.SlaWarning, T0.AddMinutes(12), "sev1-response"), (ChronicleKinds.SlaWarning, T0.AddMinutes(96), "sev1-resolution")],
            ClockEntries(incident));
        Assert.All(incident.Clocks, c => Assert.False(c.Breached));
        Assert.Equal(T0.AddMinutes(13), incident.Clocks.Single(c => c.Kind == ClockKind.Response).MetAt);
    }

    [Fact]
    public void A_severity_raise_moves_the_deadline_to_the_stricter_one_counted_from_the_opening()
    {
        var incident = Open(Severity.Sev2);
        RunUntil(incident, T0.AddMinutes(20));
        Assert.Equal(T0.AddHours(1), incident.Clocks.Single().Deadline); // sev2: 1 h to respond, no resolution clock

        incident.Apply(Firing("Outage", Severity.Sev1), T0.AddMinutes(20));
        RunUntil(incident, T0.AddMinutes(20));
        // sev1 owes a response 15 minutes after the opening: already late when it became sev1.
        Assert.Equal([(ChronicleKinds.SlaBreached, T0.AddMinutes(20), "sev1-response")], ClockEntries(incident));
        Assert.Equal(T0.AddHours(2), incident.Clocks.Single(c => c.Kind == ClockKind.Resolution).Deadline);
    }

    [Fact]
    public void Without_deadlines_for_its_severity_an_incident_runs_no_clock()
    {
        var incident = Open(Severity.Sev3);
        RunUntil(incident, T0.AddDays(1));
        Assert.Empty(incident.Clocks);
        Assert.Empty(ClockEntries(incident));
    }
}

public sealed class BusinessHoursTests
{
    private static readonly BusinessHours Weekdays = new()
    {
        Days = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday],
        From = new TimeOnly(9, 0),
        To = new TimeOnly(17, 0),
    };

    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    [Fact]
    public void Four_business_hours_from_friday_afternoon_end_on_monday_morning()
    {
        // Friday 2026-11-20 16:30 EST (21:30Z): 30 minutes on Friday, 3 h 30 on Monday from 09:00 → Monday 12:30 EST.
        var start = new DateTimeOffset(2026, 11, 20, 21, 30, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 17, 30, 0, TimeSpan.Zero), Weekdays.Add(start, TimeSpan.FromHours(4), NewYork));
        Assert.Equal(TimeSpan.FromHours(4), Weekdays.Between(start, new DateTimeOffset(2026, 11, 23, 17, 30, 0, TimeSpan.Zero), NewYork));
        // Opened on Saturday: the clock starts on Monday at 09:00.
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 15, 0, 0, TimeSpan.Zero), Weekdays.Add(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(1), NewYork));
    }

    [Fact]
    public void Business_hours_keep_their_local_times_across_the_fall_back()
    {
        // Friday 2026-10-30 16:00 EDT (20:00Z) + 2 h: 1 h on Friday, 1 h on Monday 2 November from 09:00 EST (14:00Z).
        Assert.Equal(new DateTimeOffset(2026, 11, 2, 15, 0, 0, TimeSpan.Zero),
            Weekdays.Add(new DateTimeOffset(2026, 10, 30, 20, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(2), NewYork));
    }

    [Fact]
    public void A_sev3_resolution_clock_counts_business_time_and_a_sev1_does_not()
    {
        var contract = new SlaContract
        {
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromHours(4), [Severity.Sev3] = TimeSpan.FromHours(4) },
            BusinessHours = Weekdays with { Severities = [Severity.Sev3] },
        };
        var friday = new DateTimeOffset(2026, 11, 20, 21, 30, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 17, 30, 0, TimeSpan.Zero), contract.Deadline(Severity.Sev3, friday, TimeSpan.FromHours(4), NewYork));
        Assert.Equal(friday.AddHours(4), contract.Deadline(Severity.Sev1, friday, TimeSpan.FromHours(4), NewYork));
        Assert.Empty(Weekdays.Problems("b"));
        Assert.Equal(["b.days: name at least one day", "b: to must be after from (business hours within one day)"],
            (Weekdays with { Days = [], To = new TimeOnly(8, 0) }).Problems("b"));
    }
}
