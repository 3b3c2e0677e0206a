namespace OrleansOps.Domain.Tests;

/// <summary>An operator's correction of how an incident counts: left out of every SLO or of some, or counted over a corrected window.</summary>
public sealed class SlaCorrectionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static readonly AccountConfig Config = new()
    {
        Id = "acme",
        Name = "Acme",
        Services = [new ServiceDefinition { Id = "api" }],
        Sla = new SlaContract
        {
            Availability =
            [
                new AvailabilitySlo { Name = "availability", Target = 99.95, Window = "30d", Services = ["api"] },
                new AvailabilitySlo { Name = "strict", Target = 99.99, Window = "30d", Services = ["api"] },
            ],
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromMinutes(30) },
        },
    };

    /// <summary>A sev1 on api, down for 40 minutes two days ago (resolved after the 30-minute resolution limit).</summary>
    private static IncidentSummary Outage(SlaCorrection? correction = null) => new()
    {
        Id = "inc-aaaaaaaaaaaaaaaa",
        AccountId = "acme",
        Service = "api",
        Title = "API down",
        Severity = Severity.Sev1,
        Status = IncidentStatus.Resolved,
        OpenedAt = Now.AddDays(-2),
        StartedAt = Now.AddDays(-2),
        ResolvedAt = Now.AddDays(-2).AddMinutes(40),
        SlaCorrection = correction,
    };

    private static SlaCorrection Correct(bool exclude = false, string[]? slos = null, DateTimeOffset? start = null, DateTimeOffset? end = null)
    {
        var errors = new List<string>();
        var correction = SlaCorrections.Check(false, exclude, slos ?? [], start, end, "ana", "the customer's own change", Config, Now, errors);
        Assert.Empty(errors);
        return correction!;
    }

    private static double Downtime(SlaSnapshot snapshot, string slo) => snapshot.Availability.Single(a => a.Slo == slo).DowntimeMinutes;

    [Fact]
    public void Left_out_of_every_SLO_it_counts_for_none_and_the_snapshot_lists_it()
    {
        var before = SlaEvaluation.Evaluate(Config, [Outage()], Now);
        Assert.Equal(40, Downtime(before, "availability"), 6);
        Assert.Equal(1, before.Clocks.Single().Breached);
        Assert.Empty(before.Corrections);

        var after = SlaEvaluation.Evaluate(Config, [Outage(Correct(exclude: true))], Now);
        Assert.Equal(0, Downtime(after, "availability"), 6);
        Assert.Equal(0, Downtime(after, "strict"), 6);
        Assert.Equal(0, after.Clocks.Single().Incidents);
        Assert.Equal(SloHealth.Healthy, after.Status);
        var listed = Assert.Single(after.Corrections);
        Assert.Equal("inc-aaaaaaaaaaaaaaaa", listed.IncidentId);
        Assert.Equal("left out of every SLO", listed.Correction.Describe());
    }

    [Fact]
    public void Left_out_of_named_SLOs_it_still_counts_for_the_others()
    {
        var snapshot = SlaEvaluation.Evaluate(Config, [Outage(Correct(exclude: true, slos: ["strict", "sev1-resolution"]))], Now);
        Assert.Equal(40, Downtime(snapshot, "availability"), 6);
        Assert.Equal(0, Downtime(snapshot, "strict"), 6);
        Assert.Equal(0, snapshot.Clocks.Single().Incidents);
        var burnDown = SlaEvaluation.BurnDown(Config, [Outage(Correct(exclude: true, slos: ["strict"]))], Now, 10);
        var strict = burnDown.Single(b => b.Slo == "strict");
        Assert.Equal(strict.BudgetMinutes, strict.Points[^1].RemainingMinutes, 6);
        var availability = burnDown.Single(b => b.Slo == "availability");
        Assert.Equal(availability.BudgetMinutes - 40, availability.Points[^1].RemainingMinutes, 6);
    }

    [Fact]
    public void A_corrected_window_counts_only_the_minutes_within_it()
    {
        var start = Now.AddDays(-2).AddMinutes(10);
        var snapshot = SlaEvaluation.Evaluate(Config, [Outage(Correct(start: start, end: start.AddMinutes(15)))], Now);
        Assert.Equal(15, Downtime(snapshot, "availability"), 6);
        Assert.Equal(1, snapshot.Clocks.Single().Breached); // the clocks go by when it opened and resolved, not by its impact
    }

    [Fact]
    public void A_correction_needs_a_reason_one_kind_of_change_and_SLOs_the_account_has()
    {
        var errors = new List<string>();
        Assert.Null(SlaCorrections.Check(false, true, ["nope"], null, null, "ana", " ", Config, Now, errors));
        Assert.Contains("reason: is required (it goes on the chronicle and the reports)", errors);
        Assert.Contains(errors, e => e.StartsWith("slos: 'nope' is not an SLO of the account (availability, sev1-resolution, strict)", StringComparison.Ordinal));
        errors.Clear();
        SlaCorrections.Check(true, true, [], Now.AddHours(-1), null, "ana", "why", Config, Now, errors);
        Assert.Contains("give exactly one of: withdraw, exclude (with slos to name some), or impactStart and/or impactEnd", errors);
        errors.Clear();
        SlaCorrections.Check(false, false, [], Now.AddHours(-1), Now.AddHours(-2), "ana", "why", Config, Now, errors);
        Assert.Equal(["impactEnd: before impactStart"], errors);
    }

    [Fact]
    public void The_incident_chronicles_a_correction_journals_it_with_its_progress_and_a_second_alike_changes_nothing()
    {
        var incident = new IncidentState();
        var first = Alerts.Firing("Down", Severity.Sev1);
        incident.Open("inc-bbbbbbbbbbbbbbbb", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, Now.AddHours(-1));
        incident.Apply(first, Now.AddHours(-1));
        incident.TakeChange(withRepeats: false, extras: null);

        Assert.True(incident.CorrectSla(Correct(exclude: true), "ana", "the customer's own change", Now));
        Assert.False(incident.CorrectSla(Correct(exclude: true) with { Actor = "ben", Reason = "again" }, "ben", "again", Now));
        var (change, chronicle) = incident.TakeChange(withRepeats: false, extras: null);
        var entry = Assert.Single(chronicle);
        Assert.Equal(ChronicleKinds.SlaCorrected, entry.Kind);
        Assert.Equal("ana", entry.Actor);
        Assert.Equal("SLA corrected, left out of every SLO: the customer's own change", entry.Text);
        Assert.True(incident.Summarize().SlaCorrection!.Excluded);

        var replayed = new IncidentState();
        replayed.Apply(change, null);
        Assert.True(replayed.Summarize().SlaCorrection!.Excluded);

        Assert.True(incident.CorrectSla(null, "ana", "it was ours after all", Now));
        Assert.Null(incident.Summarize().SlaCorrection);
        Assert.StartsWith("SLA correction withdrawn (left out of every SLO)", incident.TakeChange(withRepeats: false, extras: null).Chronicle.Single().Text);
        Assert.False(incident.CorrectSla(null, "ana", "nothing to withdraw", Now));
    }

    [Fact]
    public void A_corrected_impact_window_must_lie_within_what_the_incident_leaves_as_it_happened()
    {
        var incident = new IncidentState();
        var first = Alerts.Firing("Down", Severity.Sev1) with { StartsAt = Now.AddHours(-3) };
        incident.Open("inc-cccccccccccccccc", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, Now.AddHours(-3));
        incident.Apply(first, Now.AddHours(-3));
        incident.Resolve("ana", null, Now.AddHours(-2));
        incident.TakeChange(withRepeats: false, extras: null);

        // Starting after it was resolved, or ending before it started, would count the impact backwards: refused, unchanged.
        var late = Assert.Throws<IncidentTransitionException>(() => incident.CorrectSla(Correct(start: Now.AddHours(-1)), "ana", "late start", Now));
        Assert.Contains("is after the impact's end (the incident was resolved at", late.Message);
        var early = Assert.Throws<IncidentTransitionException>(() => incident.CorrectSla(Correct(end: Now.AddHours(-4)), "ana", "early end", Now));
        Assert.Contains("is before the incident's start", early.Message);
        Assert.Null(incident.Summarize().SlaCorrection);
        Assert.Empty(incident.TakeChange(withRepeats: false, extras: null).Chronicle);

        // With both ends given the window stands on its own; inside the incident's either end alone is fine.
        Assert.True(incident.CorrectSla(Correct(start: Now.AddHours(-1), end: Now.AddMinutes(-30)), "ana", "measured by the customer", Now));
        Assert.True(incident.CorrectSla(Correct(start: Now.AddHours(-2.5)), "ana", "impact began later", Now));
    }
}
