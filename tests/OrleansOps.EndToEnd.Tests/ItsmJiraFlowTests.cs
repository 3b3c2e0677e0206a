using System.Text.Json.Nodes;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>An incident's life written to a Jira stub by the real server: the issue, a comment per step, the transitions.</summary>
public sealed class ItsmJiraFlowTests
{
    [Fact]
    public async Task The_issue_is_created_then_each_step_commented_and_transitioned_in_order()
    {
        using var jira = WireMockServer.Start($"http://127.0.0.1:{FreePorts.Next()}");
        jira.Given(Request.Create().WithPath("/rest/api/3/search/jql").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"issues":[]}"""));
        jira.Given(Request.Create().WithPath("/rest/api/3/issue").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"10001","key":"OPS-1","self":"x"}"""));
        jira.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"1"}"""));
        jira.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/transitions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(204));

        await using var server = await ServerProcess.StartAsync(settings: ["--E2E_JIRA_EMAIL=bot@acme.example", "--E2E_JIRA_TOKEN=t0ken", "--E2E_ITSM_SECRET=s"]);
        var account = "acct-jira-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
            id: {{account}}
            name: Jira end to end
            services: [{id: api}]
            integrationKeys: [{name: e2e, key: {{key}}, defaultService: api}]
            itsm:
              jira: {siteUrl: "{{jira.Url}}", emailRef: E2E_JIRA_EMAIL, apiTokenRef: E2E_JIRA_TOKEN, projectKey: OPS, acknowledgedTransition: "21", resolvedTransition: "31"}
              inboundSecretRef: E2E_ITSM_SECRET
            """);
        Assert.True(configured == 201, problem?.ToJsonString());
        var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Down","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, status);
        var incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        await Api.EventuallyAsync(async () => (await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{incident}"))["tickets"]!.AsArray()
            .FirstOrDefault(t => t!["key"]?.GetValue<string>() == "OPS-1"), TimeSpan.FromSeconds(20), "the Jira issue");

        await Api.PostAsync(server.Admin, $"/api/v1/incidents/{incident}/ack", """{"actor":"ana"}""");
        await Api.PostAsync(server.Admin, $"/api/v1/incidents/{incident}/resolve", """{"actor":"ana","note":"rolled back"}""");
        await Api.EventuallyAsync(() => Task.FromResult(jira.LogEntries.Count(e => e.RequestMessage!.Path.EndsWith("/transitions")) == 2 ? "" : null),
            TimeSpan.FromSeconds(20), "both transitions");

        var calls = jira.LogEntries.OrderBy(e => e.RequestMessage!.DateTime).Select(e => e.RequestMessage!).ToList();
        Assert.Equal(
            ["GET /rest/api/3/search/jql", "POST /rest/api/3/issue", "POST /rest/api/3/issue/OPS-1/comment", "POST /rest/api/3/issue/OPS-1/transitions",
             "POST /rest/api/3/issue/OPS-1/comment", "POST /rest/api/3/issue/OPS-1/transitions"],
            calls.Select(c => $"{c.Method} {c.Path}"));
        var created = JsonNode.Parse(calls[1].Body!)!["fields"]!;
        Assert.Equal($"orleansops-{incident}", created["labels"]![0]!.GetValue<string>());
        Assert.Equal("OPS", created["project"]!["key"]!.GetValue<string>());
        Assert.Equal("Highest", created["priority"]!["name"]!.GetValue<string>());
        Assert.Equal(["21", "31"], calls.Where(c => c.Path.EndsWith("/transitions")).Select(c => JsonNode.Parse(c.Body!)!["transition"]!["id"]!.GetValue<string>()));
        Assert.Contains($"[OrleansOps {incident} #", calls[2].Body);
        Assert.Contains("Resolved by ana: rolled back", calls[4].Body);
        Assert.DoesNotContain("t0ken", server.Output);
    }
}
