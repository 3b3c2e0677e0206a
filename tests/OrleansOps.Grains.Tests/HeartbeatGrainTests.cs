namespace OrleansOps.Grains.Tests;

/// <summary>Heartbeats on the fake clock: a silence past the interval and grace opens an incident that pages, and the next ping resolves it.</summary>
[Collection(ClusterCollection.Name)]
public sealed class HeartbeatGrainTests(ClusterFixture fixture)
{
    private async Task<string> NewAccountAsync(params HeartbeatDefinition[] heartbeats)
    {
        var id = "beat-" + Guid.NewGuid().ToString("N")[..10];
        var result = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = id,
            Services = [new ServiceDefinition { Id = "backups", EscalationPolicy = "standard" }],
            Heartbeats = heartbeats,
            OnCall = new OnCallConfig
            {
                Users = [new UserDefinition { Id = "ana", Contacts = [new ContactMethod { Id = "work", Kind = ChannelKind.Email, Address = "ana@example.com" }] }],
                Policies = [new EscalationPolicy { Id = "standard", Levels = [new EscalationLevel { Targets = [new EscalationTarget(TargetKind.User, "ana")] }] }],
            },
        }, ConfigSource.Api);
        Assert.True(result.Applied, string.Join("; ", result.Errors));
        return id;
    }

    private async Task<HeartbeatView> StatusAsync(string account, string name) =>
        (await fixture.Grains.GetGrain<IHeartbeatGrain>(account).List()).Single(h => h.Name == name);

    private async Task<HeartbeatView> WaitForStatusAsync(string account, string name, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var view = await StatusAsync(account, name);
            if (view.Status == status) return view;
            Assert.True(DateTime.UtcNow < deadline, $"heartbeat {name} is {view.Status}, not {status}");
            await Task.Delay(20);
        }
    }

    private async Task<IncidentSummary?> MissedIncidentAsync(string account) =>
        (await fixture.Grains.GetGrain<IAccountGrain>(account).ListIncidents(IncidentStatusFilter.All, null, 10)).Items
            .SingleOrDefault(i => i.Title.StartsWith(Heartbeats.MissedAlertName, StringComparison.Ordinal));

    [Fact]
    public async Task A_heartbeat_silent_past_its_interval_and_grace_opens_an_incident_that_pages_and_its_next_ping_resolves_it()
    {
        var backup = new HeartbeatDefinition { Name = "nightly-backup", Interval = TimeSpan.FromMinutes(10), Grace = TimeSpan.FromMinutes(2), Service = "backups" };
        var account = await NewAccountAsync(backup);
        var heartbeats = fixture.Grains.GetGrain<IHeartbeatGrain>(account);
        Assert.Equal("waiting", (await StatusAsync(account, "nightly-backup")).Status);
        Assert.Null(await heartbeats.Ping("no-such-heartbeat"));

        var pinged = (await heartbeats.Ping("nightly-backup"))!;
        var pingedAt = fixture.Time.GetUtcNow();
        Assert.Equal(("up", pingedAt + TimeSpan.FromMinutes(12), 1L), (pinged.Status, pinged.Deadline, pinged.Pings));

        fixture.Time.Advance(TimeSpan.FromMinutes(11));
        await Task.Delay(200);
        Assert.Equal("up", (await StatusAsync(account, "nightly-backup")).Status); // within its grace
        Assert.Null(await MissedIncidentAsync(account));

        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        var missed = await WaitForStatusAsync(account, "nightly-backup", "missed");
        Assert.Equal(pingedAt + TimeSpan.FromMinutes(12), missed.MissedAt);
        var incident = (await MissedIncidentAsync(account))!;
        Assert.Equal(("backups", Severity.Sev2), (incident.Service, incident.Severity));
        var page = Assert.Single(await fixture.Sender.WaitForAsync(incident.Id, s => s.Count >= 1, "the missed heartbeat's page"));
        Assert.Equal("ana@example.com", page.Destination);

        // A new activation reads where it stood from the journal: still missed, and not raised a second time.
        await fixture.Cluster.DeactivateAsync(heartbeats);
        Assert.Equal(("missed", missed.MissedAt), ((await StatusAsync(account, "nightly-backup")).Status, (await StatusAsync(account, "nightly-backup")).MissedAt));
        await Task.Delay(200);
        Assert.Single(fixture.Sender.SentFor(incident.Id));

        var back = (await heartbeats.Ping("nightly-backup"))!;
        Assert.Equal(("up", 2L), (back.Status, back.Pings));
        var alert = Assert.Single((await fixture.Grains.GetGrain<IIncidentGrain>(incident.Id).Describe())!.Alerts);
        Assert.Equal((AlertStatus.Resolved, "nightly-backup"), (alert.Status, alert.Labels[Heartbeats.HeartbeatLabel]));
    }

    [Fact]
    public async Task An_always_firing_alert_that_pings_a_heartbeat_opens_nothing_and_its_silence_is_an_incident()
    {
        var watchdog = new HeartbeatDefinition { Name = "prometheus", Interval = TimeSpan.FromMinutes(1), Grace = TimeSpan.FromMinutes(4), Alert = "Watchdog", Severity = Severity.Sev1 };
        var account = await NewAccountAsync(watchdog);
        var labels = new Dictionary<string, string> { ["alertname"] = "Watchdog", ["severity"] = "none" };
        var now = fixture.Time.GetUtcNow();
        var receipt = Assert.Single(await fixture.Grains.IngestAsync(account, [new NormalizedAlert
        {
            Source = "test", Service = "prometheus", Labels = labels, Severity = Severity.Sev4, Status = AlertStatus.Firing,
            StartsAt = now, Fingerprint = AlertFingerprint.Of(labels), ReceivedAt = now,
        }]));

        Assert.Equal((AlertOutcome.Heartbeat, null), (receipt.Outcome, receipt.IncidentId));
        Assert.Equal(("up", 1L), ((await StatusAsync(account, "prometheus")).Status, (await StatusAsync(account, "prometheus")).Pings));
        Assert.Null(await MissedIncidentAsync(account));

        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        await WaitForStatusAsync(account, "prometheus", "missed");
        var incident = (await MissedIncidentAsync(account))!;
        Assert.Equal(Severity.Sev1, incident.Severity);
        Assert.Contains("Watchdog stopped arriving", (await fixture.Grains.GetGrain<IIncidentGrain>(incident.Id).Describe())!.Alerts[0].Annotations["description"]);
    }

    [Fact]
    public async Task A_heartbeat_that_never_pinged_is_missed_an_allowance_after_it_was_configured_and_dropping_it_resolves_its_alert()
    {
        var cron = new HeartbeatDefinition { Name = "cron", Interval = TimeSpan.FromMinutes(2), Grace = TimeSpan.Zero };
        var account = await NewAccountAsync(cron);

        fixture.Time.Advance(TimeSpan.FromMinutes(2));
        await WaitForStatusAsync(account, "cron", "missed");
        var incident = (await MissedIncidentAsync(account))!;
        Assert.Equal("cron", incident.Service); // named after the heartbeat when it names no service

        var config = (await fixture.Grains.GetGrain<IAccountGrain>(account).GetConfig())!;
        Assert.True((await fixture.Grains.GetGrain<IAccountGrain>(account).ApplyConfig(config with { Heartbeats = [] }, ConfigSource.Api)).Applied);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await fixture.Grains.GetGrain<IIncidentGrain>(incident.Id).Describe())!.Alerts[0].Status != AlertStatus.Resolved)
        {
            Assert.True(DateTime.UtcNow < deadline, "the dropped heartbeat's alert did not resolve");
            await Task.Delay(20);
        }
        Assert.Empty(await fixture.Grains.GetGrain<IHeartbeatGrain>(account).List());
    }
}
