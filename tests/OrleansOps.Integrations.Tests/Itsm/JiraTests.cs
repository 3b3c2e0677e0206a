using System.Text.Json;
using OrleansOps.Integrations.Itsm;
using OrleansOps.Integrations.Tests.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Itsm;

public sealed class JiraTests
{
    private static void AssertCommonHeaders(WireMock.IRequestMessage request)
    {
        Assert.Equal(ItsmHarness.Basic(ItsmHarness.JiraEmail, ItsmHarness.JiraToken), request.Header("Authorization"));
        Assert.Equal("application/json", request.Header("Accept"));
    }

    private static string Adf(params string[] paragraphs) =>
        JsonSerializer.Serialize(new
        {
            type = "doc",
            version = 1,
            content = paragraphs.Select(p => new
            {
                type = "paragraph",
                content = p.Length == 0 ? [] : new[] { new { type = "text", text = p } },
            }),
        });

    [Fact]
    public async Task Find_searches_jql_for_the_incident_label_and_returns_id_and_key()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/search/jql").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"issues":[{"id":"10001","key":"OPS-1","self":"x"}],"isLast":true}"""));

        var ticket = await h.Jira().FindAsync("inc-7f3a", CancellationToken.None);

        Assert.Equal(new TicketRef(TicketSystem.Jira, "10001", "OPS-1"), ticket);
        var request = h.Stub.SingleRequest();
        Assert.Equal("GET", request.Method);
        Assert.Equal("/rest/api/3/search/jql", request.Path);
        Assert.Equal("labels=orleansops-inc-7f3a", request.Query("jql"));
        Assert.Contains("jql=labels%3Dorleansops-inc-7f3a", request.Url, StringComparison.Ordinal);
        AssertCommonHeaders(request);
    }

    [Fact]
    public async Task Find_returns_null_when_no_issue_has_the_label()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/search/jql").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"issues":[],"isLast":true}"""));

        Assert.Null(await h.Jira().FindAsync("inc-7f3a", CancellationToken.None));
    }

    [Fact]
    public async Task Find_refuses_an_incident_id_that_would_change_the_jql()
    {
        using var h = new ItsmHarness();

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.Jira().FindAsync("x OR project=HR", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Empty(h.Stub.Requests);
    }

    [Fact]
    public async Task Create_posts_the_issue_fields_with_an_adf_description_of_one_paragraph_per_line()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"10001","key":"OPS-1","self":"https://acme.atlassian.net/rest/api/3/issue/10001"}"""));

        var ticket = await h.Jira().CreateAsync(ItsmHarness.Draft with { Severity = Severity.Sev2 }, CancellationToken.None);

        Assert.Equal(ItsmHarness.JiraTicket, ticket);
        var request = h.Stub.SingleRequest();
        Assert.Equal("POST", request.Method);
        Assert.Equal("/rest/api/3/issue", request.Path);
        AssertCommonHeaders(request);
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        var body = request.Json();
        Assert.Equal(["fields"], body.Names());
        var fields = body.GetProperty("fields");
        Assert.Equal(["project", "issuetype", "summary", "labels", "priority", "description"], fields.Names());
        Assert.Equal("""{"key":"OPS"}""", fields.GetProperty("project").Compact());
        Assert.Equal("""{"name":"Incident"}""", fields.GetProperty("issuetype").Compact());
        Assert.Equal("ehr-api down", fields.GetProperty("summary").GetString());
        Assert.Equal("""["orleansops-inc-7f3a"]""", fields.GetProperty("labels").Compact());
        Assert.Equal("""{"name":"High"}""", fields.GetProperty("priority").Compact());
        Assert.Equal(
            Adf("p99 above 2s on ehr-api", "since 10:00 UTC", "", "OrleansOps incident: https://ops.example.com/incidents/inc-7f3a"),
            fields.GetProperty("description").Compact());
    }

    [Fact]
    public async Task Create_uses_the_configured_issue_type_and_priority()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"10002","key":"OPS-2"}"""));
        var settings = h.JiraSettings with { IssueType = "Bug", Priority = new Dictionary<Severity, string> { [Severity.Sev1] = "P1" } };

        await h.Jira(settings).CreateAsync(ItsmHarness.Draft, CancellationToken.None);

        var fields = h.Stub.SingleRequest().Json().GetProperty("fields");
        Assert.Equal("Bug", fields.GetProperty("issuetype").GetProperty("name").GetString());
        Assert.Equal("P1", fields.GetProperty("priority").GetProperty("name").GetString());
    }

    [Fact]
    public async Task AddNote_posts_a_comment_whose_untrusted_text_stays_adf_text_nodes()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"100","body":{}}"""));
        const string text = "Escalated to *ana* [click|https://evil.example]\r\n{code}rm -rf{code}\u0007 [orleansops:entry-3]";

        await h.Jira().AddNoteAsync(ItsmHarness.JiraTicket, text, CancellationToken.None);

        var request = h.Stub.SingleRequest();
        Assert.Equal("POST", request.Method);
        Assert.Equal("/rest/api/3/issue/OPS-1/comment", request.Path);
        AssertCommonHeaders(request);
        var body = request.Json();
        Assert.Equal(["body"], body.Names());
        // Wiki markup is not interpreted: each line is a single text node with no marks; the bell character is dropped.
        Assert.Equal(Adf("Escalated to *ana* [click|https://evil.example]", "{code}rm -rf{code} [orleansops:entry-3]"), body.GetProperty("body").Compact());
    }

    private static string CommentPage(int startAt, int total, params string[] texts) =>
        $$"""{"startAt":{{startAt}},"maxResults":{{texts.Length}},"total":{{total}},"comments":[{{string.Join(",", texts.Select((t, i) => $$"""{"id":"{{startAt + i}}","body":{{Adf(t.Split('\n'))}}}"""))}}]}""";

    [Theory]
    [InlineData("Acknowledged by ana\n[orleansops:entry-7]", true)]
    [InlineData("Acknowledged by ana\n[orleansops:entry-70]", false)] // a longer marker does not contain entry-7's closing bracket
    [InlineData("nothing of ours", false)]
    public async Task HasNote_searches_the_adf_text_of_the_comments(string comment, bool expected)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(CommentPage(0, 2, "first", comment)));

        var found = await h.Jira().HasNoteAsync(ItsmHarness.JiraTicket, "[orleansops:entry-7]", CancellationToken.None);

        Assert.Equal(expected, found);
        var request = h.Stub.SingleRequest();
        Assert.Equal("GET", request.Method);
        Assert.Equal("0", request.Query("startAt"));
        Assert.Equal("100", request.Query("maxResults"));
        AssertCommonHeaders(request);
    }

    [Fact]
    public async Task HasNote_reads_further_pages_until_the_marker_or_the_end()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").WithParam("startAt", "0").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(CommentPage(0, 3, "a", "b")));
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").WithParam("startAt", "2").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(CommentPage(2, 3, "x [orleansops:entry-9]")));
        var client = h.Jira();

        Assert.True(await client.HasNoteAsync(ItsmHarness.JiraTicket, "[orleansops:entry-9]", CancellationToken.None));
        Assert.False(await client.HasNoteAsync(ItsmHarness.JiraTicket, "[orleansops:entry-10]", CancellationToken.None));

        Assert.Equal(["0", "2", "0", "2"], h.Stub.Requests.Select(r => r.Query("startAt")));
    }

    [Theory]
    [InlineData(TicketState.Acknowledged, """{"transition":{"id":"21"}}""")]
    [InlineData(TicketState.Resolved, """{"transition":{"id":"31"}}""")]
    public async Task Transition_posts_the_configured_transition_id(TicketState state, string expected)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/transitions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(204));

        await h.Jira().TransitionAsync(ItsmHarness.JiraTicket, state, "a note", CancellationToken.None);

        var request = h.Stub.SingleRequest(); // no GET of the issue's transitions: only configured ids are used
        Assert.Equal("POST", request.Method);
        Assert.Equal("/rest/api/3/issue/OPS-1/transitions", request.Path);
        AssertCommonHeaders(request);
        Assert.Equal(expected, request.Json().Compact());
    }

    [Theory]
    [InlineData(TicketState.Acknowledged)]
    [InlineData(TicketState.Resolved)]
    public async Task Transition_without_a_configured_id_sends_nothing(TicketState state)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(204));
        var settings = h.JiraSettings with { AcknowledgedTransition = null, ResolvedTransition = " " };

        await h.Jira(settings).TransitionAsync(ItsmHarness.JiraTicket, state, null, CancellationToken.None);

        Assert.Empty(h.Stub.Requests);
    }
}
