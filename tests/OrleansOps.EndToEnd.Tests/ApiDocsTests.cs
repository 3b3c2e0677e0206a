using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>The OpenAPI document and its browsable reference, as a person with only the server (and no internet) sees them.</summary>
[Collection(SharedServer.Name)]
public sealed partial class ApiDocsTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    /// <summary>Every route of the API, as the document must list it.</summary>
    private static readonly string[] Operations =
    [
        "GET /healthz", "GET /readyz",
        "POST /api/v2/alerts", "POST /api/v1/integrations/alertmanager", "POST /api/v1/alerts", "POST /v2/enqueue",
        "POST /i/{key}/api/v2/alerts", "POST /i/{key}/api/v1/integrations/alertmanager", "POST /i/{key}/api/v1/alerts", "POST /i/{key}/v2/enqueue",
        "GET /api/v1/accounts", "GET /api/v1/accounts/{accountId}", "GET /api/v1/accounts/{accountId}/config", "PUT /api/v1/accounts/{accountId}/config",
        "GET /api/v1/accounts/{accountId}/incidents", "GET /api/v1/accounts/{accountId}/schedules/{scheduleId}/oncall",
        "GET /api/v1/incidents/{incidentId}", "GET /api/v1/incidents/{incidentId}/alerts", "GET /api/v1/incidents/{incidentId}/chronicle", "GET /api/v1/incidents/{incidentId}/chronicle/verify", "GET /api/v1/incidents/{incidentId}/correlation",
        "POST /api/v1/incidents/{incidentId}/ack", "POST /api/v1/incidents/{incidentId}/resolve", "POST /api/v1/incidents/{incidentId}/reopen",
        "POST /api/v1/incidents/{incidentId}/notes", "POST /api/v1/incidents/{incidentId}/escalate", "POST /api/v1/incidents/{incidentId}/reassign",
        "POST /api/v1/incidents/{incidentId}/sla-correction", "POST /api/v1/incidents/{incidentId}/merge", "POST /api/v1/incidents/{incidentId}/split",
        "POST /api/v1/accounts/{accountId}/incidents/import", "GET /api/v1/accounts/{accountId}/sla", "GET /api/v1/accounts/{accountId}/sla/events",
        "GET /api/v1/accounts/{accountId}/kpis", "GET /api/v1/accounts/{accountId}/reports/sla", "GET /api/v1/fleet/sla", "GET /api/v1/fleet/incidents", "GET /api/v1/fleet/reports/sla",
        "POST /api/v1/integrations/jira/{accountId}", "POST /api/v1/integrations/servicenow/{accountId}",
        "GET /api/v1/cluster/silos", "GET /api/v1/cluster/grains",
        "GET /api/v1/accounts/{accountId}/sla/burndown", "GET /api/v1/live",
        "POST /api/v1/accounts/{accountId}/silences", "GET /api/v1/accounts/{accountId}/silences", "DELETE /api/v1/accounts/{accountId}/silences/{silenceId}",
        "GET /api/v1/accounts/{accountId}/suppressed", "GET /api/v1/accounts/{accountId}/correlation", "GET /api/v1/correlation",
        "GET /api/v1/me", "POST /api/v1/tokens", "GET /api/v1/tokens", "GET /api/v1/tokens/{tokenId}", "POST /api/v1/tokens/{tokenId}/rotate",
        "DELETE /api/v1/tokens/{tokenId}",
        "POST /api/v1/heartbeats/{name}", "GET /api/v1/accounts/{accountId}/heartbeats",
        "POST /api/v1/integrations/slack/interactions", "POST /api/v1/integrations/twilio/sms", "POST /api/v1/integrations/twilio/voice",
    ];

    [Fact]
    public async Task The_reference_page_loads_without_a_token_and_from_this_server_alone()
    {
        // /docs answers the page itself or sends the browser to it (/docs/); HttpClient follows.
        using var page = await Server.Anonymous.GetAsync("/docs");
        Assert.Equal(200, (int)page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("OrleansOps API", html);

        // Offline: the page names nothing outside this server, and each script it loads is served here.
        Assert.DoesNotMatch(AbsoluteUrl(), html);
        Assert.Contains("\"withDefaultFonts\":false", html); // the fonts would come from the vendor's CDN
        Assert.Contains("\"telemetry\":false", html);
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups["src"].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            using var asset = await Server.Anonymous.GetAsync(new Uri(page.RequestMessage!.RequestUri!, script));
            Assert.True(asset.IsSuccessStatusCode, $"{script} answered {(int)asset.StatusCode}");
            Assert.True((await asset.Content.ReadAsByteArrayAsync()).Length > 100, $"{script} is empty");
        }
        // The page reads the document from where the server publishes it.
        Assert.Contains("openapi/v1.json", html);
    }

    [Fact]
    public async Task The_document_lists_every_endpoint_with_a_summary_a_tag_its_auth_and_problem_answers()
    {
        var document = await Api.GetOkAsync(Server.Anonymous, "/openapi/v1.json");
        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (Name: $"{op.Key.ToUpperInvariant()} {path.Key}", Operation: op.Value!)))
            .ToDictionary(o => o.Name, o => o.Operation);
        Assert.Equal(Operations.Order(StringComparer.Ordinal), operations.Keys.Order(StringComparer.Ordinal));

        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", schemes["apiToken"]!["scheme"]!.GetValue<string>());
        Assert.Equal("http", schemes["apiToken"]!["type"]!.GetValue<string>());
        Assert.Contains("integrationKey", schemes.Select(s => s.Key));

        foreach (var (name, operation) in operations)
        {
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{name} has no summary");
            Assert.NotEmpty(operation["tags"]!.AsArray());
            var responses = operation["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('2'));
            // Every 4xx the operation documents is a problem.
            foreach (var (status, response) in responses.Where(r => r.Key.StartsWith('4')))
                Assert.True(response!["content"]?["application/problem+json"] is not null, $"{name} documents {status} without application/problem+json");

            var tag = operation["tags"]![0]!.GetValue<string>();
            string[] expected = tag switch
            {
                "Health" => [],
                "Ingest" => name.Contains(" /i/{key}/") ? [] : ["integrationKey"], // the path carries the key
                "Heartbeats" when name.StartsWith("POST ", StringComparison.Ordinal) => ["integrationKey"], // a job pings with the account's key
                "ITSM" => ["inboundSecret"],
                "Slack" or "Twilio" => [], // the sender's own signature, of the body, proves the request
                _ => ["apiToken"],
            };
            Assert.Equal(expected, operation["security"]?.AsArray().SelectMany(s => s!.AsObject().Select(r => r.Key)).ToArray() ?? []);
            if (tag != "Health") Assert.True(responses.ContainsKey("401"), $"{name} does not document its 401");
        }
        Assert.True(operations["PUT /api/v1/accounts/{accountId}/config"]["responses"]!.AsObject().ContainsKey("412"));
        Assert.True(operations["PUT /api/v1/accounts/{accountId}/config"]["responses"]!.AsObject().ContainsKey("415"));
        Assert.True(operations["GET /api/v1/accounts/{accountId}/incidents"]["responses"]!.AsObject().ContainsKey("400"));
        Assert.True(operations["POST /api/v1/incidents/{incidentId}/ack"]["responses"]!.AsObject().ContainsKey("409"));
        Assert.Equal(["application/json", "application/yaml"],
            operations["PUT /api/v1/accounts/{accountId}/config"]["requestBody"]!["content"]!.AsObject().Select(c => c.Key));
        Assert.NotNull(operations["POST /api/v2/alerts"]["requestBody"]!["content"]!["application/json"]);
    }

    [Fact]
    public async Task The_http_example_files_call_every_endpoint()
    {
        var folder = Path.Combine(ServerProcess.RepositoryRoot, "src", "OrleansOps.Server");
        var requests = Directory.GetFiles(folder, "*.http", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(File.ReadLines)
            .Select(line => HttpRequestLine().Match(line))
            .Where(m => m.Success)
            .Select(m => (Method: m.Groups["method"].Value, Path: m.Groups["path"].Value.Split('?')[0]))
            .ToList();
        var document = await Api.GetOkAsync(Server.Anonymous, "/openapi/v1.json");
        foreach (var operation in Operations)
        {
            var (method, template) = (operation.Split(' ')[0], operation.Split(' ')[1]);
            // A {parameter} of the route is a {{variable}} or a value in the file.
            var route = new Regex("^" + Regex.Replace(Regex.Escape(template).Replace(@"\{", "{"), "{[^}]+}", "[^/]+") + "/?$");
            Assert.True(requests.Any(r => r.Method == method && route.IsMatch(r.Path)), $"no .http file calls {operation}");
        }
        Assert.Equal(Operations.Length, document["paths"]!.AsObject().Sum(p => p.Value!.AsObject().Count));
    }

    [GeneratedRegex(@"^(?<method>GET|POST|PUT|PATCH|DELETE) \{\{host\}\}(?<path>\S*)")]
    private static partial Regex HttpRequestLine();

    [GeneratedRegex("(?:src|href)\\s*=\\s*[\"']?(?:https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex("<script[^>]*\\ssrc=\"(?<src>[^\"]+)\"")]
    private static partial Regex ScriptSource();
}
