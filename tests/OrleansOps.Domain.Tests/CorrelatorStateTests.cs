using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

public sealed class CorrelatorStateTests
{
    private static readonly string[] ByAlertname = ["alertname"];

    private static Func<string> Sequence()
    {
        var n = 0;
        return () => $"inc-{++n}";
    }

    [Fact]
    public void Repeats_go_to_the_same_incident_and_count_as_deduplicated()
    {
        var state = new CorrelatorState();
        var ids = Sequence();
        var alert = Firing("Down", instance: "a");
        var (first, changed) = state.Plan("acme", "api", [alert], ByAlertname, ids);
        Assert.True(changed);
        Assert.NotNull(Assert.Single(first).Opens);

        var (second, changedAgain) = state.Plan("acme", "api", [alert, alert], ByAlertname, ids);
        Assert.False(changedAgain);
        Assert.All(second, r => Assert.Equal("inc-1", r.IncidentId));
        Assert.All(second, r => Assert.Null(r.Opens));
        Assert.Equal(2, state.Counters.Deduplicated);
        Assert.Equal(1, state.Counters.IncidentsOpened);
    }

    [Fact]
    public void Alerts_sharing_the_group_key_join_one_incident_and_a_different_group_opens_another()
    {
        var state = new CorrelatorState();
        var (routes, _) = state.Plan("acme", "api",
            [Firing("Down", instance: "a"), Firing("Down", instance: "b"), Firing("DiskFull", instance: "a")], ByAlertname, Sequence());
        Assert.Equal(["inc-1", "inc-1", "inc-2"], routes.Select(r => r.IncidentId));
        Assert.Equal(1, state.Counters.Grouped);
        Assert.Equal(2, state.Counters.IncidentsOpened);
        Assert.Equal("{alertname=\"DiskFull\"}", routes[2].Opens!.GroupKey);
    }

    [Fact]
    public void A_resolve_goes_to_the_holder_and_a_resolve_for_an_unknown_alert_is_counted_not_routed()
    {
        var state = new CorrelatorState();
        var alert = Firing("Down");
        state.Plan("acme", "api", [alert], ByAlertname, Sequence());
        var (routes, changed) = state.Plan("acme", "api", [alert.Resolved(T0), Firing("Other").Resolved(T0)], ByAlertname, Sequence());
        Assert.False(changed);
        Assert.Equal("inc-1", Assert.Single(routes).IncidentId);
        Assert.Equal(RouteKind.Resolve, routes[0].Kind);
        Assert.Equal(1, state.Counters.Unmatched);
    }

    [Fact]
    public void After_forgetting_a_resolved_incident_a_new_firing_opens_a_new_occurrence()
    {
        var state = new CorrelatorState();
        var ids = Sequence();
        var alert = Firing("Down");
        state.Plan("acme", "api", [alert], ByAlertname, ids);
        Assert.True(state.Forget("inc-1"));
        var (routes, _) = state.Plan("acme", "api", [alert], ByAlertname, ids);
        Assert.Equal("inc-2", Assert.Single(routes).IncidentId);
        Assert.NotNull(routes[0].Opens);
    }

    [Fact]
    public void Group_key_uses_only_the_group_by_labels_in_a_stable_order()
    {
        var labels = new Dictionary<string, string> { ["alertname"] = "Down", ["node"] = "a", ["instance"] = "x:9100" };
        Assert.Equal("{alertname=\"Down\",node=\"a\"}", GroupKey.Of(labels, ["node", "alertname"]));
        Assert.Equal("{}", GroupKey.Of(labels, []));
        Assert.Equal("{alertname=\"Down\",instance=\"x:9100\",node=\"a\"}", GroupKey.Of(labels, [GroupKey.AllLabels]));
        Assert.Equal("{zone=\"\"}", GroupKey.Of(labels, ["zone"]));
    }

    [Fact]
    public void Routes_carry_the_index_of_their_alert_even_when_earlier_alerts_have_nowhere_to_go()
    {
        var state = new CorrelatorState();
        var (routes, _) = state.Plan("acme", "api",
            [Firing("Ghost").Resolved(T0), Firing("Ghost").Acknowledging(), Firing("Down")], ByAlertname, Sequence());
        var route = Assert.Single(routes);
        Assert.Equal(2, route.Index);
        Assert.Equal(RouteKind.Opened, route.Kind);
        Assert.Equal(2, state.Counters.Unmatched);
    }

    [Fact]
    public void A_resolve_frees_its_fingerprint_only_once_the_incident_took_it()
    {
        var state = new CorrelatorState();
        var alert = Firing("Down");
        state.Plan("acme", "api", [alert], ByAlertname, Sequence());

        // The delivery failed (no Settle): a retried resolve still finds the incident.
        var (first, changed) = state.Plan("acme", "api", [alert.Resolved(T0)], ByAlertname, Sequence());
        Assert.False(changed);
        var (retry, _) = state.Plan("acme", "api", [alert.Resolved(T0)], ByAlertname, Sequence());
        Assert.Equal("inc-1", Assert.Single(retry).IncidentId);

        Assert.True(state.Settle(retry[0], AlertOutcome.Applied));
        Assert.Empty(state.FiringAlerts);
        Assert.Equal(1, state.Counters.Resolved);
        Assert.Equal("inc-1", Assert.Single(first).IncidentId);
    }

    [Fact]
    public void A_rejected_firing_is_counted_once_as_what_it_finally_became()
    {
        var state = new CorrelatorState();
        var ids = Sequence();
        var alert = Firing("Down");
        state.Plan("acme", "api", [alert], ByAlertname, ids);
        var (routes, _) = state.Plan("acme", "api", [alert], ByAlertname, ids);
        Assert.Equal(RouteKind.Repeat, routes[0].Kind);

        // The incident was resolved by an operator: it rejects; the correlator forgets it and plans again.
        state.Settle(routes[0], AlertOutcome.Rejected);
        state.Forget("inc-1");
        var (again, _) = state.Plan("acme", "api", [alert], ByAlertname, ids, replanning: true);
        Assert.Equal(RouteKind.Opened, again[0].Kind);
        Assert.Equal(2, state.Counters.Received);
        Assert.Equal(2, state.Counters.FiringEvents);
        Assert.Equal(0, state.Counters.Deduplicated);
        Assert.Equal(2, state.Counters.IncidentsOpened);
    }

    [Fact]
    public void A_resolve_and_a_refire_of_one_alert_in_one_batch_leave_it_held()
    {
        var state = new CorrelatorState();
        var ids = Sequence();
        var alert = Firing("Down", instance: "a");
        state.Plan("acme", "api", [alert, Firing("Down", instance: "b")], ByAlertname, ids);

        var (routes, _) = state.Plan("acme", "api", [alert.Resolved(T0), alert], ByAlertname, ids);
        Assert.Equal([RouteKind.Resolve, RouteKind.Repeat], routes.Select(r => r.Kind));
        state.Settle(routes[0], AlertOutcome.Applied);
        state.Settle(routes[1], AlertOutcome.Applied);
        Assert.Equal("inc-1", state.FiringAlerts[alert.Fingerprint]);

        var (resolve, _) = state.Plan("acme", "api", [alert.Resolved(T0)], ByAlertname, ids);
        Assert.Equal("inc-1", Assert.Single(resolve).IncidentId);
    }

    [Fact]
    public void Adopting_a_reopened_incident_leads_its_alerts_and_group_back_to_it()
    {
        var state = new CorrelatorState();
        var ids = Sequence();
        var alert = Firing("Down");
        state.Plan("acme", "api", [alert], ByAlertname, ids);
        state.Forget("inc-1");
        Assert.True(state.Adopt("inc-1", "{alertname=\"Down\"}", [alert.Fingerprint]));
        var (routes, _) = state.Plan("acme", "api", [alert.Resolved(T0), Firing("Down", instance: "z")], ByAlertname, ids);
        Assert.All(routes, r => Assert.Equal("inc-1", r.IncidentId));
        Assert.False(state.Adopt("inc-1", "{alertname=\"Down\"}", [alert.Fingerprint]));
    }
}

public sealed class CorrelatorSuppressionTests
{
    private static readonly string[] ByAlertname = ["alertname"];

    private static SuppressionRules SilenceOf(string alertname, DateTimeOffset until) => new()
    {
        Silences =
        [
            new Silence
            {
                Id = "sil-1", Matchers = [new LabelMatcher("alertname", MatchOperator.Equal, alertname)],
                StartsAt = until.AddDays(-1), EndsAt = until, CreatedBy = "ana", CreatedAt = until.AddDays(-1),
            },
        ],
    };

    [Fact]
    public void A_suppressed_alert_opens_nothing_is_held_and_counted_and_its_resolve_releases_it()
    {
        var state = new CorrelatorState();
        var until = Alerts.T0.AddHours(1);
        var rules = SilenceOf("Down", until);

        var (routes, changed) = state.Plan("acme", "api", [Alerts.Firing("Down"), Alerts.Firing("Down"), Alerts.Firing("Other")], ByAlertname, () => "inc-1", suppression: rules);

        Assert.True(changed);
        Assert.Equal([RouteKind.Suppressed, RouteKind.Suppressed, RouteKind.Opened], routes.Select(r => r.Kind));
        Assert.Equal("sil-1", routes[0].SuppressedBy!.Name);
        Assert.Equal(2, state.Suppressed.Single().Value.Count);
        Assert.DoesNotContain(Alerts.Firing("Down").Fingerprint, state.FiringAlerts.Keys);
        Assert.Equal((2, 1, 3), (state.Counters.Suppressed, state.Counters.IncidentsOpened, state.Counters.FiringEvents));
        Assert.Equal(until, state.NextSuppressionEnd);

        var (resolve, _) = state.Plan("acme", "api", [Alerts.Firing("Down").Resolved(Alerts.T0)], ByAlertname, () => "inc-2", suppression: rules);
        Assert.Empty(resolve);
        Assert.Empty(state.Suppressed);
        Assert.Null(state.NextSuppressionEnd);
    }

    [Fact]
    public void An_alert_already_in_an_open_incident_is_not_hidden_by_a_later_silence()
    {
        var state = new CorrelatorState();
        state.Plan("acme", "api", [Alerts.Firing("Down")], ByAlertname, () => "inc-1");

        var (routes, _) = state.Plan("acme", "api", [Alerts.Firing("Down")], ByAlertname, () => "inc-2", suppression: SilenceOf("Down", Alerts.T0.AddHours(1)));

        Assert.Equal(RouteKind.Repeat, Assert.Single(routes).Kind);
    }

    [Fact]
    public void When_the_rule_ends_still_firing_alerts_are_released_and_ended_ones_dropped()
    {
        var state = new CorrelatorState();
        var until = Alerts.T0.AddMinutes(10);
        var rules = SilenceOf("Down", until) with { Silences = [SilenceOf("Down", until).Silences[0] with { Matchers = [new LabelMatcher("alertname", MatchOperator.Regex, "Down|Gone")] }] };
        state.Plan("acme", "api", [Alerts.Firing("Down"), Alerts.Firing("Gone") with { EndsAt = Alerts.T0.AddMinutes(5) }], ByAlertname, () => "inc-1", suppression: rules);

        Assert.Empty(state.ReleaseDue(until.AddTicks(-1)));
        var released = state.ReleaseDue(until);

        Assert.Equal("Down", Assert.Single(released).Name);
        Assert.Equal(until, released[0].ReceivedAt);
        Assert.Empty(state.Suppressed);
        var (routes, _) = state.Plan("acme", "api", released, ByAlertname, () => "inc-9", replanning: true, suppression: rules);
        Assert.Equal(RouteKind.Opened, Assert.Single(routes).Kind);
        Assert.Equal(2, state.Counters.FiringEvents); // evaluating again is not a new event
    }

    [Fact]
    public void A_silence_expired_early_makes_its_held_alerts_due_at_once()
    {
        var state = new CorrelatorState();
        var rules = SilenceOf("Down", Alerts.T0.AddHours(1));
        state.Plan("acme", "api", [Alerts.Firing("Down")], ByAlertname, () => "inc-1", suppression: rules);

        state.LiftEnded(SuppressionRules.None, Alerts.T0.AddMinutes(1));

        Assert.Equal(Alerts.T0.AddMinutes(1), state.NextSuppressionEnd);
        Assert.Single(state.ReleaseDue(Alerts.T0.AddMinutes(1)));
    }
}

public sealed class CorrelatorWindowAndTopologyTests
{
    private static readonly string[] ByAlertname = ["alertname"];
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private static NormalizedAlert At(NormalizedAlert alert, TimeSpan after) => alert with { ReceivedAt = Alerts.T0 + after };

    [Fact]
    public void A_new_group_joins_an_incident_of_its_service_active_within_the_window_and_says_why()
    {
        var state = new CorrelatorState();
        var ids = new Queue<string>(["inc-1", "inc-2"]);
        state.Plan("acme", "api", [Alerts.Firing("Down")], ByAlertname, ids.Dequeue, window: Window);
        state.Plan("acme", "api", [At(Alerts.Firing("Down", instance: "b"), TimeSpan.FromMinutes(3))], ByAlertname, ids.Dequeue, window: Window); // a new alert: activity at 3m
        state.Plan("acme", "api", [At(Alerts.Firing("Down", instance: "b"), TimeSpan.FromMinutes(6))], ByAlertname, ids.Dequeue, window: Window); // a re-send: no activity

        var (joined, _) = state.Plan("acme", "api", [At(Alerts.Firing("Latency"), TimeSpan.FromMinutes(7))], ByAlertname, ids.Dequeue, window: Window);
        state.Plan("acme", "api", [At(Alerts.Firing("Down", instance: "b"), TimeSpan.FromMinutes(11))], ByAlertname, ids.Dequeue, window: Window); // re-sends keep nothing open
        var (opened, _) = state.Plan("acme", "api", [At(Alerts.Firing("Disk"), TimeSpan.FromMinutes(13))], ByAlertname, ids.Dequeue, window: Window);

        Assert.Equal(("inc-1", RouteKind.Grouped), (joined[0].IncidentId, joined[0].Kind));
        Assert.Equal("time window: an incident of api was active 4m ago (window 5m)", joined[0].Rule);
        Assert.Equal(("inc-2", RouteKind.Opened), (opened[0].IncidentId, opened[0].Kind));
        Assert.StartsWith("new group", opened[0].Rule);
    }

    [Fact]
    public void Without_a_window_only_the_group_key_groups()
    {
        var state = new CorrelatorState();
        var ids = new Queue<string>(["inc-1", "inc-2"]);
        state.Plan("acme", "api", [Alerts.Firing("Down")], ByAlertname, ids.Dequeue);

        var (routes, _) = state.Plan("acme", "api", [At(Alerts.Firing("Latency"), TimeSpan.FromSeconds(1))], ByAlertname, ids.Dequeue,
            upstream: [new UpstreamIncident("inc-db", "db", Alerts.T0)]);

        Assert.Equal(RouteKind.Opened, routes[0].Kind);
    }

    [Fact]
    public void An_alert_whose_upstream_service_has_a_recent_incident_joins_it_as_a_symptom_and_its_group_follows()
    {
        var state = new CorrelatorState();
        var upstream = new[] { new UpstreamIncident("inc-old", "db", Alerts.T0 - TimeSpan.FromMinutes(30)), new UpstreamIncident("inc-db", "db", Alerts.T0 - TimeSpan.FromMinutes(2)) };

        var (symptom, _) = state.Plan("acme", "web", [Alerts.Firing("Errors")], ByAlertname, () => "inc-new", window: Window, upstream: upstream);
        var (sameGroup, _) = state.Plan("acme", "web", [At(Alerts.Firing("Errors", instance: "b"), TimeSpan.FromHours(1))], ByAlertname, () => "inc-new", window: Window);

        Assert.Equal(("inc-db", RouteKind.Grouped), (symptom[0].IncidentId, symptom[0].Kind));
        Assert.Equal("topology: web depends on db, whose incident opened 2m ago", symptom[0].Rule);
        Assert.Equal("inc-db", sameGroup[0].IncidentId);
        Assert.StartsWith("group key", sameGroup[0].Rule);

        var (tooOld, _) = new CorrelatorState().Plan("acme", "web", [Alerts.Firing("Errors")], ByAlertname, () => "inc-new", window: Window, upstream: [upstream[0]]);
        Assert.Equal(RouteKind.Opened, tooOld[0].Kind);
    }
}

public sealed class LateEventTests
{
    private static readonly string[] ByAlertname = ["alertname"];

    [Fact]
    public void A_resolve_that_overtakes_its_trigger_keeps_the_late_trigger_from_opening_an_incident()
    {
        var state = new CorrelatorState();
        var trigger = Alerts.Firing("Down") with { StartsAt = Alerts.T0 };
        var resolve = trigger.Resolved(Alerts.T0.AddMinutes(5)) with { ReceivedAt = Alerts.T0.AddMinutes(5) };

        state.Plan("acme", "api", [resolve], ByAlertname, () => "inc-1");
        var (late, _) = state.Plan("acme", "api", [trigger with { ReceivedAt = Alerts.T0.AddMinutes(6) }], ByAlertname, () => "inc-1");

        Assert.Empty(late);
        Assert.Equal(0, state.Counters.IncidentsOpened);
        Assert.Equal(2, state.Counters.Unmatched);
    }

    [Fact]
    public void A_delayed_resend_of_a_resolved_alert_is_not_a_new_occurrence_but_a_later_start_is()
    {
        var state = new CorrelatorState();
        var ids = new Queue<string>(["inc-1", "inc-2"]);
        var firing = Alerts.Firing("Down") with { StartsAt = Alerts.T0 };
        var (opened, _) = state.Plan("acme", "api", [firing], ByAlertname, ids.Dequeue);
        var (resolve, _) = state.Plan("acme", "api", [firing.Resolved(Alerts.T0.AddMinutes(5))], ByAlertname, ids.Dequeue);
        state.Settle(resolve[0], AlertOutcome.Applied);
        state.Forget("inc-1");

        var (resend, _) = state.Plan("acme", "api", [firing with { ReceivedAt = Alerts.T0.AddMinutes(6) }], ByAlertname, ids.Dequeue);
        var (again, _) = state.Plan("acme", "api", [firing with { StartsAt = Alerts.T0.AddMinutes(7), ReceivedAt = Alerts.T0.AddMinutes(7) }], ByAlertname, ids.Dequeue);

        Assert.Equal("inc-1", opened[0].IncidentId);
        Assert.Empty(resend);
        Assert.Equal(("inc-2", RouteKind.Opened), (again[0].IncidentId, again[0].Kind));
        Assert.Empty(state.RecentResolves);
    }
}
