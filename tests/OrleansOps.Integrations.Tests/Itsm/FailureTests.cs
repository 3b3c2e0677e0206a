using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using OrleansOps.Integrations.Itsm;
using OrleansOps.Integrations.Tests.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Itsm;

/// <summary>Every call is one HTTP attempt; how it failed decides whether the caller's durable retry should try again.</summary>
public sealed class FailureTests
{
    public static TheoryData<TicketSystem> Systems => [TicketSystem.ServiceNow, TicketSystem.Jira];

    /// <summary>Each client call once, so that a failure class is checked on every kind of request.</summary>
    private static readonly Func<ITicketClient, Task>[] Calls =
    [
        client => client.FindAsync("inc-7f3a", CancellationToken.None),
        client => client.CreateAsync(ItsmHarness.Draft, CancellationToken.None),
        client => client.HasNoteAsync(ItsmHarness.Ticket(client.System), "[orleansops:entry-1]", CancellationToken.None),
        client => client.AddNoteAsync(ItsmHarness.Ticket(client.System), "note", CancellationToken.None),
        client => client.TransitionAsync(ItsmHarness.Ticket(client.System), TicketState.Resolved, null, CancellationToken.None),
    ];

    private static void AssertNoSecret(ItsmException error)
    {
        foreach (var secret in (string[])[ItsmHarness.SnPassword, ItsmHarness.JiraToken, ItsmHarness.SnUser, ItsmHarness.JiraEmail])
            Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
        Assert.Null(error.InnerException);
    }

    [Theory]
    [MemberData(nameof(Systems))]
    public async Task A_500_is_retryable_on_every_call(TicketSystem system)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(500).WithBody("oops"));
        var client = h.Client(system);

        foreach (var call in Calls)
        {
            var error = await Assert.ThrowsAsync<ItsmException>(() => call(client));
            Assert.True(error.Retryable, error.Message);
            Assert.Equal(500, error.StatusCode);
            Assert.Null(error.RetryAfter);
            Assert.Contains($"{system} ", error.Message, StringComparison.Ordinal);
            Assert.Contains("HTTP 500", error.Message, StringComparison.Ordinal);
            AssertNoSecret(error);
        }
        Assert.Equal(Calls.Length, h.Stub.Requests.Count); // one attempt each, no retry loop inside
    }

    [Theory]
    [MemberData(nameof(Systems))]
    public async Task A_429_is_retryable_after_the_servers_retry_after(TicketSystem system)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "7"));

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.Client(system).FindAsync("inc-7f3a", CancellationToken.None));

        Assert.True(error.Retryable);
        Assert.Equal(429, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.Single(h.Stub.Requests);
    }

    [Theory]
    [InlineData(TicketSystem.ServiceNow, 503)]
    [InlineData(TicketSystem.Jira, 408)]
    public async Task A_503_or_408_is_retryable(TicketSystem system, int status)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(status).WithHeader("Retry-After", "2"));

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.Client(system).AddNoteAsync(ItsmHarness.Ticket(system), "n", CancellationToken.None));

        Assert.True(error.Retryable);
        Assert.Equal(TimeSpan.FromSeconds(2), error.RetryAfter);
    }

    [Theory]
    [InlineData(TicketSystem.ServiceNow, 400)]
    [InlineData(TicketSystem.ServiceNow, 401)]
    [InlineData(TicketSystem.ServiceNow, 404)]
    [InlineData(TicketSystem.Jira, 400)]
    [InlineData(TicketSystem.Jira, 401)]
    [InlineData(TicketSystem.Jira, 404)]
    public async Task Other_4xx_are_not_retryable_on_any_call(TicketSystem system, int status)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(status).WithHeader("Retry-After", "5"));
        var client = h.Client(system);

        foreach (var call in Calls)
        {
            var error = await Assert.ThrowsAsync<ItsmException>(() => call(client));
            Assert.False(error.Retryable, error.Message);
            Assert.Null(error.RetryAfter);
            Assert.Equal(status, error.StatusCode);
            Assert.Contains($"HTTP {status}", error.Message, StringComparison.Ordinal);
            AssertNoSecret(error);
        }
    }

    [Fact]
    public async Task Error_details_are_kept_short_and_never_echo_a_credential()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().WithPath("/api/now/table/incident").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error":{"message":"Invalid value for impact","detail":""},"status":"failure"}"""));
        h.Stub.Server.Given(Request.Create().WithPath("/api/now/table/incident").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(401).WithBody($$$"""{"error":{"message":"bad password {{{ItsmHarness.SnPassword}}}"}}"""));
        h.Stub.Server.Given(Request.Create().WithPath("/rest/api/3/issue").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"errorMessages":[],"errors":{"priority":"Specify a valid priority","labels":"bad"}}"""));

        var snBadRequest = await Assert.ThrowsAsync<ItsmException>(() => h.ServiceNow().CreateAsync(ItsmHarness.Draft, CancellationToken.None));
        var snUnauthorized = await Assert.ThrowsAsync<ItsmException>(() => h.ServiceNow().FindAsync("inc-7f3a", CancellationToken.None));
        var jiraBadRequest = await Assert.ThrowsAsync<ItsmException>(() => h.Jira().CreateAsync(ItsmHarness.Draft, CancellationToken.None));

        Assert.Equal("ServiceNow POST /api/now/table/incident: HTTP 400 (Invalid value for impact)", snBadRequest.Message);
        Assert.Equal("ServiceNow GET /api/now/table/incident: HTTP 401", snUnauthorized.Message);
        Assert.Equal("Jira POST /rest/api/3/issue: HTTP 400 (fields: priority, labels)", jiraBadRequest.Message);
        AssertNoSecret(snUnauthorized);
    }

    [Theory]
    [MemberData(nameof(Systems))]
    public async Task A_call_that_outlasts_its_timeout_is_retryable(TicketSystem system)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"result":[],"issues":[]}""").WithDelay(TimeSpan.FromSeconds(3)));

        var error = await Assert.ThrowsAsync<ItsmException>(() =>
            h.Client(system, callTimeout: TimeSpan.FromMilliseconds(200)).FindAsync("inc-7f3a", CancellationToken.None));

        Assert.True(error.Retryable);
        Assert.Null(error.StatusCode);
        Assert.EndsWith("timed out after 200ms", error.Message, StringComparison.Ordinal);
        AssertNoSecret(error);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_a_timeout()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"result":[]}""").WithDelay(TimeSpan.FromSeconds(3)));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.ServiceNow().FindAsync("inc-7f3a", cancel.Token));
    }

    [Theory]
    [MemberData(nameof(Systems))]
    public async Task A_refused_connection_is_a_retryable_network_error(TicketSystem system)
    {
        using var h = new ItsmHarness();
        var closed = $"http://127.0.0.1:{FreePorts.Next()}";
        var client = system == TicketSystem.ServiceNow
            ? TicketClients.ServiceNow(h.ServiceNowSettings with { InstanceUrl = closed }, h.Configuration, h.Http)
            : TicketClients.Jira(h.JiraSettings with { SiteUrl = closed }, h.Configuration, h.Http);

        var error = await Assert.ThrowsAsync<ItsmException>(() => client.FindAsync("inc-7f3a", CancellationToken.None));

        Assert.True(error.Retryable);
        Assert.Contains("network error", error.Message, StringComparison.Ordinal);
        AssertNoSecret(error);
    }

    [Theory]
    [MemberData(nameof(Systems))]
    public async Task A_missing_credential_names_its_key_and_sends_nothing(TicketSystem system)
    {
        using var h = new ItsmHarness(new Dictionary<string, string?> { ["SN_PASSWORD"] = null, ["JIRA_TOKEN"] = " " });

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.Client(system).FindAsync("inc-7f3a", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Contains(system == TicketSystem.ServiceNow ? "'SN_PASSWORD'" : "'JIRA_TOKEN'", error.Message, StringComparison.Ordinal);
        Assert.Empty(h.Stub.Requests);
    }

    [Fact]
    public async Task A_credential_pasted_in_place_of_its_key_is_not_repeated()
    {
        using var h = new ItsmHarness();
        var settings = h.JiraSettings with { ApiTokenRef = "ATATT3x/pasted+token==" };

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.Jira(settings).FindAsync("inc-7f3a", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.DoesNotContain("ATATT3x", error.Message, StringComparison.Ordinal);
        Assert.Contains("apiTokenRef", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rotated_credential_is_used_on_the_next_call()
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"result":[]}"""));
        var client = h.ServiceNow();

        await client.FindAsync("inc-7f3a", CancellationToken.None);
        h.Configuration["SN_PASSWORD"] = "rotated";
        await client.FindAsync("inc-7f3a", CancellationToken.None);

        Assert.Equal(
            [ItsmHarness.Basic(ItsmHarness.SnUser, ItsmHarness.SnPassword), ItsmHarness.Basic(ItsmHarness.SnUser, "rotated")],
            h.Stub.Requests.Select(r => r.Header("Authorization")));
    }

    [Theory]
    [InlineData("<html>login</html>")]
    [InlineData("""{"result":{"sys_id":"x"}}""")]
    public async Task An_unreadable_success_answer_is_not_retryable(string body)
    {
        using var h = new ItsmHarness();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody(body));

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.ServiceNow().FindAsync("inc-7f3a", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.StartsWith("ServiceNow GET /api/now/table/incident: the answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_with_the_credentials()
    {
        using var h = new ItsmHarness();
        using var elsewhere = new HttpStub();
        h.Stub.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(302).WithHeader("Location", elsewhere.Url + "/steal"));

        var error = await Assert.ThrowsAsync<ItsmException>(() => h.Jira().FindAsync("inc-7f3a", CancellationToken.None));

        Assert.False(error.Retryable);
        Assert.Empty(elsewhere.Requests);
    }
}
