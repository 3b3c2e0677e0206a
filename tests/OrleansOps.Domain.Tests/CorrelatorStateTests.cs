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
        Assert.True(changed);
        Assert.Equal("inc-1", Assert.Single(routes).IncidentId);
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
}
