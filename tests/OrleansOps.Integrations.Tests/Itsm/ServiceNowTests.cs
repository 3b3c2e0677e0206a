using OrleansOps.Integrations.Itsm;
using OrleansOps.Integrations.Tests.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Itsm;

public sealed class ServiceNowTests
{
    private const string Incident = "/api/now/table/incident";
    private static readonly string Record = $$"""{"sys_id":"{{ItsmHarness.SysId}}","number":"INC0010001","state":"1"}""";

    private static void AssertCommonHeaders(WireMock.IRequestMessage request)
    {
        Assert.Equal(ItsmHarness.Basic(ItsmHarness.SnUser, ItsmHarness.SnPassword), request.Header("Authorization"));
        Assert.Equal("application/json", request.Header("Accept"));
    }

    [Fact]
    public async Task Find_looks_up_by_correlation_id_and_returns_sys_id_and_number()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"result":[{{Record}}]}"""));

        var ticket = await h.ServiceNow().FindAsync("inc-7f3a", CancellationToken.None);

        Assert.Equal(new TicketRef(TicketSystem.ServiceNow, ItsmHarness.SysId, "INC0010001"), ticket);
        var request = h.Stub.SingleRequest();
        Assert.Equal("GET", request.Method);
        Assert.Equal(Incident, request.Path);
        Assert.Equal("correlation_id=inc-7f3a", request.Query("sysparm_query"));
        Assert.Equal("sys_id,number,state", request.Query("sysparm_fields"));
        Assert.Equal("1", request.Query("sysparm_limit"));
        AssertCommonHeaders(request);
    }

    [Fact]
    public async Task Find_returns_null_on_an_empty_result()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"result":[]}"""));

        Assert.Null(await h.ServiceNow().FindAsync("inc-7f3a", CancellationToken.None));
    }

    [Fact]
    public async Task Find_refuses_an_incident_id_that_would_change_the_encoded_query()
    {
        using var h = new ItsmHarness();

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.ServiceNow().FindAsync("inc-1^ORcorrelation_idISNOTEMPTY", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Empty(h.Stub.Requests);
    }

    [Fact]
    public async Task Create_posts_the_incident_fields_as_strings_with_the_mapped_urgency_and_impact()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody($$"""{"result":{{Record}}}"""));

        var ticket = await h.ServiceNow().CreateAsync(ItsmHarness.Draft, CancellationToken.None);

        Assert.Equal(ItsmHarness.SnTicket, ticket);
        var request = h.Stub.SingleRequest();
        Assert.Equal("POST", request.Method);
        Assert.Equal(Incident, request.Path);
        AssertCommonHeaders(request);
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        var body = request.Json();
        Assert.Equal(
            ["short_description", "description", "urgency", "impact", "correlation_id", "correlation_display", "assignment_group"],
            body.Names());
        Assert.Equal("ehr-api down", body.GetProperty("short_description").GetString());
        Assert.Equal("p99 above 2s on ehr-api\nsince 10:00 UTC\n\nOrleansOps incident: https://ops.example.com/incidents/inc-7f3a",
            body.GetProperty("description").GetString());
        Assert.Equal("1", body.GetProperty("urgency").GetString());
        Assert.Equal("1", body.GetProperty("impact").GetString());
        Assert.Equal("inc-7f3a", body.GetProperty("correlation_id").GetString());
        Assert.Equal("OrleansOps", body.GetProperty("correlation_display").GetString());
        Assert.Equal(ItsmHarness.GroupSysId, body.GetProperty("assignment_group").GetString());
    }

    [Fact]
    public async Task Create_uses_configured_levels_and_leaves_out_an_unset_assignment_group()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath(Incident).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody($$"""{"result":{{Record}}}"""));
        var settings = h.ServiceNowSettings with
        {
            AssignmentGroup = null,
            Urgency = new Dictionary<Severity, int> { [Severity.Sev3] = 2 },
        };
        var draft = ItsmHarness.Draft with { Severity = Severity.Sev3, IncidentUrl = null, Title = "line one\nline two " + new string('x', 300) };

        await h.ServiceNow(settings).CreateAsync(draft, CancellationToken.None);

        var body = h.Stub.SingleRequest().Json();
        Assert.False(body.TryGetProperty("assignment_group", out _));
        Assert.Equal("2", body.GetProperty("urgency").GetString());
        Assert.Equal("2", body.GetProperty("impact").GetString()); // sev3's default impact
        Assert.Equal("p99 above 2s on ehr-api\nsince 10:00 UTC", body.GetProperty("description").GetString());
        var summary = body.GetProperty("short_description").GetString()!;
        Assert.Equal(160, summary.Length);
        Assert.StartsWith("line one line two xxx", summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"result":[{"sys_id":"0f9a8c1fdb1c1010a4b2f0c7d39619e4"}]}""", true)]
    [InlineData("""{"result":[]}""", false)]
    public async Task HasNote_queries_the_work_notes_journal_of_the_incident(string answer, bool expected)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/api/now/table/sys_journal_field").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(answer));

        var found = await h.ServiceNow().HasNoteAsync(ItsmHarness.SnTicket, "[orleansops:entry-12]", CancellationToken.None);

        Assert.Equal(expected, found);
        var request = h.Stub.SingleRequest();
        Assert.Equal("GET", request.Method);
        Assert.Equal($"element_id={ItsmHarness.SysId}^element=work_notes^valueLIKE[orleansops:entry-12]", request.Query("sysparm_query"));
        AssertCommonHeaders(request);
    }

    [Fact]
    public async Task HasNote_refuses_a_marker_with_a_query_operator()
    {
        using var h = new ItsmHarness();

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.ServiceNow().HasNoteAsync(ItsmHarness.SnTicket, "x^ORelement=comments", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Empty(h.Stub.Requests);
    }

    [Fact]
    public async Task AddNote_patches_work_notes_with_the_plain_text()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath($"{Incident}/{ItsmHarness.SysId}").UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"result":{{Record}}}"""));
        const string text = "[code]<script>alert(1)</script>[/code]\nAcknowledged by ana at 10:02 UTC";

        await h.ServiceNow().AddNoteAsync(ItsmHarness.SnTicket, text, CancellationToken.None);

        var request = h.Stub.SingleRequest();
        Assert.Equal("PATCH", request.Method);
        Assert.Equal($"{Incident}/{ItsmHarness.SysId}", request.Path);
        AssertCommonHeaders(request);
        // A zero-width space after each bracket: the code tags read the same and are no tags.
        Assert.Equal("""{"work_notes":"[\u200Bcode]\u003Cscript\u003Ealert(1)\u003C/script\u003E[\u200B/code]\nAcknowledged by ana at 10:02 UTC"}""",
            request.Json().Compact());
        Assert.Equal(text.Replace("[", "[\u200B"), request.Json().GetProperty("work_notes").GetString());
    }

    [Theory]
    [InlineData(TicketState.Acknowledged, null, """{"state":"2"}""")]
    [InlineData(TicketState.Resolved, null, """{"state":"6","close_code":"Solved (Permanently)","close_notes":"Resolved in OrleansOps"}""")]
    [InlineData(TicketState.Resolved, "Rolled back deploy 42", """{"state":"6","close_code":"Solved (Permanently)","close_notes":"Rolled back deploy 42"}""")]
    public async Task Transition_patches_the_state_code(TicketState state, string? note, string expected)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath($"{Incident}/{ItsmHarness.SysId}").UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"result":{{Record}}}"""));

        await h.ServiceNow().TransitionAsync(ItsmHarness.SnTicket, state, note, CancellationToken.None);

        var request = h.Stub.SingleRequest();
        Assert.Equal("PATCH", request.Method);
        Assert.Equal($"{Incident}/{ItsmHarness.SysId}", request.Path);
        AssertCommonHeaders(request);
        Assert.Equal(expected, request.Json().Compact());
    }

    [Fact]
    public async Task A_ticket_of_another_system_or_without_a_sys_id_is_refused_before_any_request()
    {
        using var h = new ItsmHarness();
        var client = h.ServiceNow();

        Assert.False((await Assert.ThrowsAsync<ItsmException>(() => client.AddNoteAsync(ItsmHarness.JiraTicket, "x", CancellationToken.None))).Retryable);
        Assert.False((await Assert.ThrowsAsync<ItsmException>(() =>
            client.AddNoteAsync(ItsmHarness.SnTicket with { Id = "../sys_user/1" }, "x", CancellationToken.None))).Retryable);
        Assert.Empty(h.Stub.Requests);
    }
}
