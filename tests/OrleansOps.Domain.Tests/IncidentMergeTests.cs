using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

public sealed class IncidentMergeTests
{
    private static IncidentState Opened(string id, string service, params NormalizedAlert[] alerts)
    {
        var incident = new IncidentState();
        incident.Open(id, new IncidentOrigin { AccountId = "acme", Service = service, GroupKey = "g" }, alerts[0], alerts[0].ReceivedAt);
        foreach (var alert in alerts) incident.Apply(alert with { Service = service }, alert.ReceivedAt);
        incident.TakeChange(withRepeats: true, extras: null);
        return incident;
    }

    /// <summary>The incident as its journal would load it: every change taken so far, replayed on a fresh state.</summary>
    private static IncidentState Replayed(params IncidentChange[] changes)
    {
        var loaded = new IncidentState();
        foreach (var change in changes) loaded.Apply(change, null);
        loaded.Rebuild();
        return loaded;
    }

    [Fact]
    public void A_merged_incident_ends_pointing_at_the_survivor_which_takes_its_alerts_its_start_and_its_severity()
    {
        var web = Opened("inc-web", "web", Firing("HighErrorRate", Severity.Sev2, startsAt: T0.AddMinutes(1), instance: "w1") with { ReceivedAt = T0.AddMinutes(1) });
        var api = Opened("inc-api", "api",
            Firing("HighErrorRate", Severity.Sev3, startsAt: T0.AddMinutes(2), instance: "a1") with { ReceivedAt = T0.AddMinutes(2) },
            Firing("HighLatency", Severity.Sev1, startsAt: T0, instance: "a2") with { ReceivedAt = T0.AddMinutes(2) });
        var now = T0.AddMinutes(3);

        var moving = api.MergeInto("inc-web", "alice", "one database outage", now);
        var taken = web.Absorb("inc-api", moving, "alice", "one database outage", now);

        Assert.Equal((IncidentStatus.Resolved, "inc-web"), (api.Status, api.MergedInto));
        Assert.True(api.SlaCorrection!.ExcludesFrom("availability")); // its impact counts once, in the survivor
        Assert.Equal(2, taken);
        Assert.Equal(3, web.Alerts.Count);
        Assert.All(moving, a => Assert.Equal("inc-api", web.Alerts[a.Fingerprint].MergedFrom));
        Assert.Equal((T0, Severity.Sev1), (web.StartedAt, web.Severity));
        Assert.Equal(3, web.FiringAlertCount);
        Assert.Contains(web.Recorded, e => e.Kind == ChronicleKinds.Merged && e.Data!["from"] == "inc-api");
        Assert.Contains(api.Recorded, e => e.Kind == ChronicleKinds.Merged && e.Data!["into"] == "inc-web");

        // Asked again (a merge cut short), nothing changes twice.
        api.TakeChange(withRepeats: true, extras: null);
        Assert.Equal(0, web.Absorb("inc-api", api.MergeInto("inc-web", "alice", "again", now), "alice", "again", now));
        Assert.False(api.HasChanges);
        Assert.Throws<IncidentTransitionException>(() => api.MergeInto("inc-other", "bob", "elsewhere", now));
        Assert.Throws<IncidentTransitionException>(() => web.MergeInto("inc-web", "bob", "itself", now));
    }

    [Fact]
    public void Split_alerts_leave_with_their_history_and_the_journal_replays_both_sides()
    {
        var a = Firing("HighErrorRate", Severity.Sev2, instance: "a") with { EndsAt = T0.AddMinutes(10) };
        var b = Firing("KubePodCrashLooping", Severity.Sev3, startsAt: T0.AddMinutes(-5), instance: "b") with { EndsAt = T0.AddMinutes(12) };
        var incident = new IncidentState();
        incident.Open("inc-aaaaaaaaaaaaaaaa", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, a, T0);
        incident.Apply(a, T0);
        incident.Apply(b, T0);
        incident.Apply(b, T0.AddMinutes(1)); // a repeat: its count goes with it
        var opened = incident.TakeChange(withRepeats: true, extras: null).Change;

        var leaving = incident.SplitOut([b.Fingerprint], mergedFrom: null, "inc-bbbbbbbbbbbbbbbb", "alice", "a bad deploy, not the outage", T0.AddMinutes(2));
        var split = incident.TakeChange(withRepeats: true, extras: null);
        var fresh = new IncidentState();
        fresh.OpenSplit("inc-bbbbbbbbbbbbbbbb", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g2" }, leaving,
            "inc-aaaaaaaaaaaaaaaa", "alice", "a bad deploy, not the outage", T0.AddMinutes(2));

        Assert.Equal([a.Fingerprint], incident.Alerts.Keys);
        Assert.Equal(1, incident.FiringAlertCount);
        Assert.Equal(T0.AddMinutes(10), incident.NextExpiry);
        Assert.Equal([b.Fingerprint], split.Change.Detached!);
        Assert.Contains(split.Chronicle, e => e.Kind == ChronicleKinds.Split && e.Data!["into"] == "inc-bbbbbbbbbbbbbbbb");
        Assert.Equal((2L, T0.AddMinutes(-5), Severity.Sev3), (fresh.Alerts[b.Fingerprint].Count, fresh.StartedAt, fresh.Severity));
        Assert.Equal((IncidentStatus.Triggered, 1, T0.AddMinutes(12)), (fresh.Status, fresh.FiringAlertCount, fresh.NextExpiry));
        Assert.Equal("Incident opened: KubePodCrashLooping on api, split out of inc-aaaaaaaaaaaaaaaa by alice: a bad deploy, not the outage", fresh.Recorded[0].Text);

        var replayed = Replayed(opened, split.Change);
        Assert.Equal([a.Fingerprint], replayed.Alerts.Keys);
        Assert.Equal(1, replayed.FiringAlertCount);

        // An incident keeps at least one alert; alerts it does not hold cannot leave.
        Assert.Throws<IncidentTransitionException>(() => incident.SplitOut([a.Fingerprint], null, "inc-c", "alice", "all", T0.AddMinutes(3)));
        Assert.Throws<IncidentTransitionException>(() => incident.SplitOut(["unknown"], null, "inc-c", "alice", "none", T0.AddMinutes(3)));
    }

    [Fact]
    public void A_merged_incidents_alerts_split_back_out_together()
    {
        var web = Opened("inc-web", "web", Firing("HighErrorRate", Severity.Sev2, instance: "w1"));
        var api = Opened("inc-api", "api", Firing("HighErrorRate", Severity.Sev2, instance: "a1"), Firing("HighLatency", Severity.Sev3, instance: "a2"));
        web.Absorb("inc-api", api.MergeInto("inc-web", "correlation", "late cause", T0.AddMinutes(1)), "correlation", "late cause", T0.AddMinutes(1));

        var back = web.SplitOut([], mergedFrom: "inc-api", "inc-new", "alice", "not the same outage", T0.AddMinutes(2));

        Assert.Equal(2, back.Count);
        Assert.Single(web.Alerts);
        Assert.Throws<IncidentTransitionException>(() => web.SplitOut([], mergedFrom: "inc-api", "inc-new", "alice", "again", T0.AddMinutes(3)));
    }
}
