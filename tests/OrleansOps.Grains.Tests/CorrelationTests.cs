namespace OrleansOps.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class CorrelationTests(ClusterFixture fixture)
{
    private static string NewAccountId() => "acct-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<string> NewAccountAsync()
    {
        var id = NewAccountId();
        var result = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = id,
            Services = [new ServiceDefinition { Id = "api" }],
            GroupBy = ["alertname"],
        }, ConfigSource.Api);
        Assert.True(result.Applied, string.Join("; ", result.Errors));
        return id;
    }

    private NormalizedAlert Alert(string name, string instance, AlertStatus status = AlertStatus.Firing, Severity severity = Severity.Sev3)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = name, ["instance"] = instance };
        var now = fixture.Time.GetUtcNow();
        return new NormalizedAlert
        {
            Source = "test",
            Service = "api",
            Labels = labels,
            Severity = severity,
            Status = status,
            StartsAt = status == AlertStatus.Firing ? now : ClusterFixture.Start, // each firing is its own occurrence
            EndsAt = status == AlertStatus.Resolved ? now : null,
            Fingerprint = AlertFingerprint.Of(labels),
            ReceivedAt = now,
        };
    }

    private Task<IReadOnlyList<AlertReceipt>> Ingest(string account, params NormalizedAlert[] alerts) => fixture.Grains.IngestAsync(account, alerts);

    [Fact]
    public async Task Repeats_of_one_alert_only_count()
    {
        var account = await NewAccountAsync();
        var alert = Alert("Down", "a");
        var first = await Ingest(account, alert);
        await Ingest(account, alert);
        var third = await Ingest(account, alert, alert);

        Assert.True(first[0].OpenedIncident);
        Assert.All(third, r => Assert.Equal(first[0].IncidentId, r.IncidentId));
        Assert.All(third, r => Assert.Equal(AlertOutcome.Repeated, r.Outcome));
        var incident = await fixture.Grains.GetGrain<IIncidentGrain>(first[0].IncidentId!).Describe();
        Assert.Equal(4, Assert.Single(incident!.Alerts).Count);
        Assert.Equal(3, incident.ChronicleEntries); // opened, attached, and which escalation policy applies (none)
        var page = await fixture.Grains.GetGrain<IAccountGrain>(account).ListIncidents(IncidentStatusFilter.All, null, 10);
        Assert.Single(page.Items);
    }

    [Fact]
    public async Task Alerts_sharing_the_group_key_join_one_incident_and_another_group_opens_another()
    {
        var account = await NewAccountAsync();
        var receipts = await Ingest(account, Alert("Down", "a"), Alert("Down", "b"), Alert("DiskFull", "a"));
        await Ingest(account, Alert("Down", "c"));

        Assert.Equal(receipts[0].IncidentId, receipts[1].IncidentId);
        Assert.NotEqual(receipts[0].IncidentId, receipts[2].IncidentId);
        var down = await fixture.Grains.GetGrain<IIncidentGrain>(receipts[0].IncidentId!).Describe();
        Assert.Equal(["a", "b", "c"], down!.Alerts.Select(a => a.Labels["instance"]).Order());
        var open = await fixture.Grains.GetGrain<IAccountGrain>(account).ListIncidents(IncidentStatusFilter.Open, null, 10);
        Assert.Equal(2, open.Items.Count);
        Assert.Equal(3, open.Items.Single(i => i.Id == receipts[0].IncidentId).AlertCount);
    }

    [Fact]
    public async Task A_trigger_after_resolve_opens_a_new_occurrence()
    {
        var account = await NewAccountAsync();
        var first = await Ingest(account, Alert("Down", "a"));
        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        await Ingest(account, Alert("Down", "a", AlertStatus.Resolved));
        var resolved = await fixture.Grains.GetGrain<IIncidentGrain>(first[0].IncidentId!).Describe();
        Assert.Equal(IncidentStatus.Resolved, resolved!.Summary.Status);
        Assert.Equal(fixture.Time.GetUtcNow(), resolved.Summary.ResolvedAt);

        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        var again = await Ingest(account, Alert("Down", "a"));
        Assert.True(again[0].OpenedIncident);
        Assert.NotEqual(first[0].IncidentId, again[0].IncidentId);

        var account_ = fixture.Grains.GetGrain<IAccountGrain>(account);
        Assert.Single((await account_.ListIncidents(IncidentStatusFilter.Resolved, null, 10)).Items);
        Assert.Single((await account_.ListIncidents(IncidentStatusFilter.Triggered, null, 10)).Items);
        var all = (await account_.ListIncidents(IncidentStatusFilter.All, null, 10)).Items;
        Assert.Equal(IncidentStatus.Resolved, all.Single(i => i.Id == first[0].IncidentId).Status);
        Assert.Equal(IncidentStatus.Triggered, all.Single(i => i.Id == again[0].IncidentId).Status);
    }

    [Fact]
    public async Task A_manually_resolved_incident_sends_the_next_firing_to_a_new_incident()
    {
        var account = await NewAccountAsync();
        var alert = Alert("Down", "a");
        var first = await Ingest(account, alert);
        var resolve = await fixture.Grains.GetGrain<IIncidentGrain>(first[0].IncidentId!).Resolve("ana", "fixed by hand");
        Assert.Equal(CommandOutcome.Applied, resolve.Outcome);

        var next = await Ingest(account, alert, Alert("Down", "b"));
        Assert.True(next[0].OpenedIncident);
        Assert.NotEqual(first[0].IncidentId, next[0].IncidentId);
        Assert.Equal(next[0].IncidentId, next[1].IncidentId);
    }

    [Fact]
    public async Task Incident_commands_follow_the_lifecycle_and_the_chronicle_verifies()
    {
        var account = await NewAccountAsync();
        var id = (await Ingest(account, Alert("Down", "a", severity: Severity.Sev1)))[0].IncidentId!;
        var incident = fixture.Grains.GetGrain<IIncidentGrain>(id);

        Assert.Equal(CommandOutcome.Applied, (await incident.Acknowledge("ana")).Outcome);
        Assert.Equal(CommandOutcome.Unchanged, (await incident.Acknowledge("ana")).Outcome);
        Assert.Equal(CommandOutcome.Applied, (await incident.AddNote("ana", "looking at the load balancer")).Outcome);
        Assert.Equal(CommandOutcome.Applied, (await incident.Resolve("ana", "rolled back")).Outcome);
        Assert.Equal(CommandOutcome.Conflict, (await incident.Acknowledge("bob")).Outcome);
        Assert.Equal(CommandOutcome.NotFound, (await fixture.Grains.GetGrain<IIncidentGrain>("inc-zzzzzzzzzzzzzzzz").Acknowledge("x")).Outcome);

        var chronicle = await incident.ChronicleAsync();
        Assert.Equal(
            [ChronicleKinds.Opened, ChronicleKinds.AlertAttached, ChronicleKinds.EscalationPolicy, ChronicleKinds.Acknowledged, ChronicleKinds.Note, ChronicleKinds.Resolved],
            chronicle!.Select(e => e.Kind));
        Assert.True((await incident.VerifyChronicle())!.Valid);
    }

    [Fact]
    public async Task State_survives_deactivation_because_it_is_in_the_journal()
    {
        var account = await NewAccountAsync();
        var id = (await Ingest(account, Alert("Down", "a")))[0].IncidentId!;
        await fixture.Grains.GetGrain<IIncidentGrain>(id).Acknowledge("ana");

        await fixture.Cluster.DeactivateAsync(fixture.Grains.GetGrain<IIncidentGrain>(id));
        await fixture.Cluster.DeactivateAsync(fixture.Grains.GetGrain<ICorrelatorGrain>(account));
        await fixture.Cluster.DeactivateAsync(fixture.Grains.GetGrain<IAccountGrain>(account));

        var view = await fixture.Grains.GetGrain<IIncidentGrain>(id).Describe();
        Assert.Equal(IncidentStatus.Acknowledged, view!.Summary.Status);
        var repeat = await Ingest(account, Alert("Down", "a"));
        Assert.Equal(id, repeat[0].IncidentId);
        Assert.Equal(AlertOutcome.Repeated, repeat[0].Outcome);
        var listed = await fixture.Grains.GetGrain<IAccountGrain>(account).ListIncidents(IncidentStatusFilter.Acknowledged, null, 10);
        Assert.Equal(id, Assert.Single(listed.Items).Id);
    }

    [Fact]
    public async Task A_batch_mixing_unmatched_resolves_with_firings_into_a_resolved_incident_lands_every_alert_right()
    {
        var account = await NewAccountAsync();
        var firing = Alert("Down", "a");
        var first = await Ingest(account, firing);
        await fixture.Grains.GetGrain<IIncidentGrain>(first[0].IncidentId!).Resolve("ana", null);

        var receipts = await Ingest(account, Alert("Ghost", "x", AlertStatus.Resolved), firing, Alert("Down", "b"));
        Assert.Equal(AlertOutcome.Ignored, receipts[0].Outcome);
        Assert.Null(receipts[0].IncidentId);
        Assert.True(receipts[1].OpenedIncident);
        Assert.NotEqual(first[0].IncidentId, receipts[1].IncidentId);
        Assert.Equal(receipts[1].IncidentId, receipts[2].IncidentId);
        var incident = await fixture.Grains.GetGrain<IIncidentGrain>(receipts[1].IncidentId!).Describe();
        Assert.Equal(2, incident!.Alerts.Count);

        var counters = Assert.Single(await fixture.Grains.GetGrain<ICorrelatorGrain>(account).GetCounters()).Counters;
        Assert.Equal(4, counters.Received);
        Assert.Equal(2, counters.IncidentsOpened);
    }

    [Fact]
    public async Task An_alert_announcing_an_end_centuries_away_does_not_break_its_incident()
    {
        var account = await NewAccountAsync();
        var alert = Alert("Forever", "a") with { EndsAt = new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero) };
        var receipt = await Ingest(account, alert);
        var incident = fixture.Grains.GetGrain<IIncidentGrain>(receipt[0].IncidentId!);
        Assert.Equal(AlertOutcome.Repeated, (await Ingest(account, alert))[0].Outcome);
        Assert.Equal(CommandOutcome.Applied, (await incident.Acknowledge("ana")).Outcome);
        await fixture.Cluster.DeactivateAsync(incident);
        Assert.Equal(IncidentStatus.Acknowledged, (await incident.Describe())!.Summary.Status);
    }

    [Fact]
    public async Task A_reopened_incident_takes_its_alerts_back_and_resolves_when_they_resolve()
    {
        var account = await NewAccountAsync();
        var first = await Ingest(account, Alert("Down", "a"), Alert("Down", "b"));
        var id = first[0].IncidentId!;
        var incident = fixture.Grains.GetGrain<IIncidentGrain>(id);
        await incident.Resolve("ana", "looked fine");
        Assert.Equal(CommandOutcome.Applied, (await incident.Reopen("bob", "it was not")).Outcome);

        // Adopt is one-way: give it a moment to reach the correlator.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        IReadOnlyList<AlertReceipt> resolved;
        do
        {
            resolved = await Ingest(account, Alert("Down", "a", AlertStatus.Resolved));
            if (resolved[0].IncidentId is null) await Task.Delay(50);
        } while (resolved[0].IncidentId is null && DateTime.UtcNow < deadline);
        Assert.Equal(id, resolved[0].IncidentId);

        var grouped = await Ingest(account, Alert("Down", "c"));
        Assert.Equal(id, grouped[0].IncidentId);
        await Ingest(account, Alert("Down", "b", AlertStatus.Resolved), Alert("Down", "c", AlertStatus.Resolved));
        Assert.Equal(IncidentStatus.Resolved, (await incident.Describe())!.Summary.Status);
    }
}
