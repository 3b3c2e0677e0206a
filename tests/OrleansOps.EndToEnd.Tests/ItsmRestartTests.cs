using WireMock.ResponseBuilders;
using WireMock.Server;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>The server dies while ServiceNow is creating the ticket; after the restart the incident still has exactly one.</summary>
public sealed class ItsmRestartTests
{
    private const string SysId = "46d44a5dc0a8010e000e5f0d54b0d3a1";
    private const string Incidents = "/api/now/table/incident";

    [Fact]
    public async Task A_server_killed_mid_creation_finds_the_ticket_after_the_restart_and_creates_no_second()
    {
        using var serviceNow = WireMockServer.Start($"http://127.0.0.1:{ServerProcess.FreePort()}");
        var record = $$"""{"sys_id":"{{SysId}}","number":"INC0010001","state":"1"}""";
        // Nothing there until the creation arrives (ServiceNow creates on receipt); the creation answers slowly, long
        // enough to kill the server meanwhile.
        var created = 0;
        var creationsSeenAt = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset>();
        serviceNow.Given(Request.Create().WithPath(Incidents).UsingGet())
            .RespondWith(Response.Create().WithCallback(_ => new WireMock.ResponseMessage
            {
                StatusCode = 200,
                BodyData = new WireMock.Util.BodyData
                {
                    BodyAsString = Volatile.Read(ref created) > 0 ? $$"""{"result":[{{record}}]}""" : """{"result":[]}""",
                    DetectedBodyType = WireMock.Types.BodyType.String,
                },
            }));
        // The body matcher runs when the request arrives, before the delay: that is when ServiceNow has the ticket.
        serviceNow.Given(Request.Create().WithPath(Incidents).UsingPost().WithBody((string? _) => { Interlocked.Increment(ref created); creationsSeenAt.Add(DateTimeOffset.UtcNow); return true; }))
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
            await Api.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref created) > 0 ? "" : null),
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
            var chronicle = (await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incident}/chronicle"))["items"]!.AsArray();
            Assert.StartsWith("Found ServiceNow ticket INC0010001", chronicle.Single(e => e!["kind"]!.GetValue<string>() == "ticket.created")!["text"]!.GetValue<string>());
        }
        // The one creation that reached ServiceNow is the one the kill interrupted; the restarted server created nothing.
        Assert.NotEmpty(creationsSeenAt);
        Assert.All(creationsSeenAt, at => Assert.True(at < killedAt));
        try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
    }
}
