namespace OrleansOps.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class SlaGrainTests(ClusterFixture fixture)
{
    private async Task<string> NewAccountAsync()
    {
        var id = "sla-" + Guid.NewGuid().ToString("N")[..10];
        var result = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = id,
            Services = [new ServiceDefinition { Id = "api" }],
            Sla = new SlaContract { Availability = [new AvailabilitySlo { Name = "availability", Target = 99.95, Window = "30d" }] },
        }, ConfigSource.Api);
        Assert.True(result.Applied, string.Join("; ", result.Errors));
        return id;
    }

    private static async Task<SlaEvent> EventuallyEventAsync(IAccountGrain account, Func<SlaEvent, bool> which, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if ((await account.GetSlaEvents()).FirstOrDefault(which) is { } found) return found;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}: {string.Join("; ", (await account.GetSlaEvents()).Select(e => $"{e.At:O} {e.Kind} {e.To}"))}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task An_open_sev1_breaches_the_slo_at_exactly_the_instant_time_to_exhaustion_predicted()
    {
        var id = await NewAccountAsync();
        var account = fixture.Grains.GetGrain<IAccountGrain>(id);
        var openedAt = fixture.Time.GetUtcNow();
        await fixture.OpenSev1Async(id);

        var sla = (await account.GetSla())!;
        var availability = Assert.Single(sla.Availability);
        Assert.Equal(1.0, availability.CurrentBurnWeight);
        Assert.Equal(TimeSpan.FromMinutes(21.6), availability.TimeToExhaustion);        // (1 − 0.9995) × 30 d, all of it left
        Assert.Equal(openedAt + TimeSpan.FromMinutes(21.6), availability.ExhaustedAt);
        var exhaustedAt = availability.ExhaustedAt!.Value;

        // The page-1h burn pair fires within seconds of a full outage: at-risk, one burn episode.
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        await EventuallyEventAsync(account, e => e is { Kind: SlaEventKind.BurnStarted }, "the burn episode");
        await EventuallyEventAsync(account, e => e is { Kind: SlaEventKind.Status, To: SloHealth.AtRisk }, "at-risk");

        // Minute by minute until one tick before the predicted instant: not breached.
        while (fixture.Time.GetUtcNow() + TimeSpan.FromMinutes(1) < exhaustedAt) fixture.Time.Advance(TimeSpan.FromMinutes(1));
        fixture.Time.SetUtcNow(exhaustedAt - TimeSpan.FromTicks(1));
        await Task.Delay(200);
        Assert.DoesNotContain(await account.GetSlaEvents(), e => e.To == SloHealth.Breached);

        fixture.Time.SetUtcNow(exhaustedAt);
        var breached = await EventuallyEventAsync(account, e => e is { Kind: SlaEventKind.Status, To: SloHealth.Breached }, "the breach");
        Assert.Equal(exhaustedAt, breached.At);
        Assert.Single(await account.GetSlaEvents(), e => e.Kind == SlaEventKind.BurnStarted);
        // The fleet hears of it once the breach is durable on the account, moments after the event shows.
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(20))
        {
            var page = await fixture.Grains.GetGrain<IFleetGrain>(GrainKeys.Fleet).List(500, null);
            if (page.Items.Any(e => e.AccountId == id && e.Status == SloHealth.Breached)) break;
            Assert.True(DateTime.UtcNow < deadline, "the fleet never heard of the breach");
        }
    }

    [Fact]
    public async Task A_response_clock_breaches_at_its_deadline_even_when_the_incident_was_deactivated_meanwhile()
    {
        var id = "slaclk-" + Guid.NewGuid().ToString("N")[..10];
        var applied = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = id,
            Services = [new ServiceDefinition { Id = "api" }],
            Sla = new SlaContract { Response = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromMinutes(15) } },
        }, ConfigSource.Api);
        Assert.True(applied.Applied);
        var openedAt = fixture.Time.GetUtcNow();
        var incidentId = await fixture.OpenSev1Async(id);
        var incident = fixture.Grains.GetGrain<IIncidentGrain>(incidentId);

        await fixture.Cluster.DeactivateAsync(incident); // its timer is gone with the activation
        fixture.Time.Advance(TimeSpan.FromMinutes(16));
        var chronicle = (await incident.ChronicleAsync())!;   // the next activation acts on what fell due meanwhile
        var breach = Assert.Single(chronicle, e => e.Kind == ChronicleKinds.SlaBreached);
        Assert.Equal("sev1-response", breach.Data["clock"]);
        Assert.Equal((openedAt + TimeSpan.FromMinutes(15)).ToString("O"), breach.Data["dueAt"]);
        Assert.DoesNotContain(chronicle, e => e.Kind == ChronicleKinds.SlaWarning); // a warning after the deadline would say nothing new

        var clock = Assert.Single((await fixture.Grains.GetGrain<IAccountGrain>(id).GetSla())!.Clocks, c => c.Slo == "sev1-response");
        Assert.Equal(1, clock.Breached);
    }

    [Fact]
    public async Task One_burn_episode_and_each_status_change_notify_the_owners_once()
    {
        var id = "slantf-" + Guid.NewGuid().ToString("N")[..10];
        var applied = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = "Notified tenant",
            Services = [new ServiceDefinition { Id = "api" }],
            OnCall = new OnCallConfig { Users = [new UserDefinition { Id = "owner", Contacts = [new ContactMethod { Id = "work", Kind = ChannelKind.Email, Address = "owner@example.com" }] }] },
            Sla = new SlaContract
            {
                Availability = [new AvailabilitySlo { Name = "availability", Target = 99.95, Window = "30d" }],
                Notify = [new EscalationTarget(TargetKind.User, "owner")],
            },
        }, ConfigSource.Api);
        Assert.True(applied.Applied, string.Join("; ", applied.Errors));
        var account = fixture.Grains.GetGrain<IAccountGrain>(id);
        await fixture.OpenSev1Async(id);

        // An hour of a full outage: the page-1h pair, then page-6h and ticket-3d join the same episode.
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        await EventuallyEventAsync(account, e => e is { Kind: SlaEventKind.Status, To: SloHealth.AtRisk }, "at-risk");
        for (var minute = 1; minute < 60; minute++)
        {
            fixture.Time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(20); // let each minute's review run
        }
        await EventuallyEventAsync(account, e => e is { Kind: SlaEventKind.Status, To: SloHealth.Breached }, "the breach");
        await Task.Delay(300);

        var notices = fixture.Sender.Sent.Where(n => n.AccountId == id && n.IncidentId.Length == 0).Select(n => n.Key).ToList();
        Assert.Equal(3, notices.Count);
        Assert.Single(notices, k => k.Contains("/sla/availability/burnstarted/"));
        Assert.All(notices, k => Assert.EndsWith("/user:owner/work", k));
        Assert.Equal(2, notices.Count(k => k.Contains("/sla/availability/status/")));  // at-risk, then breached
        var events = await account.GetSlaEvents();
        Assert.All(events.Where(e => e.Kind != SlaEventKind.BurnEnded), e => Assert.Equal(["owner by email"], e.Notified));
    }
}
