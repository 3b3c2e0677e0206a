using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>A server of its own, with the failure probe on, so that a 500 can be asked for.</summary>
public sealed class ProbedServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync(settings: ["--OrleansOps:FailureProbe=true"]);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(Server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
    }
}

/// <summary>Whatever goes wrong, and whatever the client accepts, the answer is application/problem+json that says what.</summary>
[Collection(SharedServer.Name)]
public sealed class ProblemDetailsTests(ProbedServerFixture fixture, ServerFixture shared) : IClassFixture<ProbedServerFixture>
{
    private ServerProcess Server => fixture.Server;

    private const string Admin = ServerProcess.AdminToken;
    private const string NoIncident = "/api/v1/incidents/inc-aaaaaaaaaaaaaaaa";

    public static TheoryData<string, string, string?, string?, string?, int, string, string> Sweep => new()
    {
        // method, path, bearer, content type, body, status, the title has, the detail has
        { "GET", "/no/such/route", null, null, null, 404, "Not Found", "GET /no/such/route" },
        { "GET", "/api/v1/acounts", Admin, null, null, 404, "Not Found", "/docs" },
        { "POST", "/i/secret-path-key-0000/api/v2/nothing", null, Api.Json, "{}", 404, "Not Found", "/i/{key}/api/v2/nothing" },
        { "DELETE", "/healthz", null, null, null, 405, "Method Not Allowed", "takes GET" },
        { "PATCH", "/api/v1/accounts/healthnet/config", Admin, Api.Json, "{}", 405, "Method Not Allowed", "PUT" },
        { "PUT", "/api/v1/accounts/healthnet/config", Admin, "text/plain", "name: x", 415, "Unsupported media type", "application/json, application/yaml" },
        { "POST", NoIncident + "/notes", Admin, "application/x-www-form-urlencoded", "text=hello", 415, "Unsupported media type", "application/json" },
        { "POST", "/api/v1/accounts/healthnet/silences", Admin, "text/xml", "<silence/>", 415, "Unsupported media type", "text/xml" },
        { "POST", "/api/v1/accounts/healthnet/silences", Admin, Api.Json, "{\"matchers\":", 400, "Malformed JSON", "not valid JSON" },
        { "PUT", "/api/v1/accounts/healthnet/config", Admin, Api.Json, "{\"name\":}", 400, "Malformed JSON", "not valid" },
        { "POST", NoIncident + "/ack", Admin, Api.Json, "[1,", 400, "Malformed JSON", "not valid JSON" },
        { "GET", "/api/v1/accounts?limit=many", Admin, null, null, 400, "The query is invalid", "limit: 'many'" },
        { "GET", "/api/v1/accounts", null, null, null, 401, "Unauthorized", "API token" },
        { "GET", "/api/v1/accounts", "not-the-admin-token", null, null, 401, "Unauthorized", "API token" },
        { "GET", "/metrics", null, null, null, 401, "Unauthorized", "bearer token" },
        { "POST", "/api/v2/alerts", "not-a-known-key-000", Api.Json, "[]", 401, "Unauthorized", "not known" },
        { "POST", "/api/v1/integrations/jira/healthnet", "wrong-secret", Api.Json, "{}", 401, "Unauthorized", "inbound secret" },
        { "GET", NoIncident, Admin, null, null, 404, "Not found", "inc-aaaaaaaaaaaaaaaa" },
        { "GET", "/api/v1/diagnostics/failure", Admin, null, null, 500, "Internal server error", "traceId" },
    };

    [Theory]
    [MemberData(nameof(Sweep))]
    public async Task Every_error_is_a_problem_that_says_what_went_wrong(
        string method, string path, string? bearer, string? contentType, string? body, int status, string title, string detail)
    {
        // As an API client asks, and as a browser does: neither changes the shape of the error.
        foreach (var accept in new[] { "application/json", "text/html,application/xhtml+xml" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType!);
            request.Headers.Accept.ParseAdd(accept);
            using var response = await Server.Anonymous.SendAsync(request);

            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            var problem = JsonNode.Parse(text)!;
            Assert.Equal(status, problem["status"]!.GetValue<int>());
            Assert.Contains(title, problem["title"]!.GetValue<string>());
            Assert.Contains(detail, problem["detail"]!.GetValue<string>());
            Assert.DoesNotContain("secret-path-key", text);
            if (status == 500)
            {
                // A defect shows its trace id, never its insides.
                Assert.False(string.IsNullOrEmpty(problem["traceId"]?.GetValue<string>()));
                Assert.DoesNotContain("InvalidOperationException", text);
                Assert.DoesNotContain("at OrleansOps", text);
            }
        }
    }

    [Fact]
    public async Task A_defect_is_logged_with_its_route_and_stack()
    {
        var (status, _) = await Api.SendAsync(Server.Admin, HttpMethod.Get, "/api/v1/diagnostics/failure");
        Assert.Equal(500, status);
        var output = await Api.EventuallyAsync(() => Task.FromResult<string?>(Server.Output.Contains("failed, answered 500") ? Server.Output : null),
            TimeSpan.FromSeconds(5), "the failure in the log");
        Assert.Contains("GET /api/v1/diagnostics/failure failed, answered 500", output);
        Assert.Contains("The failure probe failed, as asked", output);
    }

    [Fact]
    public async Task The_failure_probe_is_off_unless_configured()
    {
        var (status, problem) = await Api.SendAsync(shared.Server.Admin, HttpMethod.Get, "/api/v1/diagnostics/failure");
        Assert.Equal(404, status);
        Assert.Equal(404, problem!["status"]!.GetValue<int>());
    }
}
