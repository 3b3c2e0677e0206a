using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Every kind of bad input gets a 4xx problem that names the problem, and leaves the stored state as it was.</summary>
[Collection(SharedServer.Name)]
public sealed class BadInputTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    public static TheoryData<string, string, string?, string?, int, string> Cases => new()
    {
        // method, path, body, bearer, expected status, text the problem must contain
        { "POST", "/api/v2/alerts", """[{"labels":{"alertname":"X"}""", "demo-key-healthnet", 400, "not valid JSON" },
        { "POST", "/api/v2/alerts", """{"labels":{"alertname":"X"}}""", "demo-key-healthnet", 400, "JSON array" },
        { "POST", "/api/v2/alerts", """[{"labels":{"alertname":5}}]""", "demo-key-healthnet", 400, "[0].labels.alertname: must be a string" },
        { "POST", "/api/v2/alerts", """[{"annotations":{"a":"b"}}]""", "demo-key-healthnet", 400, "[0].labels: is required" },
        { "POST", "/api/v2/alerts", """[{"labels":{"alertname":"X"},"startsAt":"26/11/2026 10:00"}]""", "demo-key-healthnet", 400, "[0].startsAt" },
        { "POST", "/api/v2/alerts", """[{"labels":{"alertname":"Ok"}},{"labels":{"alertname":"Bad"},"endsAt":"never"}]""", "demo-key-healthnet", 400, "[1].endsAt" },
        { "POST", "/api/v2/alerts", """[{"labels":{"alertname":"X"}}]""", null, 401, "integration key is required" },
        { "POST", "/api/v2/alerts", """[{"labels":{"alertname":"X"}}]""", "not-a-real-key-at-all", 401, "not known" },
        { "POST", "/i/not-a-real-key-at-all/api/v2/alerts", """[{"labels":{"alertname":"X"}}]""", null, 401, "not known" },
        { "POST", "/api/v2/alerts", "", "demo-key-healthnet", 400, "no body" },
        { "POST", "/api/v1/integrations/alertmanager", """{"version":"2","alerts":[]}""", "demo-key-healthnet", 400, "version" },
        { "POST", "/api/v1/integrations/alertmanager", """{"version":"4","alerts":[{"status":"firing"}]}""", "demo-key-healthnet", 400, "alerts[0].labels" },
        { "POST", "/api/v1/alerts", """{"alerts":[{"labels":{"alertname":"X"},"severity":"meh"}]}""", "demo-key-healthnet", 400, "alerts[0].severity" },
        { "POST", "/api/v1/alerts", """{"alerts":"many"}""", "demo-key-healthnet", 400, "alerts" },
        { "POST", "/v2/enqueue", """{"routing_key":"demo-key-healthnet","event_action":"trigger","payload":{"summary":"s","source":"h"}}""", null, 400, "payload.severity" },
        { "POST", "/v2/enqueue", """{"routing_key":"demo-key-healthnet","event_action":"page"}""", null, 400, "event_action" },
        { "POST", "/v2/enqueue", """{"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}""", null, 401, "integration key" },
        { "POST", "/v2/enqueue", """{"routing_key":"nope-nope-nope-nope","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}""", null, 401, "not known" },
        { "GET", "/api/v1/accounts/Health_Net", null, ServerProcess.AdminToken, 400, "not an account id" },
        { "GET", "/api/v1/accounts/9lives/incidents", null, ServerProcess.AdminToken, 400, "not an account id" },
        { "GET", "/api/v1/accounts/nosuchaccount", null, ServerProcess.AdminToken, 404, "nosuchaccount" },
        { "GET", "/api/v1/accounts/healthnet/incidents?status=sleeping", null, ServerProcess.AdminToken, 400, "sleeping" },
        { "GET", "/api/v1/accounts/healthnet/incidents?limit=0", null, ServerProcess.AdminToken, 400, "limit" },
        { "GET", "/api/v1/accounts/healthnet/incidents?cursor=garbage!", null, ServerProcess.AdminToken, 400, "cursor" },
        { "GET", "/api/v1/accounts", null, null, 401, "API token" },
        { "GET", "/api/v1/accounts", null, "demo-key-healthnet", 401, "API token" },
        { "GET", "/api/v1/incidents/12345", null, ServerProcess.AdminToken, 400, "not an incident id" },
        { "GET", "/api/v1/incidents/inc-aaaaaaaaaaaaaaaa", null, ServerProcess.AdminToken, 404, "inc-aaaaaaaaaaaaaaaa" },
        { "POST", "/api/v1/incidents/inc-aaaaaaaaaaaaaaaa/ack", null, ServerProcess.AdminToken, 404, "inc-aaaaaaaaaaaaaaaa" },
        { "POST", "/api/v1/incidents/inc-aaaaaaaaaaaaaaaa/notes", """{"text":42}""", ServerProcess.AdminToken, 400, "text: must be a string" },
        { "PUT", "/api/v1/accounts/healthnet/config", """{"id":"healthnet","name":"x","timeZone":"Nowhere/Town"}""", ServerProcess.AdminToken, 400, "timeZone" },
        { "PUT", "/api/v1/accounts/healthnet/config", """{"id":"logiship","name":"x"}""", ServerProcess.AdminToken, 400, "does not match" },
        { "PUT", "/api/v1/accounts/healthnet/config", """{"name":"x","colour":"blue"}""", ServerProcess.AdminToken, 400, "colour" },
        { "PUT", "/api/v1/accounts/Bad_Id/config", """{"name":"x"}""", ServerProcess.AdminToken, 400, "not an account id" },
        { "PUT", "/api/v1/accounts/healthnet/config", """{"name":"x","services":[null]}""", ServerProcess.AdminToken, 400, "services[0]: must not be null" },
        { "PUT", "/api/v1/accounts/healthnet/config", """{"name":"x","integrationKeys":[null],"sla":{"availability":[null]}}""", ServerProcess.AdminToken, 400, "sla.availability[0]" },
        { "PUT", "/api/v1/accounts/healthnet/config", """{"name":"x","sla":{"resolution":{"sev1":"100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w"}}}""", ServerProcess.AdminToken, 400, "sla.resolution.sev1" },
        { "PUT", "/api/v1/accounts/healthnet/config", "services: [", ServerProcess.AdminToken, 400, "not valid" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_a_problem_and_changes_nothing(string method, string path, string? body, string? bearer, int expected, string mentions)
    {
        var before = await SnapshotAsync();
        var (status, problem) = await Api.SendAsync(Server.Anonymous, new HttpMethod(method), path, body, bearer);

        Assert.Equal(expected, status);
        Assert.NotNull(problem);
        Assert.Equal(expected, problem!["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()));
        Assert.Contains(mentions, problem.ToJsonString().Replace("\\u0027", "'").Replace("\\u0022", "\""), StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task An_oversized_body_is_refused_with_413_and_changes_nothing()
    {
        var before = await SnapshotAsync();
        var huge = "[" + string.Join(",", Enumerable.Range(0, 20_000).Select(i => $$$"""{"labels":{"alertname":"Big{{{i}}}","pad":"{{{new string('x', 40)}}}"}}""")) + "]";
        Assert.True(huge.Length > 1024 * 1024);
        // Expect: 100-continue, as large uploads should: the server refuses on the declared length before the body is
        // sent, instead of the client finding the connection closed halfway through its upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/alerts") { Content = new StringContent(huge, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "demo-key-healthnet");
        request.Headers.ExpectContinue = true;
        using var response = await Server.Anonymous.SendAsync(request);
        Assert.Equal(413, (int)response.StatusCode);
        var problem = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("larger than", problem!["detail"]!.GetValue<string>());
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("application/json", "{\"name\":\"Health \u00ffNet\"}")]
    [InlineData("application/yaml", "name: Health \u00ffNet\n")]
    public async Task A_configuration_that_is_not_valid_UTF8_is_refused_and_changes_nothing(string contentType, string template)
    {
        var before = await SnapshotAsync();
        // The configuration as healthnet's, with one byte that is no UTF-8 (0xFF) inside a name.
        var bytes = System.Text.Encoding.UTF8.GetBytes(template).Select(b => b == 0xC3 ? (byte)0xFF : b).Where(b => b != 0xBF).ToArray();
        Assert.False(System.Text.Unicode.Utf8.IsValid(bytes));
        foreach (var account in new[] { "healthnet", "badutf8account" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/accounts/{account}/config") { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);
            using var response = await Server.Anonymous.SendAsync(request);

            Assert.Equal(400, (int)response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Contains("UTF-8", problem["detail"]!.GetValue<string>());
        }
        Assert.Equal(before, await SnapshotAsync());
    }

    /// <summary>Everything an operator can read: accounts with their configuration and every incident with its alerts and chronicle.</summary>
    private async Task<string> SnapshotAsync()
    {
        var snapshot = new JsonObject();
        foreach (var account in await Api.GetAllAsync(Server.Admin, "/api/v1/accounts"))
        {
            var id = account!["id"]!.GetValue<string>();
            var details = new JsonArray();
            foreach (var incident in await Api.GetAllAsync(Server.Admin, $"/api/v1/accounts/{id}/incidents"))
            {
                var incidentId = incident!["id"]!.GetValue<string>();
                details.Add(await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}"));
                details.Add(await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle"));
            }
            snapshot[id] = new JsonObject
            {
                ["account"] = account.DeepClone(),
                ["config"] = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config"),
                ["incidents"] = details,
            };
        }
        return snapshot.ToJsonString();
    }
}
