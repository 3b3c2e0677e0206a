using WireMock.ResponseBuilders;
using WireMock.Server;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>The server dies while the ticket system is creating the ticket; after the restart the incident still has exactly one.</summary>
public sealed class ItsmRestartTests
{
    private const string SysId = "46d44a5dc0a8010e000e5f0d54b0d3a1";
    private const string Incidents = "/api/now/table/incident";

    [Fact]
    public async Task A_server_killed_mid_creation_finds_the_ticket_after_the_restart_and_creates_no_second()
    {
        using var serviceNow = WireMockServer.Start($"http://127.0.0.1:{FreePorts.Next()}");
        var record = $$"""{"sys_id":"{{SysId}}","number":"INC0010001","state":"1"}""";
        // Nothing there until the creation arrives (ServiceNow creates on receipt); the creation answers slowly, long
        // enough to kill the server meanwhile.
        var creationsSeenAt = new System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset>();
        serviceNow.Given(Request.Create().WithPath(Incidents).UsingGet())
            .RespondWith(Response.Create().WithCallback(_ => new WireMock.ResponseMessage
            {
                StatusCode = 200,
                BodyData = new WireMock.Util.BodyData
                {
                    BodyAsString = !creationsSeenAt.IsEmpty ? $$"""{"result":[{{record}}]}""" : """{"result":[]}""",
                    DetectedBodyType = WireMock.Types.BodyType.String,
                },
            }));
        // The body matcher runs when the request arrives, before the delay: that is when ServiceNow has the ticket. It runs
        // for every request the stub gets, so only a creation's body counts.
        serviceNow.Given(Request.Create().WithPath(Incidents).UsingPost().WithBody((string? body) => { if (IsCreation(body, "short_description")) creationsSeenAt.Enqueue(DateTimeOffset.UtcNow); return true; }))
            .RespondWith(Response.Create().WithStatusCode(201).WithBody($$"""{"result":{{record}}}""").WithDelay(TimeSpan.FromSeconds(6)));
        serviceNow.Given(Request.Create().WithPath($"{Incidents}/{SysId}").UsingPatch())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"result":{{record}}}"""));

        string[] settings = ["--E2E_SN_USER=svc.orleansops", "--E2E_SN_PASSWORD=pw", "--E2E_ITSM_SECRET=s",
            "--OrleansOps:SqliteDurability=Normal"];
        var dataPath = ServerProcess.NewTempFolder("orleansops-itsm-restart");
        var account = "acct-itsmrst-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        string incident;
        var killedAt = DateTimeOffset.MaxValue;
        int httpPort, siloPort, gatewayPort;
        await using (var server = await ServerProcess.StartAsync(dataPath: dataPath, settings: settings))
        {
            (httpPort, siloPort, gatewayPort) = (server.HttpPort, server.SiloPort, server.GatewayPort);
            var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
                id: {{account}}
                name: ITSM restart
                services: [{id: api}]
                integrationKeys: [{name: e2e, key: {{key}}, defaultService: api}]
                itsm:
                  serviceNow: {instanceUrl: "{{serviceNow.Url}}/", usernameRef: E2E_SN_USER, passwordRef: E2E_SN_PASSWORD}
                  inboundSecretRef: E2E_ITSM_SECRET
                """);
            Assert.True(configured == 201, problem?.ToJsonString());
            var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Down","severity":"critical"}}]""", bearer: key);
            Assert.Equal(200, status);
            incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
            await Api.EventuallyAsync(() => Task.FromResult(creationsSeenAt.IsEmpty ? null : ""),
                TimeSpan.FromSeconds(20), "the creation reaching ServiceNow");
            await server.KillAsync(); // while ServiceNow is still answering
            killedAt = DateTimeOffset.UtcNow;
        }

        await using (var restarted = await ServerProcess.StartAsync(dataPath: dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort, settings: settings))
        {
            // Nothing touches the incident: its reminder wakes it, and the sync looks before it creates.
            var tickets = await Api.EventuallyAsync(async () =>
            {
                var view = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incident}");
                return view["tickets"]!.AsArray().FirstOrDefault(t => t!["key"] is not null);
            }, TimeSpan.FromSeconds(150), "the ticket found after the restart");
            Assert.Equal("INC0010001", tickets!["key"]!.GetValue<string>());
            var chronicle = await Api.GetAllAsync(restarted.Admin, $"/api/v1/incidents/{incident}/chronicle");
            Assert.StartsWith("Found ServiceNow ticket INC0010001", chronicle.Single(e => e!["kind"]!.GetValue<string>() == "ticket.created")!["text"]!.GetValue<string>());
        }
        // The one creation that reached ServiceNow is the one the kill interrupted; the restarted server created nothing.
        AssertOneCreationBefore(killedAt, creationsSeenAt);
        try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
    }

    [Fact]
    public async Task A_server_killed_mid_creation_waits_for_Jira_search_to_list_the_issue_and_creates_no_second()
    {
        // Jira's search lists a new issue only once it is indexed: here 15 s after the creation arrives. A restarted
        // server that looked at once would find nothing and create a second issue.
        var indexLag = TimeSpan.FromSeconds(15);
        using var jira = WireMockServer.Start($"http://127.0.0.1:{FreePorts.Next()}");
        var creationsSeenAt = new System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset>();
        jira.Given(Request.Create().WithPath("/rest/api/3/search/jql").UsingGet())
            .RespondWith(Response.Create().WithCallback(_ => new WireMock.ResponseMessage
            {
                StatusCode = 200,
                BodyData = new WireMock.Util.BodyData
                {
                    BodyAsString = creationsSeenAt.TryPeek(out var first) && DateTimeOffset.UtcNow - first >= indexLag
                        ? """{"issues":[{"id":"10001","key":"OPS-1"}]}""" : """{"issues":[]}""",
                    DetectedBodyType = WireMock.Types.BodyType.String,
                },
            }));
        jira.Given(Request.Create().WithPath("/rest/api/3/issue").UsingPost().WithBody((string? body) => { if (IsCreation(body, "labels")) creationsSeenAt.Enqueue(DateTimeOffset.UtcNow); return true; }))
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"10001","key":"OPS-1","self":"x"}""").WithDelay(TimeSpan.FromSeconds(6)));
        jira.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"startAt":0,"maxResults":50,"total":0,"comments":[]}"""));
        jira.Given(Request.Create().WithPath("/rest/api/3/issue/OPS-1/comment").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"id":"1"}"""));

        string[] settings = ["--E2E_JIRA_EMAIL=bot@acme.example", "--E2E_JIRA_TOKEN=" + Guid.NewGuid().ToString("N"), "--E2E_ITSM_SECRET=s",
            "--OrleansOps:SqliteDurability=Normal", "--OrleansOps:Itsm:JiraSearchLag=00:00:20"];
        var dataPath = ServerProcess.NewTempFolder("orleansops-itsm-restart");
        var account = "acct-jirarst-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        string incident;
        DateTimeOffset killedAt;
        int httpPort, siloPort, gatewayPort;
        await using (var server = await ServerProcess.StartAsync(dataPath: dataPath, settings: settings))
        {
            (httpPort, siloPort, gatewayPort) = (server.HttpPort, server.SiloPort, server.GatewayPort);
            var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
                id: {{account}}
                name: Jira restart
                services: [{id: api}]
                integrationKeys: [{name: e2e, key: {{key}}, defaultService: api}]
                itsm:
                  jira: {siteUrl: "{{jira.Url}}", emailRef: E2E_JIRA_EMAIL, apiTokenRef: E2E_JIRA_TOKEN, projectKey: OPS}
                  inboundSecretRef: E2E_ITSM_SECRET
                """);
            Assert.True(configured == 201, problem?.ToJsonString());
            var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Down","severity":"critical"}}]""", bearer: key);
            Assert.Equal(200, status);
            incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
            await Api.EventuallyAsync(() => Task.FromResult(creationsSeenAt.IsEmpty ? null : ""), TimeSpan.FromSeconds(20), "the creation reaching Jira");
            await server.KillAsync(); // while Jira is still answering
            killedAt = DateTimeOffset.UtcNow;
        }

        await using (var restarted = await ServerProcess.StartAsync(dataPath: dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort, settings: settings))
        {
            // A note wakes the incident at once, well inside the index lag: the sync must wait before it looks.
            var (noted, _) = await Api.PostAsync(restarted.Admin, $"/api/v1/incidents/{incident}/notes", """{"actor":"ana","text":"still down"}""");
            Assert.Equal(200, noted);
            var ticket = await Api.EventuallyAsync(async () =>
            {
                var view = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incident}");
                return view["tickets"]!.AsArray().FirstOrDefault(t => t!["key"] is not null);
            }, TimeSpan.FromSeconds(90), "the issue found after the restart");
            Assert.Equal("OPS-1", ticket!["key"]!.GetValue<string>());
            var chronicle = await Api.GetAllAsync(restarted.Admin, $"/api/v1/incidents/{incident}/chronicle");
            Assert.StartsWith("Found Jira ticket OPS-1", chronicle.Single(e => e!["kind"]!.GetValue<string>() == "ticket.created")!["text"]!.GetValue<string>());
        }
        AssertOneCreationBefore(killedAt, creationsSeenAt);
        Assert.Contains(jira.LogEntries, e => e.RequestMessage!.Path == "/rest/api/3/issue/OPS-1/comment" && e.RequestMessage.Body!.Contains("still down"));
        try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
    }

    private static bool IsCreation(string? body, string field) => body?.Contains($"\"{field}\"", StringComparison.Ordinal) == true;

    private static void AssertOneCreationBefore(DateTimeOffset killedAt, IReadOnlyCollection<DateTimeOffset> creationsSeenAt)
    {
        Assert.True(creationsSeenAt.Count == 1, $"{creationsSeenAt.Count} creations: " + string.Join(", ", creationsSeenAt.Select(at => at.ToString("O"))));
        Assert.True(creationsSeenAt.Single() < killedAt);
    }
}
