namespace OrleansOps.Domain.Tests;

public sealed class InhibitionTests
{
    private static LabelMatcher M(string text) => LabelMatcher.Parse(text, out var error) ?? throw new InvalidOperationException(error);

    private static NormalizedAlert Alert(string name, string node, string severity = "warning") =>
        Alerts.Firing(name) with { Labels = new Dictionary<string, string> { ["alertname"] = name, ["node"] = node, ["severity"] = severity },
            Fingerprint = AlertFingerprint.Of(new Dictionary<string, string> { ["alertname"] = name, ["node"] = node, ["severity"] = severity }) };

    private static readonly InhibitionRule NodeDownInhibitsWarnings = new()
    {
        Name = "node-down", Source = [M("alertname=\"NodeDown\"")], Target = [M("severity=\"warning\"")], Equal = ["node"],
    };

    [Fact]
    public void A_firing_source_inhibits_targets_with_equal_labels_only_and_never_itself()
    {
        var sources = new InhibitionSources();
        var rules = new[] { NodeDownInhibitsWarnings };
        var source = Alert("NodeDown", "node-a");

        Assert.True(sources.Observe(source, rules));
        Assert.False(sources.Observe(Alert("DiskSlow", "node-a"), rules)); // not a source

        Assert.Equal("node-down: NodeDown is firing", sources.InhibitedBy(Alert("DiskSlow", "node-a"), rules, Alerts.T0));
        Assert.Null(sources.InhibitedBy(Alert("DiskSlow", "node-b"), rules, Alerts.T0)); // equal label differs
        Assert.Null(sources.InhibitedBy(Alert("DiskSlow", "node-a", severity: "critical"), rules, Alerts.T0)); // not a target
        Assert.Null(sources.InhibitedBy(source, rules, Alerts.T0)); // a source that is also a target does not inhibit itself

        Assert.True(sources.Observe(source.Resolved(Alerts.T0), rules));
        Assert.Null(sources.InhibitedBy(Alert("DiskSlow", "node-a"), rules, Alerts.T0));
    }

    [Fact]
    public void A_source_whose_announced_end_has_passed_no_longer_inhibits()
    {
        var sources = new InhibitionSources();
        sources.Observe(Alert("NodeDown", "node-a") with { EndsAt = Alerts.T0.AddMinutes(5) }, [NodeDownInhibitsWarnings]);

        Assert.NotNull(sources.InhibitedBy(Alert("DiskSlow", "node-a"), [NodeDownInhibitsWarnings], Alerts.T0.AddMinutes(4)));
        Assert.Null(sources.InhibitedBy(Alert("DiskSlow", "node-a"), [NodeDownInhibitsWarnings], Alerts.T0.AddMinutes(5)));
    }

    [Fact]
    public void Storm_mode_turns_on_above_the_rate_and_off_a_minute_after()
    {
        var storm = new StormDetector();

        Assert.False(storm.Observe(10, Alerts.T0, perMinute: 10));
        Assert.True(storm.Observe(1, Alerts.T0.AddSeconds(30), perMinute: 10));
        Assert.Equal(11, storm.Rate);
        Assert.True(storm.Observe(0, Alerts.T0.AddSeconds(59), perMinute: 10));
        Assert.False(storm.Observe(0, Alerts.T0.AddSeconds(61), perMinute: 10));
        Assert.False(new StormDetector().Observe(1000, Alerts.T0, perMinute: 0));
    }

    [Fact]
    public void A_storm_window_the_account_sets_replaces_the_minute()
    {
        var storm = new StormDetector();
        var span = TimeSpan.FromSeconds(2); // a replay thirty times faster than real time

        Assert.True(storm.Observe(11, Alerts.T0, perMinute: 10, span));
        Assert.True(storm.Observe(0, Alerts.T0.AddSeconds(1.9), perMinute: 10, span));
        Assert.False(storm.Observe(0, Alerts.T0.AddSeconds(2), perMinute: 10, span));
    }

    [Fact]
    public void A_flapping_alert_back_soon_after_it_ended_its_incident_opens_that_incident_again_and_is_held_once_it_flaps()
    {
        var state = new CorrelatorState();
        var flapping = new FlappingPolicy { Toggles = 4, Window = TimeSpan.FromMinutes(10), Quiet = TimeSpan.FromMinutes(3) };
        var ids = 0;
        string NewId() => $"inc-{++ids}";
        var alert = Alerts.Firing("ReadinessProbeFailed");
        // As the correlator grain does: each answer settled, and an incident whose only alert resolved forgotten.
        Route? Plan(NormalizedAlert a, int second)
        {
            var route = state.Plan("acme", "api", [a with { ReceivedAt = Alerts.T0.AddSeconds(second) }], ["alertname"], NewId, flapping: flapping).Routes.SingleOrDefault();
            if (route is null) return null;
            state.Settle(route, AlertOutcome.Applied);
            if (route.Kind == RouteKind.Resolve) state.Forget(route.IncidentId);
            return route;
        }
        NormalizedAlert FiringFrom(int second) => alert with { StartsAt = Alerts.T0.AddSeconds(second) };
        NormalizedAlert ResolvedAt(int second) => alert.Resolved(Alerts.T0.AddSeconds(second));

        var first = Plan(FiringFrom(0), 0)!;
        Plan(ResolvedAt(30), 30);
        var back = Plan(FiringFrom(60), 60)!;
        Plan(ResolvedAt(90), 90);
        var flapped = Plan(FiringFrom(120), 120)!;

        Assert.Equal(("inc-1", RouteKind.Opened), (first.IncidentId, first.Kind));
        Assert.Equal(("inc-1", RouteKind.Grouped, true), (back.IncidentId, back.Kind, back.Reopens));
        Assert.Equal("flapping: ReadinessProbeFailed fired again 30s after it resolved here (fired, resolved and fired again within 60s)", back.Rule);
        Assert.Equal(CorrelationRelation.Flapping, CorrelationRelation.Of(back.Rule));
        Assert.Equal((RouteKind.Suppressed, SuppressionReason.FlappingKind), (flapped.Kind, flapped.SuppressedBy!.Kind));
        Assert.Equal(1, ids);

        // A failure of minutes, and the same alert back minutes after it ended, is another occurrence: a new incident.
        var (failure, relapse) = (new CorrelatorState(), 0);
        foreach (var (a, second) in new[] { (FiringFrom(0), 0), (ResolvedAt(300), 300), (FiringFrom(480), 480) })
        {
            var route = failure.Plan("acme", "api", [a with { ReceivedAt = Alerts.T0.AddSeconds(second) }], ["alertname"], () => $"f-{++relapse}", flapping: flapping).Routes.Single();
            failure.Settle(route, AlertOutcome.Applied);
            if (route.Kind == RouteKind.Resolve) failure.Forget(route.IncidentId);
            if (second == 480) Assert.Equal(("f-2", RouteKind.Opened), (route.IncidentId, route.Kind));
        }

        // Its resolve ends the hold; back after the flapping window, it is a new occurrence: a new incident.
        Assert.Null(Plan(ResolvedAt(3600), 3600));
        var newOccurrence = Plan(FiringFrom(3600 + 11 * 60), 3600 + 11 * 60)!;
        Assert.Equal(("inc-2", RouteKind.Opened), (newOccurrence.IncidentId, newOccurrence.Kind));
    }

    [Fact]
    public void A_flapping_alert_opens_no_new_incident_until_it_has_been_quiet_and_storms_group_by_service()
    {
        var state = new CorrelatorState();
        var flapping = new FlappingPolicy { Toggles = 3, Window = TimeSpan.FromMinutes(10), Quiet = TimeSpan.FromMinutes(5) };
        var ids = 0;
        string NewId() => $"inc-{++ids}";
        var alert = Alerts.Firing("Flappy");
        NormalizedAlert At(NormalizedAlert a, int minute) => a with { ReceivedAt = Alerts.T0.AddMinutes(minute) };
        // Each resolve resolves the incident too (it is the only alert), so each firing would open a new incident.
        state.Plan("acme", "api", [At(alert, 0)], ["alertname"], NewId, flapping: flapping);       // toggle 1
        state.Forget("inc-1");
        state.Plan("acme", "api", [At(alert.Resolved(Alerts.T0), 1)], ["alertname"], NewId, flapping: flapping); // toggle 2
        var (second, _) = state.Plan("acme", "api", [At(alert, 2)], ["alertname"], NewId, flapping: flapping); // toggle 3
        state.Forget(second[0].IncidentId);
        state.Plan("acme", "api", [At(alert.Resolved(Alerts.T0), 3)], ["alertname"], NewId, flapping: flapping); // toggle 4
        var (held, _) = state.Plan("acme", "api", [At(alert, 4)], ["alertname"], NewId, flapping: flapping);   // toggle 5: flapping

        Assert.Equal(RouteKind.Suppressed, held[0].Kind);
        Assert.Equal(new SuppressionReason("flapping", "Flappy", Alerts.T0.AddMinutes(9)), held[0].SuppressedBy);
        var released = state.ReleaseDue(Alerts.T0.AddMinutes(9));
        var (opened, _) = state.Plan("acme", "api", released, ["alertname"], NewId, replanning: true, flapping: flapping);
        Assert.Equal(RouteKind.Opened, opened[0].Kind);

        var (storm, _) = new CorrelatorState().Plan("acme", "api", [Alerts.Firing("A"), Alerts.Firing("B")], ["alertname"], NewId,
            signals: new AccountSignals { StormRate = 250 });
        Assert.Equal(storm[0].IncidentId, storm[1].IncidentId);
        Assert.StartsWith("storm mode: 250 new alerts", storm[1].Rule);
    }
}
