using System.Text;
using OrleansOps.Testing;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// Every kind of secret the server holds, exercised through success, failure and refusal with verbose logging, and then
/// looked for in everything it logged: none may appear, in clear or as the Basic credentials made of it.
/// (Every other end-to-end test's server is checked for the secrets it was given, too: see <see cref="ServerProcess.TreatAsSecret"/>.)
/// </summary>
public sealed class SecretsInLogsTests
{
    private static string Secret(string name) => $"{name}-{Guid.NewGuid():N}";

    [Fact]
    public async Task No_secret_reaches_the_log_through_deliveries_ticket_writes_refusals_and_errors()
    {
        var (slackPath, teamsSig, webhookSecret, twilioToken, smtpPassword) = (Secret("slack"), Secret("teams"), Secret("hook"), Secret("twilio"), Secret("smtp"));
        var (serviceNowPassword, jiraToken, inboundSecret, metricsToken, integrationKey) = (Secret("sn"), Secret("jira"), Secret("inbound"), Secret("metrics"), Secret("key"));
        const string twilioSid = "ACe2e0000000000000000000000000000", serviceNowUser = "svc.orleansops", jiraEmail = "bot@acme.example";

        // Every receiver fails, and says back what it was sent: a server that logs error bodies or URLs would leak.
        using var peers = WireMockServer.Start($"http://127.0.0.1:{FreePorts.Next()}");
        peers.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithCallback(request => new WireMock.ResponseMessage
        {
            StatusCode = 500,
            BodyData = new WireMock.Util.BodyData
            {
                BodyAsString = $"failed for {request.Url} with {(request.Headers is { } headers && headers.TryGetValue("Authorization", out var authorization) ? authorization.FirstOrDefault() : "")} and {request.Body}",
                DetectedBodyType = WireMock.Types.BodyType.String,
            },
        }));
        // The SMTP server wants another password: the login fails, and the failure must not quote the one offered.
        await using var smtp = await SmtpTestServer.StartAsync(credentials: ("orleansops", "not-" + smtpPassword));

        var slackUrl = $"{peers.Url}/services/T000/B000/{slackPath}";
        var teamsUrl = $"{peers.Url}/workflows/run?sig={teamsSig}";
        await using var server = await ServerProcess.StartAsync(settings:
        [
            "--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:Orleans=Information", "--Logging:LogLevel:System.Net.Http=Trace",
            "--Logging:LogLevel:Microsoft.AspNetCore=Debug", "--Logging:LogLevel:OrleansOps=Trace",
            $"--E2E_SLACK_URL={slackUrl}", $"--E2E_TEAMS_URL={teamsUrl}", $"--E2E_WEBHOOK_SECRET={webhookSecret}",
            $"--E2E_SN_USER={serviceNowUser}", $"--E2E_SN_PASSWORD={serviceNowPassword}", $"--E2E_JIRA_EMAIL={jiraEmail}", $"--E2E_JIRA_TOKEN={jiraToken}",
            $"--E2E_ITSM_SECRET={inboundSecret}", $"--OrleansOps:Metrics:Token={metricsToken}",
            "--OrleansOps:Notifications:Smtp:Host=127.0.0.1", $"--OrleansOps:Notifications:Smtp:Port={smtp.Port}",
            "--OrleansOps:Notifications:Smtp:From=orleansops@e2e.example", "--OrleansOps:Notifications:Smtp:StartTls=None",
            "--OrleansOps:Notifications:Smtp:Username=orleansops", $"--OrleansOps:Notifications:Smtp:Password={smtpPassword}",
            $"--OrleansOps:Notifications:Twilio:AccountSid={twilioSid}", $"--OrleansOps:Notifications:Twilio:AuthToken={twilioToken}",
            "--OrleansOps:Notifications:Twilio:From=+15550001111", $"--OrleansOps:Notifications:Twilio:BaseUrl={peers.Url}/2010-04-01",
            "--OrleansOps:Notifications:MaxAttempts=2", "--OrleansOps:Notifications:BaseDelay=00:00:00.050", "--OrleansOps:Notifications:UseJitter=false",
        ]);
        string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        server.TreatAsSecret(slackPath, teamsSig, integrationKey, Basic(twilioSid, twilioToken), Basic(serviceNowUser, serviceNowPassword), Basic(jiraEmail, jiraToken));

        var account = "acct-secrets-" + Guid.NewGuid().ToString("N")[..8];
        var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
            id: {{account}}
            name: Secrets
            services: [{id: api, escalationPolicy: everyone}]
            users:
              - id: ana
                contacts:
                  - {id: mobile, kind: sms, address: "+15551230001"}
                  - {id: phone, kind: voice, address: "+15551230002"}
                  - {id: work, kind: email, address: ana@e2e.example}
                rules: [{contact: mobile}, {contact: phone}, {contact: work}]
            channels:
              - {id: slack, kind: slack, urlRef: E2E_SLACK_URL}
              - {id: teams, kind: teams, urlRef: E2E_TEAMS_URL}
              - {id: hook, kind: webhook, url: "{{peers.Url}}/hook", secretRef: E2E_WEBHOOK_SECRET}
            escalationPolicies:
              - id: everyone
                levels: [{delay: 0m, targets: ["user:ana", "channel:slack", "channel:teams", "channel:hook"]}]
            integrationKeys: [{name: e2e, key: {{integrationKey}}, defaultService: api}]
            itsm:
              serviceNow: {instanceUrl: "{{peers.Url}}/", usernameRef: E2E_SN_USER, passwordRef: E2E_SN_PASSWORD}
              jira: {siteUrl: "{{peers.Url}}", emailRef: E2E_JIRA_EMAIL, apiTokenRef: E2E_JIRA_TOKEN, projectKey: OPS}
              inboundSecretRef: E2E_ITSM_SECRET
            """);
        Assert.True(configured == 201, problem?.ToJsonString());

        var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Down","severity":"critical"}}]""", bearer: integrationKey);
        Assert.Equal(200, status);
        var incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        // Six pages (SMS, call, email, Slack, Teams, webhook) all fail; both ticket systems fail.
        await Api.EventuallyAsync(async () =>
        {
            var view = await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{incident}");
            var failed = view["notifications"]!.AsArray().Count(n => n!["delivered"]!.GetValue<bool>() == false);
            var tickets = view["tickets"]!.AsArray().Count(t => t!["failures"]!.GetValue<int>() > 0);
            return failed >= 6 && tickets == 2 ? view : null;
        }, TimeSpan.FromSeconds(60), "every page and both tickets failed");

        // Refusals: near misses of each token, and inbound webhooks with a wrong secret.
        foreach (var (path, bearer) in new[]
        {
            ("/api/v1/accounts", ServerProcess.AdminToken + "x"), ("/metrics", metricsToken[..^1]),
        })
            Assert.Equal(401, (await Api.SendAsync(server.Anonymous, HttpMethod.Get, path, bearer: bearer)).Status);
        Assert.Equal(401, (await Api.PostAsync(server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"X"}}]""", bearer: integrationKey + "x")).Status);
        Assert.Equal(401, (await Api.PostAsync(server.Anonymous, $"/api/v1/integrations/servicenow/{account}", """{"correlation_id":"x"}""", bearer: inboundSecret + "x")).Status);
        Assert.Equal(200, (await Api.SendAsync(server.Anonymous, HttpMethod.Get, "/metrics", bearer: metricsToken)).Status);

        await server.KillAsync();
        Assert.True(server.Output.Length > 10_000, "verbose logging was on"); // so the scan had something to read
        Assert.Equal(0, server.LeakedSecrets());
    }
}
