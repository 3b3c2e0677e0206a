namespace OrleansOps.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class EscalationGrainTests(ClusterFixture fixture)
{
    private async Task<string> NewAccountAsync(TimeSpan secondLevelDelay)
    {
        var id = "esc-" + Guid.NewGuid().ToString("N")[..10];
        UserDefinition Emailed(string user) => new() { Id = user, Contacts = [new ContactMethod { Id = "work", Kind = ChannelKind.Email, Address = $"{user}@example.com" }] };
        var result = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = id,
            Services = [new ServiceDefinition { Id = "api", EscalationPolicy = "standard" }],
            OnCall = new OnCallConfig
            {
                Users = [Emailed("ana"), Emailed("ben")],
                Policies =
                [
                    new EscalationPolicy
                    {
                        Id = "standard",
                        Levels =
                        [
                            new EscalationLevel { Targets = [new EscalationTarget(TargetKind.User, "ana")] },
                            new EscalationLevel { Delay = secondLevelDelay, Targets = [new EscalationTarget(TargetKind.User, "ben")] },
                        ],
                    },
                ],
            },
        }, ConfigSource.Api);
        Assert.True(result.Applied, string.Join("; ", result.Errors));
        return id;
    }

    [Fact]
    public async Task A_new_incident_pages_its_first_level_and_the_delivery_lands_on_the_incident()
    {
        var account = await NewAccountAsync(TimeSpan.FromMinutes(5));
        var id = await fixture.OpenSev1Async(account);

        var sent = await fixture.Sender.WaitForAsync(id, s => s.Count >= 1, "level 1");
        var page = Assert.Single(sent);
        Assert.Equal($"{id}/g0.r0.l0/user:ana/work", page.Key);
        Assert.Equal("ana@example.com", page.Destination);

        var incident = fixture.Grains.GetGrain<IIncidentGrain>(id);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        IncidentView view;
        while ((view = (await incident.Describe())!).Notifications.Count == 0) { Assert.True(DateTime.UtcNow < deadline); await Task.Delay(20); }
        Assert.True(Assert.Single(view.Notifications).Delivered);
        Assert.Equal("standard", view.Escalation.Policy);
        Assert.Equal(2, view.Escalation.NextLevel);
        Assert.Equal(["ana"], view.Escalation.Assignees);
        var chronicle = (await incident.ChronicleAsync())!;
        Assert.Contains(chronicle, e => e.Kind == ChronicleKinds.NotificationDelivered && e.Data["key"] == page.Key);
    }

    [Fact]
    public async Task A_page_goes_out_once_its_step_is_durable_without_waiting_for_the_account()
    {
        // Found by the chaos bench: the page waited for the account's update, and a silo killed meanwhile left it unsent
        // for RedispatchAfter (30 min). The account's Record is held here as a failover holds it.
        var account = await NewAccountAsync(TimeSpan.FromHours(1));
        var release = fixture.AccountHold.Hold(account);
        var opening = fixture.OpenSev1Async(account);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!fixture.Sender.Sent.Any(n => n.AccountId == account))
            {
                Assert.True(DateTime.UtcNow < deadline, "the page waited for the account");
                await Task.Delay(20);
            }
            Assert.False(opening.IsCompleted); // the incident is still waiting on the account
        }
        finally
        {
            release.SetResult();
        }
        var id = await opening;
        Assert.Equal($"{id}/g0.r0.l0/user:ana/work", Assert.Single(fixture.Sender.SentFor(id)).Key);
        Assert.Equal(1, (await fixture.Grains.GetGrain<IAccountGrain>(account).Describe())!.OpenIncidents);
    }

    [Fact]
    public async Task An_account_that_could_not_be_told_of_a_new_incident_reads_it_from_the_journal_index_when_it_activates_again()
    {
        // The incident's summary is durable in the journal's index before the account hears of it: an account that missed
        // it (its silo failing over as the call was made) has it as soon as it activates again, without another call.
        var account = await NewAccountAsync(TimeSpan.FromHours(1));
        var accountGrain = fixture.Grains.GetGrain<IAccountGrain>(account);
        await accountGrain.Describe();
        fixture.AccountHold.Fail(account, times: 1);
        await Assert.ThrowsAnyAsync<Exception>(() => fixture.OpenSev1Async(account));
        Assert.Equal(0, (await accountGrain.Describe())!.OpenIncidents);

        await fixture.Cluster.DeactivateAsync(accountGrain);
        var listed = Assert.Single((await accountGrain.ListIncidents(IncidentStatusFilter.Open, null, 10)).Items);
        Assert.Equal(IncidentStatus.Triggered, listed.Status);
        Assert.Equal(1, (await accountGrain.Describe())!.OpenIncidents);
    }

    [Fact]
    public async Task The_grain_timer_fires_the_next_level_when_its_delay_has_passed_and_not_after_an_acknowledgement()
    {
        var account = await NewAccountAsync(TimeSpan.FromMinutes(5));
        var paged = await fixture.OpenSev1Async(account);
        var acknowledged = await fixture.OpenSev1Async(await NewAccountAsync(TimeSpan.FromMinutes(5)));
        await fixture.Sender.WaitForAsync(paged, s => s.Count >= 1, "level 1");
        await fixture.Sender.WaitForAsync(acknowledged, s => s.Count >= 1, "level 1");
        await fixture.Grains.GetGrain<IIncidentGrain>(acknowledged).Acknowledge("ana");

        var stopped = (await fixture.Grains.GetGrain<IIncidentGrain>(acknowledged).Describe())!;
        Assert.Null(stopped.Escalation.NextAt);

        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        var sent = await fixture.Sender.WaitForAsync(paged, s => s.Count >= 2, "level 2");
        Assert.Equal($"{paged}/g0.r0.l1/user:ben/work", sent[1].Key);
        await Task.Delay(300);
        Assert.Single(fixture.Sender.SentFor(acknowledged));
        Assert.Null((await fixture.Grains.GetGrain<IIncidentGrain>(acknowledged).Describe())!.Escalation.NextLevel);
    }

    [Fact]
    public async Task A_notification_in_flight_is_not_sent_again_by_a_new_activation_and_its_late_report_still_lands()
    {
        var account = await NewAccountAsync(TimeSpan.FromHours(1));
        var release = fixture.Sender.HoldReports();
        string id;
        try
        {
            id = await fixture.OpenSev1Async(account);
            await fixture.Sender.WaitForAsync(id, s => s.Count >= 1, "level 1");
            var incident = fixture.Grains.GetGrain<IIncidentGrain>(id);
            await fixture.Cluster.DeactivateAsync(incident);
            Assert.Equal(1, (await incident.Describe())!.PendingNotifications); // a new activation, the page still out
            await Task.Delay(300);
            Assert.Single(fixture.Sender.SentFor(id));
        }
        finally
        {
            release.SetResult();
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        IncidentView view;
        while ((view = (await fixture.Grains.GetGrain<IIncidentGrain>(id).Describe())!).Notifications.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the late report never landed");
            await Task.Delay(20);
        }
        Assert.True(view.Notifications[0].Delivered);
        Assert.Equal(0, view.PendingNotifications);
        Assert.Single(fixture.Sender.SentFor(id));
    }
}
