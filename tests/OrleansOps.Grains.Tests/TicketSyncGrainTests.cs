namespace OrleansOps.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class TicketSyncGrainTests(ClusterFixture fixture)
{
    private async Task<string> NewAccountAsync()
    {
        var id = "itsm-" + Guid.NewGuid().ToString("N")[..10];
        var result = await fixture.Grains.GetGrain<IAccountGrain>(id).ApplyConfig(new AccountConfig
        {
            Id = id,
            Name = id,
            Services = [new ServiceDefinition { Id = "api" }],
            Itsm = new ItsmSettings
            {
                ServiceNow = new ServiceNowSettings { InstanceUrl = "https://acme.service-now.com/", UsernameRef = "SN_USER", PasswordRef = "SN_PASSWORD" },
                InboundSecretRef = "ITSM_SECRET",
            },
        }, ConfigSource.Api);
        Assert.True(result.Applied, string.Join("; ", result.Errors));
        return id;
    }

    private async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            fixture.Time.Advance(TimeSpan.FromSeconds(2)); // retries wait on the fake clock
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Lost_answers_and_failures_leave_one_ticket_and_each_entry_on_it_once()
    {
        var account = await NewAccountAsync();
        fixture.Tickets.LoseNextAnswer();              // the ticket is created, the answer is lost
        var id = await fixture.OpenSev1Async(account);
        var incident = fixture.Grains.GetGrain<IIncidentGrain>(id);
        async Task<IReadOnlyList<ChronicleEntry>> Chronicle() => (await incident.ChronicleAsync())!;
        var created = false;
        await EventuallyAsync(() => created = Chronicle().Result.Any(e => e.Kind == ChronicleKinds.TicketCreated), "the ticket found after the lost answer");
        var ticket = fixture.Tickets.Tickets[id];

        fixture.Tickets.FailNext("HTTP 503");          // refused before doing anything
        await incident.Acknowledge("ana");
        await EventuallyAsync(() => ticket.Notes.Count == 1, "the acknowledgement on the ticket");
        fixture.Tickets.LoseNextAnswer();              // the note lands, the answer is lost
        await incident.AddNote("ana", "failing over to the standby");
        await EventuallyAsync(() => Chronicle().Result.Count(e => e.Kind == ChronicleKinds.TicketFailed) == 3, "the lost note retried");
        await incident.Resolve("ana", "standby healthy");
        await EventuallyAsync(() => ticket.Transitions.Contains(TicketState.Resolved), "the resolution on the ticket");
        fixture.Time.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(300);

        Assert.Equal(["Acknowledged by ana", "failing over to the standby", "Resolved by ana: standby healthy"],
            ticket.Notes.Select(n => n[(n.IndexOf(": ", StringComparison.Ordinal) + 2)..n.IndexOf(" [OrleansOps", StringComparison.Ordinal)]));
        Assert.Equal([TicketState.Acknowledged, TicketState.Resolved], ticket.Transitions);
        Assert.Equal(1, fixture.Tickets.Tickets.Count(t => t.Key == id));
        var chronicle = await Chronicle();
        Assert.StartsWith("Found ServiceNow ticket", Assert.Single(chronicle, e => e.Kind == ChronicleKinds.TicketCreated).Text);
        Assert.Equal(3, chronicle.Count(e => e.Kind == ChronicleKinds.TicketFailed)); // three failure streaks, one entry each
    }
}
