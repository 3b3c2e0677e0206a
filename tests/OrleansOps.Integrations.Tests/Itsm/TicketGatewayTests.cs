using OrleansOps.Integrations.Itsm;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Itsm;

/// <summary>The gateway's look-before-write over the real ServiceNow client and a stub.</summary>
public sealed class TicketGatewayTests
{
    private const string Incident = "/api/now/table/incident";
    private static readonly string Record = $$"""{"sys_id":"{{ItsmHarness.SysId}}","number":"INC0010001","state":"1"}""";

    private static TicketGateway Gateway(ItsmHarness h) => new(h.Configuration, h.Http, TimeProvider.System);

    private static ItsmSettings Settings(ItsmHarness h) => new() { ServiceNow = h.ServiceNowSettings, InboundSecretRef = "S" };

    private static TicketWork Create(bool lookFirst) => new()
    {
        System = TicketSystem.ServiceNow, Kind = TicketWorkKind.Create, IncidentId = "inc-7f3a", Text = "ehr-api down", LookFirst = lookFirst,
        Title = "[SEV1] ehr-api down", Severity = Severity.Sev1,
    };

    private static TicketWork Resolve(bool lookFirst) => new()
    {
        System = TicketSystem.ServiceNow, Kind = TicketWorkKind.Transition, IncidentId = "inc-7f3a", TicketId = ItsmHarness.SysId,
        TicketKey = "INC0010001", Seq = 7, Text = "Resolved by ana [OrleansOps inc-7f3a #7]", State = TicketState.Resolved,
        LookFirst = lookFirst, Marker = "[OrleansOps inc-7f3a #7]", Title = "ehr-api down", Severity = Severity.Sev1,
    };

    [Fact]
    public async Task A_create_that_may_have_landed_finds_the_ticket_and_creates_nothing()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"result":[{{Record}}]}"""));

        var outcome = await Gateway(h).ExecuteAsync(Settings(h), Create(lookFirst: true), CancellationToken.None);

        Assert.True(outcome is { Succeeded: true, Found: true, TicketKey: "INC0010001" });
        Assert.Equal(ItsmHarness.SysId, outcome.TicketId);
        Assert.Equal(["GET"], h.Stub.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task A_create_looks_then_creates_when_nothing_is_there()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"result":[]}"""));
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody($$"""{"result":{{Record}}}"""));

        var outcome = await Gateway(h).ExecuteAsync(Settings(h), Create(lookFirst: true), CancellationToken.None);

        Assert.True(outcome is { Succeeded: true, Found: false, TicketKey: "INC0010001" });
        Assert.Equal(["GET", "POST"], h.Stub.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task A_resolve_whose_note_is_already_there_only_sets_the_state()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/api/now/table/sys_journal_field").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"result":[{"sys_id":"j1"}]}"""));
        h.Stub.Server.Given(Request.Create().WithPath($"{Incident}/{ItsmHarness.SysId}").UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"result":{{Record}}}"""));

        var outcome = await Gateway(h).ExecuteAsync(Settings(h), Resolve(lookFirst: true), CancellationToken.None);

        Assert.True(outcome is { Succeeded: true, Found: true, Seq: 7 });
        var patch = Assert.Single(h.Stub.Requests, r => r.Method == "PATCH");
        Assert.Equal("6", patch.Json().GetProperty("state").GetString());
        Assert.False(patch.Json().TryGetProperty("work_notes", out _));
    }

    [Fact]
    public async Task A_refusal_comes_back_as_an_outcome_the_incident_can_retry_or_stop_on()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Retry-After", "4"));
        var busy = await Gateway(h).ExecuteAsync(Settings(h), Create(lookFirst: true), CancellationToken.None);
        Assert.True(busy is { Succeeded: false, Retryable: true });
        Assert.Equal(TimeSpan.FromSeconds(4), busy.RetryAfter);

        var none = await Gateway(h).ExecuteAsync(ItsmSettings.None, Create(lookFirst: true), CancellationToken.None);
        Assert.True(none is { Succeeded: false, Retryable: false });
        Assert.DoesNotContain(ItsmHarness.SnPassword, busy.Error);
    }
}
