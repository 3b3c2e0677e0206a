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
    private static readonly string[] ByAlertnameAndNode = ["alertname", "instance"];
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private static NormalizedAlert At(NormalizedAlert alert, TimeSpan after) => alert with { ReceivedAt = Alerts.T0 + after };

    private static NormalizedAlert Failure(string name, string node, TimeSpan after) => At(Alerts.Firing(name, Severity.Sev2, instance: node), after);

    private static NormalizedAlert Warning(string name, string node, TimeSpan after) => At(Alerts.Firing(name, Severity.Sev3, instance: node), after);

    private static Route PlanOne(CorrelatorState state, NormalizedAlert alert, Func<string> ids, IReadOnlyList<UpstreamIncident>? upstream = null) =>
        Assert.Single(state.Plan("acme", "api", [alert], ByAlertnameAndNode, ids, window: Window, upstream: upstream, symptomSeverity: Severity.Sev2).Routes);

    private static readonly TimeSpan SymptomWait = TimeSpan.FromSeconds(30);

    /// <summary>Plans one alert with <see cref="SymptomWait"/> set: weaker alerts wait for their failure, and relate to it only that close.</summary>
    private static Route PlanWaiting(CorrelatorState state, NormalizedAlert alert, Func<string> ids, bool replanning = false) =>
        Assert.Single(state.Plan("acme", "api", [alert], ByAlertnameAndNode, ids, replanning, window: Window, symptomSeverity: Severity.Sev2, symptomWait: SymptomWait).Routes);

    /// <summary>One alert of <paramref name="service"/> planned by that service's correlator in <paramref name="states"/>, all of them sharing the account's node and zone failures, as the correlator grain plans them.</summary>
    private static Route PlanIn(Dictionary<string, CorrelatorState> states, SharedFailures shared, Func<string> ids, string service, NormalizedAlert alert,
        TimeSpan symptomWait = default, TimeSpan? window = null)
    {
        if (!states.TryGetValue(service, out var state)) states[service] = state = new CorrelatorState();
        return Assert.Single(state.Plan("acme", service, [alert with { Service = service }], ByAlertnameAndNode, ids,
            window: window ?? Window, symptomSeverity: Severity.Sev2, symptomWait: symptomWait, shared: shared).Routes);
    }

    private static Func<string> Ids(params string[] ids)
    {
        var queue = new Queue<string>(ids);
        return queue.Dequeue;
    }

    [Fact]
    public void The_same_alert_on_another_node_joins_within_the_window_of_its_latest_arrival_and_says_why()
    {
        var state = new CorrelatorState();
        var ids = Ids("inc-1", "inc-2");
        PlanOne(state, Failure("Down", "a", TimeSpan.Zero), ids);
        var spreading = PlanOne(state, Failure("Down", "b", TimeSpan.FromMinutes(3)), ids);
        PlanOne(state, Failure("Down", "b", TimeSpan.FromMinutes(6)), ids); // a re-send is not a new arrival
        var stillSpreading = PlanOne(state, Failure("Down", "c", TimeSpan.FromMinutes(8)), ids);
        var anotherFailure = PlanOne(state, Failure("Down", "d", TimeSpan.FromMinutes(14)), ids);

        Assert.Equal(("inc-1", RouteKind.Grouped), (spreading.IncidentId, spreading.Kind));
        Assert.Equal("time window: Down of api joined this incident 3m ago (window 5m)", spreading.Rule);
        Assert.Equal("inc-1", stillSpreading.IncidentId);
        Assert.Equal(("inc-2", RouteKind.Opened), (anotherFailure.IncidentId, anotherFailure.Kind));
        Assert.StartsWith("new group", anotherFailure.Rule);
    }

    [Fact]
    public void A_warning_elsewhere_on_a_failing_service_opens_its_own_incident_but_another_failure_of_it_joins_whatever_its_name()
    {
        var state = new CorrelatorState();
        var ids = Ids("inc-1", "inc-2", "inc-3");
        var shared = new SharedFailures();
        shared.Configure(new AccountConfig { Id = "acme", Name = "Acme", SameServiceRelation = true });
        Route Plan(NormalizedAlert alert) => Assert.Single(state.Plan("acme", "api", [alert], ByAlertnameAndNode, ids, window: Window,
            symptomSeverity: Severity.Sev2, shared: shared).Routes);
        Plan(Failure("Down", "a", TimeSpan.Zero));

        var otherNode = Plan(Warning("DiskSpaceLow", "b", TimeSpan.FromSeconds(30)));
        var otherFailure = Plan(Failure("PodCrashLooping", "c", TimeSpan.FromSeconds(40)));
        var afterTheWindow = Plan(Failure("ErrorBudgetBurn", "c", TimeSpan.FromSeconds(40) + Window + TimeSpan.FromSeconds(1)));
        // Without the account's sameService, another failure of the service is its own incident, as before.
        var without = new CorrelatorState();
        PlanOne(without, Failure("Down", "a", TimeSpan.Zero), Ids("inc-x"));
        Assert.Equal(RouteKind.Opened, PlanOne(without, Failure("PodCrashLooping", "c", TimeSpan.FromSeconds(40)), Ids("inc-y")).Kind);

        Assert.Equal(("inc-2", RouteKind.Opened), (otherNode.IncidentId, otherNode.Kind));
        Assert.Equal(("inc-1", RouteKind.Grouped), (otherFailure.IncidentId, otherFailure.Kind));
        Assert.Equal("same service: api failed in this incident 40s ago (window 5m)", otherFailure.Rule);
        Assert.Equal(("inc-3", RouteKind.Opened), (afterTheWindow.IncidentId, afterTheWindow.Kind));
    }

    [Fact]
    public void A_failure_on_a_shared_node_relates_the_alerts_of_every_service_on_it_and_says_which_service_failed_there()
    {
        var nodes = new SharedFailures();
        nodes.Configure(new AccountConfig { Id = "acme", Name = "Acme", SameServiceRelation = true });
        var (infra, auth, orders) = (new CorrelatorState(), new CorrelatorState(), new CorrelatorState());
        var ids = Ids("inc-node", "inc-2", "inc-3");
        Route Plan(CorrelatorState state, string service, NormalizedAlert alert) => Assert.Single(state.Plan("acme", service, [alert with { Service = service }],
            ByAlertnameAndNode, ids, window: Window, symptomSeverity: Severity.Sev2, shared: nodes).Routes);

        var nodeDown = Plan(infra, "node-exporter", Failure("NodeDown", "worker-b-2", TimeSpan.Zero));
        var target = Plan(auth, "auth", Failure("TargetDown", "worker-b-2", TimeSpan.FromSeconds(98)));
        var latency = Plan(orders, "orders", Warning("HighLatency", "worker-b-2", TimeSpan.FromSeconds(110)));
        var elsewhere = Plan(orders, "orders", Failure("TargetDown", "worker-c-1", TimeSpan.FromSeconds(120)));
        nodes.Forget("inc-node");
        var afterResolve = Plan(auth, "auth", Failure("Errors", "worker-b-2", TimeSpan.FromSeconds(130)));

        Assert.Equal(RouteKind.Opened, nodeDown.Kind);
        Assert.Equal(("inc-node", RouteKind.Grouped), (target.IncidentId, target.Kind));
        Assert.Equal("node: worker-b-2 failed in this incident (node-exporter) 98s ago (window 5m)", target.Rule);
        Assert.Equal("inc-node", latency.IncidentId);
        Assert.Equal(("inc-2", RouteKind.Opened), (elsewhere.IncidentId, elsewhere.Kind));
        // Its own service's failure at 98 s still relates it: only the other services' records of the node were forgotten.
        Assert.Equal("inc-node", afterResolve.IncidentId);
        Assert.StartsWith("same service: auth", afterResolve.Rule);
        Assert.Equal([CorrelationRelation.Opened, CorrelationRelation.Node, CorrelationRelation.Node, CorrelationRelation.Service],
            new[] { nodeDown, target, latency, afterResolve }.Select(r => CorrelationRelation.Of(r.Rule)));
    }

    [Fact]
    public void On_an_account_that_declares_its_services_a_node_relates_them_only_through_the_machines_own_failure()
    {
        var shared = new SharedFailures();
        shared.Configure(new AccountConfig
        {
            Id = "acme",
            Name = "Acme",
            Services = [new ServiceDefinition { Id = "auth" }, new ServiceDefinition { Id = "orders" }],
        });
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-orders", "inc-auth", "inc-node-2", "inc-node-3");
        Route Plan(string service, NormalizedAlert alert) => PlanIn(states, shared, ids, service, alert);

        Plan("orders", Failure("HighErrorRate", "worker-1", TimeSpan.Zero)); // its database is down, not its node
        var authOnIt = Plan("auth", Failure("TargetDown", "worker-1", TimeSpan.FromSeconds(10)));
        Plan("node-exporter", Failure("NodeDown", "worker-2", TimeSpan.FromSeconds(20)));
        var authOnDeadNode = Plan("auth", Failure("HighErrorRate", "worker-2", TimeSpan.FromSeconds(30)));
        var anotherNode = Plan("node-exporter", Failure("NodeDown", "worker-3", TimeSpan.FromSeconds(80)));

        Assert.Equal(("inc-auth", RouteKind.Opened), (authOnIt.IncidentId, authOnIt.Kind));
        Assert.Equal(("inc-node-2", RouteKind.Grouped), (authOnDeadNode.IncidentId, authOnDeadNode.Kind));
        // Two machines failing a minute apart are two failures: a machine's alert name is no relation across machines.
        Assert.Equal(("inc-node-3", RouteKind.Opened), (anotherNode.IncidentId, anotherNode.Kind));
    }

    [Fact]
    public void A_machine_that_is_down_explains_a_warning_on_it_however_late_while_a_services_failure_only_one_close_to_it()
    {
        var shared = new SharedFailures();
        shared.Configure(new AccountConfig { Id = "acme", Name = "Acme", Services = [new ServiceDefinition { Id = "auth" }, new ServiceDefinition { Id = "orders" }] });
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-node", "inc-orders");
        Route Plan(string service, NormalizedAlert alert) => PlanIn(states, shared, ids, service, alert, SymptomWait);

        Plan("node-exporter", Failure("NodeDown", "worker-1", TimeSpan.Zero));
        var lateTargetDown = Plan("auth", Warning("TargetDown", "worker-1", TimeSpan.FromMinutes(2)));
        Plan("orders", Failure("HighErrorRate", "worker-2", TimeSpan.FromMinutes(3)));
        var lateWarning = Plan("orders", Warning("DiskSpaceLow", "worker-2", TimeSpan.FromMinutes(5)));

        Assert.Equal(("inc-node", RouteKind.Grouped), (lateTargetDown.IncidentId, lateTargetDown.Kind));
        Assert.Equal(RouteKind.Suppressed, lateWarning.Kind); // beyond the symptom wait of a service's failure: waits for its own
    }

    [Fact]
    public void The_node_state_an_activation_rebuilds_from_the_services_relates_as_the_one_it_replaces()
    {
        var nodes = new SharedFailures();
        var infra = new CorrelatorState();
        infra.Plan("acme", "node-exporter", [Failure("NodeDown", "worker-a-1", TimeSpan.Zero)], ByAlertnameAndNode, Ids("inc-node"),
            window: Window, symptomSeverity: Severity.Sev2, shared: nodes);

        var rebuilt = SharedFailures.Of(new Dictionary<string, CorrelatorState> { ["node-exporter"] = infra });
        var (routes, _) = new CorrelatorState().Plan("acme", "auth", [Failure("TargetDown", "worker-a-1", TimeSpan.FromMinutes(1))], ByAlertnameAndNode, Ids(),
            window: Window, symptomSeverity: Severity.Sev2, shared: rebuilt);

        Assert.Equal("inc-node", Assert.Single(routes).IncidentId);
    }

    [Fact]
    public void A_cause_heard_after_its_symptom_joins_the_incident_the_symptom_opened_but_a_warning_or_an_old_one_does_not()
    {
        UpstreamIncident[] openedByDependant = [new("inc-web", "web", Alerts.T0 - TimeSpan.FromSeconds(14), Severity.Sev2)];
        Route Plan(NormalizedAlert alert, IReadOnlyList<UpstreamIncident> downstream) => Assert.Single(new CorrelatorState().Plan("acme", "db", [alert],
            ByAlertnameAndNode, Ids("inc-new"), window: Window, symptomSeverity: Severity.Sev2, downstream: downstream).Routes);

        var cause = Plan(Failure("PostgresqlDown", "db-1", TimeSpan.Zero), openedByDependant);
        var warning = Plan(Warning("PostgresqlSlowQueries", "db-1", TimeSpan.Zero), openedByDependant);
        var tooLate = Plan(Failure("PostgresqlDown", "db-1", Window + TimeSpan.FromSeconds(1)), openedByDependant);

        Assert.Equal(("inc-web", "late cause: web depends on db and opened this incident 14s ago (window 5m)"), (cause.IncidentId, cause.Rule));
        Assert.Equal(CorrelationRelation.Cause, CorrelationRelation.Of(cause.Rule));
        Assert.Equal(RouteKind.Opened, warning.Kind);
        Assert.Equal(RouteKind.Opened, tooLate.Kind);
    }

    [Fact]
    public void A_services_dependants_are_everything_that_depends_on_it_directly_or_through_others()
    {
        var upstreams = Topology.Upstreams([
            new ServiceDefinition { Id = "db" }, new ServiceDefinition { Id = "api", DependsOn = ["db"] },
            new ServiceDefinition { Id = "web", DependsOn = ["api"] }, new ServiceDefinition { Id = "cycle-a", DependsOn = ["cycle-b"] },
            new ServiceDefinition { Id = "cycle-b", DependsOn = ["cycle-a"] },
        ]);
        var dependants = Topology.Dependants(upstreams);

        Assert.Equal(["api", "web"], dependants["db"].Order());
        Assert.Equal(["web"], dependants["api"].Order());
        Assert.False(dependants.ContainsKey("web"));
        Assert.Equal(["cycle-b"], dependants["cycle-a"].Order());
    }

    [Fact]
    public void A_zones_failure_relates_what_fails_on_its_nodes_whichever_comes_first_and_leaves_other_zones_alone()
    {
        var config = new AccountConfig
        {
            Id = "acme",
            Name = "Acme",
            Zones = new Dictionary<string, IReadOnlyList<string>> { ["zone-a"] = ["worker-a-1"], ["zone-b"] = ["worker-b-1", "worker-b-2"] },
        };
        var shared = new SharedFailures();
        shared.Configure(config);
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-zone", "inc-a", "inc-node", "inc-other");
        Route Plan(string service, NormalizedAlert alert) => PlanIn(states, shared, ids, service, alert);
        NormalizedAlert ZoneDown(string zone, TimeSpan after)
        {
            var labels = new Dictionary<string, string> { ["alertname"] = "KubeZoneUnreachable", ["zone"] = zone };
            return At(Alerts.Firing("KubeZoneUnreachable", Severity.Sev1) with { Labels = labels, Fingerprint = AlertFingerprint.Of(labels) }, after);
        }

        var zoneDown = Plan("blackbox", ZoneDown("zone-b", TimeSpan.Zero));
        var nodeDown = Plan("node-exporter", Failure("NodeDown", "worker-b-1", TimeSpan.FromSeconds(20)));
        var app = Plan("auth", Failure("TargetDown", "worker-b-2", TimeSpan.FromSeconds(50)));
        var otherZone = Plan("orders", Failure("TargetDown", "worker-a-1", TimeSpan.FromSeconds(60)));

        Assert.Equal(RouteKind.Opened, zoneDown.Kind);
        Assert.Equal(("inc-zone", "zone: zone-b failed in this incident (blackbox) 20s ago (window 5m)"), (nodeDown.IncidentId, nodeDown.Rule));
        Assert.Equal("inc-zone", app.IncidentId);
        Assert.Equal(("inc-a", RouteKind.Opened), (otherZone.IncidentId, otherZone.Kind));

        // The other way round, later: a node of zone-a fails first, then the zone's own alert joins it.
        var first = Plan("node-exporter", Failure("NodeDown", "worker-a-1", TimeSpan.FromMinutes(20)));
        var zoneAfter = Plan("blackbox", ZoneDown("zone-a", TimeSpan.FromMinutes(20) + TimeSpan.FromSeconds(15)));
        Assert.Equal(RouteKind.Opened, first.Kind);
        Assert.Equal((first.IncidentId, "zone: zone-a failed in this incident (node-exporter) 15s ago (window 5m)"), (zoneAfter.IncidentId, zoneAfter.Rule));
    }

    [Fact]
    public void A_symptom_that_names_no_node_relates_to_a_failure_on_a_node_its_service_is_declared_to_run_on_and_a_failure_does_not()
    {
        var config = new AccountConfig
        {
            Id = "acme",
            Name = "Acme",
            Services = [new ServiceDefinition { Id = "auth", Nodes = ["worker-a-1", "worker-b-2"] }, new ServiceDefinition { Id = "billing", Nodes = ["worker-c-1"] }],
        };
        var shared = new SharedFailures();
        shared.Configure(config);
        var ids = Ids("inc-node", "inc-burn");
        Route Plan(string service, NormalizedAlert alert) => Assert.Single(new CorrelatorState().Plan("acme", service, [alert with { Service = service }],
            ByAlertnameAndNode, ids, window: Window, symptomSeverity: Severity.Sev2, symptomWait: SymptomWait, shared: shared).Routes);
        NormalizedAlert PodNotReady(TimeSpan after) => At(Alerts.Firing("KubePodNotReady", Severity.Sev3), after);

        Plan("node-exporter", Failure("NodeDown", "worker-b-2", TimeSpan.Zero));
        var authPod = Plan("auth", PodNotReady(TimeSpan.FromSeconds(20)));
        var billingPod = Plan("billing", PodNotReady(TimeSpan.FromSeconds(20)));
        var authBurning = Plan("auth", At(Alerts.Firing("ErrorBudgetBurn", Severity.Sev2), TimeSpan.FromSeconds(30)));

        Assert.Equal(("inc-node", "node: worker-b-2, which auth runs on, failed in this incident (node-exporter) 20s ago (window 5m)"), (authPod.IncidentId, authPod.Rule));
        Assert.Equal(RouteKind.Suppressed, billingPod.Kind); // a warning with nothing to relate to waits for its failure
        // A failure that names no node is about the whole service: one of its two nodes down does not explain it.
        Assert.Equal(("inc-burn", RouteKind.Opened), (authBurning.IncidentId, authBurning.Kind));
    }

    [Fact]
    public void A_machine_down_where_an_alert_fires_explains_it_before_a_more_recent_alert_of_the_same_name_elsewhere()
    {
        var config = new AccountConfig { Id = "acme", Name = "Acme", Services = [new ServiceDefinition { Id = "checkout", Nodes = ["worker-b-2", "worker-c-3"] }] };
        var shared = new SharedFailures();
        shared.Configure(config);
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-b2", "inc-c3", "inc-other");
        Route Plan(string service, NormalizedAlert alert) => PlanIn(states, shared, ids, service, alert);

        var b2Down = Plan("node-exporter", Failure("NodeDown", "worker-b-2", TimeSpan.Zero));
        var c3Down = Plan("node-exporter", Failure("NodeDown", "worker-c-3", TimeSpan.FromSeconds(10)));
        var onB2 = Plan("checkout", Failure("TargetDown", "worker-b-2", TimeSpan.FromSeconds(20)));
        var onC3 = Plan("checkout", Failure("TargetDown", "worker-c-3", TimeSpan.FromSeconds(25)));

        Assert.Equal((RouteKind.Opened, RouteKind.Opened), (b2Down.Kind, c3Down.Kind));
        Assert.Equal(b2Down.IncidentId, onB2.IncidentId);
        // Its name joined worker-b-2's incident 5 s ago, its own machine failed 15 s ago: the machine explains it.
        Assert.Equal((c3Down.IncidentId, "node: worker-c-3 failed in this incident (node-exporter) 15s ago (window 5m)"), (onC3.IncidentId, onC3.Rule));
        Assert.Contains(onC3.Considered!, c => c.StartsWith($"{b2Down.IncidentId}: time window: TargetDown of checkout", StringComparison.Ordinal));
    }

    [Fact]
    public void An_alert_that_names_a_pod_and_no_node_is_on_the_node_its_pod_was_seen_on()
    {
        var shared = new SharedFailures();
        shared.Configure(new AccountConfig { Id = "acme", Name = "Acme", NodeLabels = ["node"] });
        NormalizedAlert Labelled(params (string Name, string Value)[] labels) =>
            Alerts.Firing("x", Severity.Sev3) with { Labels = labels.ToDictionary(l => l.Name, l => l.Value), Node = labels.FirstOrDefault(l => l.Name == "node").Value ?? "" };

        var located = shared.Locate([
            Labelled(("alertname", "TargetDown"), ("pod", "orders-7d9f-x2"), ("node", "worker-b-2")),
            Labelled(("alertname", "KubePodNotReady"), ("pod", "orders-7d9f-x2")),
            Labelled(("alertname", "KubePodNotReady"), ("pod", "orders-7d9f-q8")),
        ]);
        var moved = shared.Locate([
            Labelled(("alertname", "TargetDown"), ("pod", "orders-7d9f-x2"), ("node", "worker-c-1")),
            Labelled(("alertname", "KubePodNotReady"), ("pod", "orders-7d9f-x2")),
        ]);

        Assert.Equal(["worker-b-2", "worker-b-2", null], located.Select(a => a.NodeName));
        Assert.Equal("worker-c-1", moved[1].NodeName); // the latest sighting wins
    }

    [Fact]
    public void An_alert_that_names_no_node_leaves_its_group_for_a_failure_that_explains_it()
    {
        var config = new AccountConfig { Id = "acme", Name = "Acme", Services = [new ServiceDefinition { Id = "redis", Nodes = ["worker-a-1", "worker-b-2"] }] };
        var shared = new SharedFailures();
        shared.Configure(config);
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-b2", "inc-a1", "inc-other");
        Route Plan(string service, NormalizedAlert alert) => PlanIn(states, shared, ids, service, alert);
        NormalizedAlert PodNotReady(string pod, TimeSpan after)
        {
            var labels = new Dictionary<string, string> { ["alertname"] = "KubePodNotReady", ["pod"] = pod };
            return At(Alerts.Firing("KubePodNotReady", Severity.Sev3) with { Labels = labels, Fingerprint = AlertFingerprint.Of(labels), Node = "" }, after);
        }

        var b2Down = Plan("node-exporter", Failure("NodeDown", "worker-b-2", TimeSpan.Zero));
        var first = Plan("redis", PodNotReady("redis-0", TimeSpan.FromSeconds(10)));
        var a1Down = Plan("node-exporter", Failure("NodeDown", "worker-a-1", TimeSpan.FromSeconds(60)));
        var second = Plan("redis", PodNotReady("redis-1", TimeSpan.FromSeconds(70)));

        Assert.Equal(b2Down.IncidentId, first.IncidentId);
        // The first pod's alert still fires in worker-b-2's incident, and the group key is the same; worker-a-1 explains this one.
        Assert.Equal((a1Down.IncidentId, "node: worker-a-1, which redis runs on, failed in this incident (node-exporter) 10s ago (window 5m)"), (second.IncidentId, second.Rule));
    }

    [Fact]
    public void A_pods_alert_goes_to_its_dead_machine_even_when_its_group_went_quiet_only_after_that_machine_failed()
    {
        var config = new AccountConfig { Id = "acme", Name = "Acme", Services = [new ServiceDefinition { Id = "catalog", Nodes = ["worker-a-4", "worker-b-2"] }] };
        var shared = new SharedFailures();
        shared.Configure(config);
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-a4", "inc-b2", "inc-other");
        Route Plan(string service, NormalizedAlert alert) => PlanIn(states, shared, ids, service, alert);
        // kube-state-metrics names the pod, not its node: both pods share one group key, each placed on its pod's node.
        NormalizedAlert PodNotReady(string pod, string node, TimeSpan after)
        {
            var labels = new Dictionary<string, string> { ["alertname"] = "KubePodNotReady", ["pod"] = pod };
            return At(Alerts.Firing("KubePodNotReady", Severity.Sev3) with { Labels = labels, Fingerprint = AlertFingerprint.Of(labels), Node = node }, after);
        }

        var a4Down = Plan("node-exporter", Failure("NodeDown", "worker-a-4", TimeSpan.Zero));
        var onA4 = Plan("catalog", PodNotReady("catalog-1", "worker-a-4", TimeSpan.FromSeconds(3)));
        var b2Down = Plan("node-exporter", Failure("NodeDown", "worker-b-2", TimeSpan.FromSeconds(10)));
        states["catalog"].Settle(Plan("catalog", PodNotReady("catalog-1", "worker-a-4", TimeSpan.FromSeconds(11)) with { Status = AlertStatus.Resolved }), AlertOutcome.Applied);
        var onB2 = Plan("catalog", PodNotReady("catalog-2", "worker-b-2", TimeSpan.FromSeconds(12)));

        Assert.Equal((a4Down.IncidentId, true), (onA4.IncidentId, onA4.OnDeadMachine));
        // Its group went quiet a second after worker-b-2 failed, not before: still, the machine it fires on is down.
        Assert.Equal((b2Down.IncidentId, "node: worker-b-2 failed in this incident (node-exporter) 2s ago (window 5m)"), (onB2.IncidentId, onB2.Rule));
    }

    [Fact]
    public void A_zones_alert_does_not_follow_into_another_failure_what_that_failure_explains()
    {
        var config = new AccountConfig
        {
            Id = "acme",
            Name = "Acme",
            Services = [new ServiceDefinition { Id = "postgres", Nodes = ["worker-c-1"] }, new ServiceDefinition { Id = "worker", Nodes = ["worker-b-4"] }],
            Zones = new Dictionary<string, IReadOnlyList<string>> { ["zone-b"] = ["worker-b-4"], ["zone-c"] = ["worker-c-1"] },
        };
        var shared = new SharedFailures();
        shared.Configure(config);
        var states = new Dictionary<string, CorrelatorState>();
        var ids = Ids("inc-db", "inc-zone", "inc-other");
        var upstream = new List<UpstreamIncident>();
        Route Plan(string service, NormalizedAlert alert)
        {
            if (!states.TryGetValue(service, out var state)) states[service] = state = new CorrelatorState();
            return Assert.Single(state.Plan("acme", service, [alert with { Service = service }], ByAlertnameAndNode, ids,
                window: Window, upstream: service == "worker" ? upstream : [], symptomSeverity: Severity.Sev2, shared: shared).Routes);
        }
        var zoneLabels = new Dictionary<string, string> { ["alertname"] = "KubeZoneUnreachable", ["zone"] = "zone-b" };

        var dbDown = Plan("postgres", Failure("PostgresDown", "worker-c-1", TimeSpan.Zero));
        upstream.Add(new UpstreamIncident(dbDown.IncidentId, "postgres", Alerts.T0, Severity.Sev2));
        var workerErrors = Plan("worker", Failure("HighErrorRate", "worker-b-4", TimeSpan.FromSeconds(20)));
        var zoneDown = Plan("blackbox", At(Alerts.Firing("KubeZoneUnreachable", Severity.Sev1) with { Labels = zoneLabels, Fingerprint = AlertFingerprint.Of(zoneLabels) },
            TimeSpan.FromSeconds(25)));

        Assert.Equal((dbDown.IncidentId, "topology: worker depends on postgres, which joined this incident 20s ago (window 5m)"), (workerErrors.IncidentId, workerErrors.Rule));
        // The worker's errors in zone-b are the database's: they are no first sign of the zone's failure.
        Assert.Equal(("inc-zone", RouteKind.Opened), (zoneDown.IncidentId, zoneDown.Kind));
    }

    [Fact]
    public void A_node_in_two_zones_is_refused()
    {
        var config = new AccountConfig
        {
            Id = "acme",
            Name = "Acme",
            Zones = new Dictionary<string, IReadOnlyList<string>> { ["zone-a"] = ["worker-1"], ["zone-b"] = ["worker-1", ""] },
        };
        var errors = config.Validate();
        Assert.Contains("zones.zone-b: node 'worker-1' is already in zone 'zone-a'", errors);
        Assert.Contains("zones.zone-b: node names cannot be empty", errors);
    }

    [Theory]
    [InlineData("10.0.1.5:9100", "10.0.1.5")]
    [InlineData("worker-a-1:8080", "worker-a-1")]
    [InlineData("[fe80::1]:9100", "[fe80::1]")]
    [InlineData("fe80::1", "fe80::1")]
    [InlineData("worker-a-1", "worker-a-1")]
    [InlineData("db:primary", "db:primary")]
    public void A_scrape_address_names_its_machine_without_the_port(string instance, string node) =>
        Assert.Equal(node, NodeLabel.Of(new Dictionary<string, string> { ["instance"] = instance }));

    [Fact]
    public void The_account_names_which_labels_say_the_node_in_order()
    {
        var labels = new Dictionary<string, string> { ["instance"] = "10.0.1.5:9100", ["kubernetes_node"] = "worker-a-1" };
        Assert.Equal("worker-a-1", NodeLabel.Of(labels, ["node", "kubernetes_node", "instance"]));
        Assert.Equal("10.0.1.5", NodeLabel.Of(labels));
        Assert.Null(NodeLabel.Of(labels, ["host"]));
    }

    [Fact]
    public void A_weaker_alert_on_a_failing_node_joins_the_failure_but_a_failure_never_joins_a_warning()
    {
        var state = new CorrelatorState();
        var ids = Ids("inc-1", "inc-2", "inc-3", "inc-4");
        PlanOne(state, Failure("Down", "a", TimeSpan.Zero), ids);
        var latency = PlanOne(state, Warning("HighLatency", "a", TimeSpan.FromSeconds(20)), ids);
        var lateLatency = PlanOne(state, Warning("SlowQueries", "a", TimeSpan.FromMinutes(5.5)), ids);
        // Past the window of the service's failure, so only the node could relate it.
        PlanOne(state, Warning("DiskSpaceLow", "b", TimeSpan.FromMinutes(6)), ids);
        var failureOnWarnedNode = PlanOne(state, Failure("Errors", "b", TimeSpan.FromMinutes(6) + TimeSpan.FromSeconds(10)), ids);

        Assert.Equal(("inc-1", RouteKind.Grouped), (latency.IncidentId, latency.Kind));
        Assert.Equal("time window: api node a failed in this incident 20s ago (window 5m)", latency.Rule);
        Assert.Equal(CorrelationRelation.Node, CorrelationRelation.Of(latency.Rule));
        Assert.Equal(("inc-2", RouteKind.Opened), (lateLatency.IncidentId, lateLatency.Kind));
        Assert.Equal(("inc-4", RouteKind.Opened), (failureOnWarnedNode.IncidentId, failureOnWarnedNode.Kind));
    }

    [Fact]
    public void Without_a_window_only_the_group_key_groups()
    {
        var state = new CorrelatorState();
        var ids = Ids("inc-1", "inc-2");
        state.Plan("acme", "api", [Failure("Down", "a", TimeSpan.Zero)], ByAlertnameAndNode, ids);

        var (routes, _) = state.Plan("acme", "api", [Failure("Down", "b", TimeSpan.FromSeconds(1))], ByAlertnameAndNode, ids,
            upstream: [new UpstreamIncident("inc-db", "db", Alerts.T0, Severity.Sev1)]);

        Assert.Equal(RouteKind.Opened, routes[0].Kind);
    }

    [Fact]
    public void A_failure_whose_upstream_service_failed_within_the_window_joins_that_incident_as_a_symptom_and_its_group_follows()
    {
        var state = new CorrelatorState();
        UpstreamIncident[] upstream =
        [
            new("inc-old", "db", Alerts.T0 - TimeSpan.FromMinutes(30), Severity.Sev1),
            new("inc-db", "db", Alerts.T0 - TimeSpan.FromMinutes(2), Severity.Sev1),
        ];

        var symptom = PlanOne(state, Failure("Errors", "a", TimeSpan.Zero), Ids("inc-new"), upstream);
        var sameGroup = PlanOne(state, Failure("Errors", "a", TimeSpan.FromHours(1)) with { Fingerprint = "refired" }, Ids("inc-new"));

        Assert.Equal(("inc-db", RouteKind.Grouped), (symptom.IncidentId, symptom.Kind));
        Assert.Equal("topology: api depends on db, which joined this incident 2m ago (window 5m)", symptom.Rule);
        Assert.Equal("inc-db", sameGroup.IncidentId);
        Assert.StartsWith("group key", sameGroup.Rule);

        var tooOld = PlanOne(new CorrelatorState(), Failure("Errors", "a", TimeSpan.Zero), Ids("inc-new"), [upstream[0]]);
        Assert.Equal(RouteKind.Opened, tooOld.Kind);
    }

    [Fact]
    public void Topology_takes_only_failures_to_failures_and_a_warning_only_from_a_failing_node()
    {
        UpstreamIncident[] warnedUpstream = [new("inc-db", "db", Alerts.T0 - TimeSpan.FromMinutes(1), Severity.Sev3)];
        UpstreamIncident[] failedUpstream = [new("inc-db", "db", Alerts.T0 - TimeSpan.FromMinutes(1), Severity.Sev1)];

        var toAWarning = PlanOne(new CorrelatorState(), Failure("Errors", "a", TimeSpan.Zero), Ids("inc-new"), warnedUpstream);
        var warningElsewhere = PlanOne(new CorrelatorState(), Warning("DiskSpaceLow", "a", TimeSpan.Zero), Ids("inc-new"), failedUpstream);

        Assert.Equal(RouteKind.Opened, toAWarning.Kind);
        Assert.Equal(RouteKind.Opened, warningElsewhere.Kind);
    }

    [Fact]
    public void A_weaker_alert_with_nothing_to_relate_to_waits_for_its_failure_and_re_sends_do_not_extend_the_wait()
    {
        var state = new CorrelatorState();
        var wait = SymptomWait;
        Route Plan(NormalizedAlert alert, Func<string> ids, bool replanning = false) => PlanWaiting(state, alert, ids, replanning);

        var latency = Plan(Warning("HighLatency", "a", TimeSpan.Zero), Ids());
        var resend = Plan(Warning("HighLatency", "a", TimeSpan.FromSeconds(20)), Ids());
        var failure = Plan(Failure("Errors", "a", TimeSpan.FromSeconds(10)), Ids("inc-1"));

        Assert.Equal((RouteKind.Suppressed, SuppressionReason.WaitingKind), (latency.Kind, latency.SuppressedBy!.Kind));
        Assert.Equal(Alerts.T0 + wait, resend.SuppressedBy!.Until);
        Assert.Equal(RouteKind.Opened, failure.Kind); // failures never wait
        state.LiftEnded(SuppressionRules.None, Alerts.T0 + TimeSpan.FromSeconds(15)); // an expired silence ends no wait
        Assert.Equal(Alerts.T0 + wait, state.NextSuppressionEnd);
        Assert.Empty(state.ReleaseDue(Alerts.T0 + TimeSpan.FromSeconds(29)));
        var released = Assert.Single(state.ReleaseDue(Alerts.T0 + wait));
        var joined = Plan(released, Ids(), replanning: true);
        Assert.Equal(("inc-1", RouteKind.Grouped), (joined.IncidentId, joined.Kind));
        Assert.StartsWith("time window: api node a failed in this incident", joined.Rule);

        var alone = Plan(Warning("DiskSpaceLow", "b", TimeSpan.FromMinutes(1)), Ids());
        var releasedAlone = Assert.Single(state.ReleaseDue(Alerts.T0 + TimeSpan.FromMinutes(2)));
        Assert.Equal(RouteKind.Suppressed, alone.Kind);
        Assert.Equal(RouteKind.Opened, Plan(releasedAlone, Ids("inc-2"), replanning: true).Kind); // waited once: now its own incident
        Assert.Equal(3, state.Counters.Suppressed);
    }

    [Fact]
    public void With_a_symptom_wait_a_weaker_alert_joins_its_nodes_failure_only_when_it_fires_close_to_it()
    {
        var state = new CorrelatorState();
        var wait = SymptomWait;
        Route Plan(NormalizedAlert alert, Func<string> ids, bool replanning = false) => PlanWaiting(state, alert, ids, replanning);

        Plan(Failure("Errors", "a", TimeSpan.Zero), Ids("inc-1"));
        var latency = Plan(Warning("HighLatency", "a", TimeSpan.FromSeconds(20)), Ids());
        var diskLater = Plan(Warning("DiskSpaceLow", "a", TimeSpan.FromMinutes(2)), Ids());

        Assert.Equal(("inc-1", RouteKind.Grouped), (latency.IncidentId, latency.Kind));
        Assert.Equal("time window: api node a failed in this incident 20s ago (window 5m)", latency.Rule);
        Assert.Equal((RouteKind.Suppressed, SuppressionReason.WaitingKind), (diskLater.Kind, diskLater.SuppressedBy!.Kind));
        var released = Assert.Single(state.ReleaseDue(Alerts.T0 + TimeSpan.FromMinutes(2) + wait));
        Assert.Equal(RouteKind.Opened, Plan(released, Ids("inc-2"), replanning: true).Kind);

        // Without a wait the whole window relates it, as before.
        var noWait = new CorrelatorState();
        PlanOne(noWait, Failure("Errors", "a", TimeSpan.Zero), Ids("inc-1"));
        Assert.Equal("inc-1", PlanOne(noWait, Warning("DiskSpaceLow", "a", TimeSpan.FromMinutes(2)), Ids()).IncidentId);
    }

    [Fact]
    public void A_group_whose_alerts_all_resolved_takes_a_recurrence_back_only_within_the_window_and_only_if_nothing_newer_relates_it()
    {
        var state = new CorrelatorState();
        Route Settled(Route route)
        {
            state.Settle(route, AlertOutcome.Applied);
            return route;
        }
        Route Resolve(TimeSpan after) => Settled(Assert.Single(state.Plan(
            "acme", "api", [At(Alerts.Firing("Errors", Severity.Sev2, instance: "a").Resolved(Alerts.T0 + after), after)], ByAlertnameAndNode, Ids(),
            window: Window, symptomSeverity: Severity.Sev2).Routes));

        NormalizedAlert Fires(TimeSpan after) => At(Alerts.Firing("Errors", Severity.Sev2, startsAt: Alerts.T0 + after, instance: "a"), after);

        Settled(PlanOne(state, Fires(TimeSpan.Zero), Ids("inc-1")));
        Assert.Equal(RouteKind.Resolve, Resolve(TimeSpan.FromMinutes(1)).Kind);
        var soonAfter = Settled(PlanOne(state, Fires(TimeSpan.FromMinutes(3)), Ids("inc-x")));
        Resolve(TimeSpan.FromMinutes(3.5));
        UpstreamIncident[] newerFailure = [new("inc-db", "db", Alerts.T0 + TimeSpan.FromMinutes(3.8), Severity.Sev1)];
        var broughtBackByTheDb = Settled(PlanOne(state, Fires(TimeSpan.FromMinutes(4)), Ids("inc-x"), newerFailure));
        Resolve(TimeSpan.FromMinutes(4.5));
        var muchLater = PlanOne(state, Fires(TimeSpan.FromMinutes(12)), Ids("inc-2"));

        Assert.Equal(("inc-1", RouteKind.Grouped), (soonAfter.IncidentId, soonAfter.Kind));
        Assert.StartsWith("group key", soonAfter.Rule);
        Assert.Equal("inc-db", broughtBackByTheDb.IncidentId);
        Assert.StartsWith("topology", broughtBackByTheDb.Rule);
        Assert.Equal(("inc-2", RouteKind.Opened), (muchLater.IncidentId, muchLater.Kind));
    }

    [Fact]
    public void A_group_holds_its_incident_while_its_alerts_fire_where_it_fires_and_counts_each_resolve_in_the_group_it_fired_in()
    {
        string[] byName = ["alertname"];
        var state = new CorrelatorState();
        List<Route> Plan(NormalizedAlert alert, Func<string> ids) => state.Plan("acme", "api", [alert], byName, ids, window: Window).Routes;
        void Settled(List<Route> routes) => routes.ForEach(r => state.Settle(r, AlertOutcome.Applied));
        NormalizedAlert Down(string node, TimeSpan after) => At(Alerts.Firing("Down", Severity.Sev2, startsAt: Alerts.T0 + after, instance: node), after);
        // A resolve by dedup key carries no labels: it still counts down the group its alert fired in.
        NormalizedAlert ResolvedByKey(string node, TimeSpan after) =>
            Down(node, after).Resolved(Alerts.T0 + after) with { Labels = new Dictionary<string, string>() };

        Settled(Plan(Down("a", TimeSpan.Zero), Ids("inc-1")));
        Settled(Plan(Down("b", TimeSpan.FromMinutes(1)), Ids()));
        Settled(Plan(ResolvedByKey("a", TimeSpan.FromMinutes(2)), Ids()));
        // Half an hour on, while b still fires: another alert of the group on b is the same problem; on c, beyond the
        // window of the group's last new alert, another one.
        var onB = Assert.Single(Plan(Down("b", TimeSpan.FromMinutes(30)) with { Fingerprint = "down-b-second-disk" }, Ids()));
        Settled([onB]);
        var onC = Assert.Single(Plan(Down("c", TimeSpan.FromMinutes(36)), Ids("inc-2")));
        Settled([onC]);
        // b's alerts resolving count down inc-1's occurrence, not c's: the group still holds inc-2 for c's node.
        Settled(Plan(ResolvedByKey("b", TimeSpan.FromMinutes(37)), Ids()));
        Settled(Plan(ResolvedByKey("b", TimeSpan.FromMinutes(37)) with { Fingerprint = "down-b-second-disk" }, Ids()));
        var moreOnC = Assert.Single(Plan(Down("c", TimeSpan.FromMinutes(45)) with { Fingerprint = "down-c-second-disk" }, Ids()));
        Settled([moreOnC]);
        Settled(Plan(ResolvedByKey("c", TimeSpan.FromMinutes(47)), Ids()));
        Settled(Plan(ResolvedByKey("c", TimeSpan.FromMinutes(47)) with { Fingerprint = "down-c-second-disk" }, Ids()));
        var afterAllResolved = Assert.Single(Plan(Down("d", TimeSpan.FromMinutes(55)), Ids("inc-3")));

        Assert.Equal(("inc-1", RouteKind.Grouped), (onB.IncidentId, onB.Kind));
        Assert.Equal(("inc-2", RouteKind.Opened), (onC.IncidentId, onC.Kind));
        Assert.Equal(("inc-2", RouteKind.Grouped), (moreOnC.IncidentId, moreOnC.Kind));
        Assert.Equal(("inc-3", RouteKind.Opened), (afterAllResolved.IncidentId, afterAllResolved.Kind));
    }

    [Fact]
    public void An_alert_resolved_and_fired_again_in_one_batch_still_counts_as_firing_in_its_group()
    {
        var state = new CorrelatorState();
        var alert = Failure("Errors", "a", TimeSpan.Zero);
        state.Settle(PlanOne(state, alert, Ids("inc-1")), AlertOutcome.Applied);
        var later = TimeSpan.FromMinutes(1);
        var (routes, _) = state.Plan("acme", "api",
            [At(alert.Resolved(Alerts.T0 + later), later), At(alert with { StartsAt = Alerts.T0 + later }, later)], ByAlertnameAndNode, Ids(), window: Window);
        routes.ForEach(r => state.Settle(r, AlertOutcome.Applied));

        var muchLater = PlanOne(state, Failure("Errors", "a", TimeSpan.FromHours(1)) with { Fingerprint = "same-group" }, Ids("inc-2"));

        Assert.Equal([RouteKind.Resolve, RouteKind.Repeat], routes.Select(r => r.Kind));
        Assert.Equal(("inc-1", RouteKind.Grouped), (muchLater.IncidentId, muchLater.Kind));
    }

    [Fact]
    public void A_failure_relates_by_its_node_over_the_whole_window_and_a_late_release_relates_as_of_the_end_of_its_wait()
    {
        var state = new CorrelatorState();
        var wait = SymptomWait;
        Route Plan(NormalizedAlert alert, Func<string> ids, bool replanning = false) => PlanWaiting(state, alert, ids, replanning);

        Plan(Failure("Errors", "a", TimeSpan.Zero), Ids("inc-1"));
        var failureLater = Plan(Failure("Timeouts", "a", TimeSpan.FromMinutes(2)), Ids());
        // Past the window of the service's failures, so that only its node relates what follows.
        Plan(Warning("HighLatency", "b", TimeSpan.FromMinutes(8)), Ids());
        Plan(Failure("Refused", "b", TimeSpan.FromMinutes(8) + TimeSpan.FromSeconds(20)), Ids("inc-2"));
        // The release runs four minutes late (a back-stop reminder after a restart).
        var released = Assert.Single(state.ReleaseDue(Alerts.T0 + TimeSpan.FromMinutes(12)));
        var joined = Plan(released, Ids(), replanning: true);

        Assert.Equal("inc-1", failureLater.IncidentId);
        Assert.StartsWith("time window: api node a failed", failureLater.Rule);
        Assert.Equal(Alerts.T0 + TimeSpan.FromMinutes(8) + wait, released.ReceivedAt);
        Assert.Equal(("inc-2", RouteKind.Grouped), (joined.IncidentId, joined.Kind));
    }

    [Fact]
    public void When_failures_overlap_the_most_recent_relation_wins()
    {
        var state = new CorrelatorState();
        PlanOne(state, Failure("Errors", "a", TimeSpan.Zero), Ids("inc-api"));
        UpstreamIncident[] upstream = [new("inc-db", "db", Alerts.T0 + TimeSpan.FromMinutes(3), Severity.Sev1)];

        var newer = PlanOne(state, Failure("Errors", "b", TimeSpan.FromMinutes(3.5)), Ids("inc-new"), upstream);
        var latencyOnIt = PlanOne(state, Warning("HighLatency", "b", TimeSpan.FromMinutes(4)), Ids("inc-new"), upstream);

        Assert.Equal("inc-db", newer.IncidentId);
        Assert.StartsWith("topology", newer.Rule);
        Assert.Equal("inc-db", latencyOnIt.IncidentId);
    }
}

public sealed class TopologyTests
{
    [Fact]
    public void Services_in_one_request_are_correlated_upstream_first_and_a_cycle_does_not_stall()
    {
        var upstream = new Dictionary<string, IReadOnlyList<string>> { ["web"] = ["api"], ["api"] = ["db"], ["x"] = ["y"], ["y"] = ["x"] };

        Assert.Equal([["other", "db"], ["api"], ["web"]], Topology.Waves(["web", "other", "api", "db"], upstream));
        Assert.Equal([["web", "db"]], Topology.Waves(["web", "db"], upstream)); // no path within the request: one wave
        Assert.Equal([["x", "y"]], Topology.Waves(["x", "y"], upstream));
    }

    [Fact]
    public void An_incident_summary_names_the_services_it_spans_and_equal_content_compares_equal()
    {
        var spans = ServiceSpans.Of([new ServiceSpan("web", Alerts.T0.AddMinutes(1), Severity.Sev2), new ServiceSpan("db", Alerts.T0, Severity.Sev1)]);
        var same = ServiceSpans.Of([new ServiceSpan("db", Alerts.T0, Severity.Sev1), new ServiceSpan("web", Alerts.T0.AddMinutes(1), Severity.Sev2)]);

        Assert.Equal(["db", "web"], spans.Items.Select(s => s.Service));
        Assert.Equal(spans, same);
        Assert.Equal(spans.GetHashCode(), same.GetHashCode());
        Assert.NotEqual(spans, ServiceSpans.Of([new ServiceSpan("db", Alerts.T0, Severity.Sev1)]));
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
