using System.Text;
using System.Text.Json.Nodes;
using OrleansOps.Integrations.Notifications;
using OrleansOps.Testing;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// An incident pages people through the real server: a real SMTP server, a signed webhook receiver and a stand-in for
/// Twilio's REST API, all on loopback, with the server's own retries.
/// </summary>
public sealed class EscalationFlowTests : IAsyncLifetime
{
    private static readonly string WebhookSecret = "e2e-webhook-" + Guid.NewGuid().ToString("N");
    private const string TwilioSid = "ACe2e0000000000000000000000000000";
    private static readonly string TwilioToken = "e2e-twilio-" + Guid.NewGuid().ToString("N");

    private SmtpTestServer _smtp = null!;
    private LoopbackReceiver _receiver = null!;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpTestServer.StartAsync();
        _receiver = LoopbackReceiver.Start();
        _server = await ServerProcess.StartAsync(settings:
        [
            $"--E2E_WEBHOOK_SECRET={WebhookSecret}",
            "--OrleansOps:Notifications:Smtp:Host=127.0.0.1",
            $"--OrleansOps:Notifications:Smtp:Port={_smtp.Port}",
            "--OrleansOps:Notifications:Smtp:From=orleansops@e2e.example",
            "--OrleansOps:Notifications:Smtp:StartTls=None",
            $"--OrleansOps:Notifications:Twilio:AccountSid={TwilioSid}",
            $"--OrleansOps:Notifications:Twilio:AuthToken={TwilioToken}",
            "--OrleansOps:Notifications:Twilio:From=+15550001111",
            $"--OrleansOps:Notifications:Twilio:BaseUrl={_receiver.Url}2010-04-01",
            "--OrleansOps:Notifications:MaxAttempts=3",
            "--OrleansOps:Notifications:BaseDelay=00:00:00.100",
            "--OrleansOps:Notifications:UseJitter=false",
            "--OrleansOps:Notifications:PublicUrl=https://ops.e2e.example/",
        ]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
        _receiver.Dispose();
        await _smtp.DisposeAsync();
    }

    private string Config(string accountId, string key) => $$"""
        id: {{accountId}}
        name: Escalation end to end
        timeZone: America/New_York
        services:
          - {id: api, escalationPolicy: standard}
        users:
          - id: ana
            contacts:
              - {id: mobile, kind: sms, address: "+15551230001"}
              - {id: work, kind: email, address: ana@e2e.example}
            rules:
              - {severities: [sev1], contact: mobile}
              - {contact: work}
          - id: ben
            contacts:
              - {id: work, kind: email, address: ben@e2e.example}
              - {id: phone, kind: voice, address: "+15551230002"}
        schedules:
          - id: primary
            layers:
              - {start: "2026-03-01T09:00", turn: 1d, users: [ana, ben]}
        channels:
          - {id: hook, kind: webhook, url: "{{_receiver.Url}}hook", secretRef: E2E_WEBHOOK_SECRET}
        escalationPolicies:
          - id: standard
            levels:
              - {delay: 0m, targets: ["user:ana", "channel:hook"]}
              - {delay: 1h, targets: ["user:ben"]}
        integrationKeys:
          - {name: e2e, key: {{key}}, defaultService: api}
        """;

    [Fact]
    public async Task An_incident_pages_its_first_level_through_every_channel_then_by_hand_and_an_undeliverable_call_is_on_the_incident()
    {
        var account = "acct-esc-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var (configured, problems) = await Api.PutYamlConfigAsync(_server.Admin, account, Config(account, key));
        Assert.True(configured == 201, problems?.ToJsonString());

        var (status, receipt) = await Api.PostAsync(_server.Anonymous, "/api/v2/alerts",
            """[{"labels":{"alertname":"ApiDown","severity":"critical"},"annotations":{"summary":"<script>x</script>"}}]""", bearer: key);
        Assert.Equal(200, status);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();

        // Level 1: ana by SMS (sev1 rule) and email (every severity), and the signed webhook.
        var hook = await Api.EventuallyAsync(() => Task.FromResult(_receiver.Requests.FirstOrDefault(r => r.Path == "/hook")), TimeSpan.FromSeconds(20), "the webhook");
        Assert.True(WebhookSignature.Verify(WebhookSecret, hook.Headers[WebhookSignature.TimestampHeader], hook.Body, hook.Headers[WebhookSignature.SignatureHeader], DateTimeOffset.UtcNow));
        Assert.False(WebhookSignature.Verify(WebhookSecret, hook.Headers[WebhookSignature.TimestampHeader], hook.Body.Replace("sev1", "sev4"), hook.Headers[WebhookSignature.SignatureHeader], DateTimeOffset.UtcNow));
        var payload = JsonNode.Parse(hook.Body)!;
        Assert.Equal(incidentId, payload["incidentId"]!.GetValue<string>());
        // The link opens the incident's page on the dashboard, not the API's JSON.
        Assert.Equal($"https://ops.e2e.example/dashboard/incidents/{incidentId}", payload["incidentUrl"]!.GetValue<string>());
        Assert.DoesNotContain("SEV", payload["title"]!.GetValue<string>());
        Assert.Equal($"{incidentId}/g0.r0.l0/channel:hook", hook.Headers[WebhookSignature.IdempotencyKeyHeader]);

        var sms = await Api.EventuallyAsync(() => Task.FromResult(_receiver.Requests.FirstOrDefault(r => r.Path.EndsWith("/Messages.json"))), TimeSpan.FromSeconds(20), "the SMS");
        Assert.Equal($"/2010-04-01/Accounts/{TwilioSid}/Messages.json", sms.Path);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes($"{TwilioSid}:{TwilioToken}")), sms.Headers["Authorization"]);
        var form = System.Web.HttpUtility.ParseQueryString(sms.Body);
        Assert.Equal("+15551230001", form["To"]);
        Assert.Equal("+15550001111", form["From"]);
        Assert.Contains(incidentId, form["Body"]);
        Assert.Contains($"https://ops.e2e.example/dashboard/incidents/{incidentId}", form["Body"]);

        var email = await Api.EventuallyAsync(() => Task.FromResult(_smtp.Messages.FirstOrDefault(m => m.To.ToString().Contains("ana@e2e.example"))), TimeSpan.FromSeconds(20), "ana's email");
        Assert.Contains("ApiDown", email.Subject);
        // The severity, once: the channel puts it in front of the incident's title.
        Assert.StartsWith("[SEV1] ApiDown", email.Subject);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(email.Subject ?? "", "SEV1"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(form["Body"]!, "SEV1"));

        var incident = await Api.EventuallyAsync(async () =>
        {
            var view = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}");
            return view["notifications"]!.AsArray().Count == 3 ? view : null;
        }, TimeSpan.FromSeconds(20), "three delivery outcomes on the incident");
        Assert.All(incident["notifications"]!.AsArray(), n => Assert.True(n!["delivered"]!.GetValue<bool>()));
        Assert.Equal("standard", incident["escalation"]!["policy"]!.GetValue<string>());
        Assert.Equal(2, incident["escalation"]!["nextLevel"]!.GetValue<int>());
        Assert.Equal(["ana"], incident["escalation"]!["assignees"]!.AsArray().Select(a => a!.GetValue<string>()));

        // By hand: level 2 now. Ben's email arrives; his voice call fails on every attempt (Twilio answers 500).
        var (escalated, _) = await Api.PostAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/escalate", """{"actor":"lead"}""");
        Assert.Equal(200, escalated);
        await Api.EventuallyAsync(() => Task.FromResult(_smtp.Messages.FirstOrDefault(m => m.To.ToString().Contains("ben@e2e.example"))), TimeSpan.FromSeconds(20), "ben's email");
        incident = await Api.EventuallyAsync(async () =>
        {
            var view = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}");
            return view["notifications"]!.AsArray().Count == 5 ? view : null;
        }, TimeSpan.FromSeconds(30), "five delivery outcomes on the incident");
        var call = incident["notifications"]!.AsArray().Single(n => n!["channel"]!.GetValue<string>() == "voice")!;
        Assert.False(call["delivered"]!.GetValue<bool>());
        Assert.Equal(3, call["attempts"]!.GetValue<int>());
        Assert.Equal(3, _receiver.Requests.Count(r => r.Path.EndsWith("/Calls.json")));

        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        var steps = chronicle.Where(e => e!["kind"]!.GetValue<string>() == "escalation.step").ToList();
        Assert.Equal(["escalation", "lead"], steps.Select(s => s!["actor"]!.GetValue<string>()));
        Assert.Equal(3, chronicle.Count(e => e!["kind"]!.GetValue<string>() == "notification.attempt" && e["data"]!["channel"]!.GetValue<string>() == "voice"));
        Assert.Single(chronicle, e => e!["kind"]!.GetValue<string>() == "notification.failed");
        Assert.True((await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/chronicle/verify"))["valid"]!.GetValue<bool>());
        Assert.DoesNotContain(WebhookSecret, _server.Output);
        Assert.DoesNotContain(TwilioToken, _server.Output);

        // Reassign: to a schedule (whoever is on call now), a malformed target, an unknown user.
        var now = await Api.GetOkAsync(_server.Admin, $"/api/v1/accounts/{account}/schedules/primary/oncall");
        var (reassigned, view) = await Api.PostAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/reassign", """{"actor":"lead","to":"schedule:primary"}""");
        Assert.Equal(200, reassigned);
        Assert.Equal(now["onCall"]!.AsArray().Select(u => u!.GetValue<string>()), view!["escalation"]!["assignees"]!.AsArray().Select(u => u!.GetValue<string>()));
        var (malformed, problem) = await Api.PostAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/reassign", """{"to":"ben"}""");
        Assert.Equal(400, malformed);
        Assert.Contains("to: 'ben' is not a target", problem!["detail"]!.GetValue<string>());
        var (unknown, _) = await Api.PostAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/reassign", """{"to":"user:zed"}""");
        Assert.Equal(409, unknown);
    }

    [Fact]
    public async Task Who_is_on_call_hands_off_at_nine_local_on_both_sides_of_the_spring_forward()
    {
        var account = "acct-oncall-" + Guid.NewGuid().ToString("N")[..8];
        var (configured, problems) = await Api.PutYamlConfigAsync(_server.Admin, account, Config(account, "e2e-key-" + Guid.NewGuid().ToString("N")));
        Assert.True(configured == 201, problems?.ToJsonString());

        // Daily turns from 2026-03-01 09:00 New York time: ana on even days, ben on odd ones. 8 March is day 7 and
        // New York moves to EDT (UTC-4) at 02:00 that morning, so the 09:00 hand-off is 13:00 UTC (14:00 the day before).
        async Task<string> OnCallAt(string at) =>
            (await Api.GetOkAsync(_server.Admin, $"/api/v1/accounts/{account}/schedules/primary/oncall?at={at}"))["onCall"]!.AsArray().Single()!.GetValue<string>();
        Assert.Equal("ben", await OnCallAt("2026-03-07T13:59:59Z"));
        Assert.Equal("ana", await OnCallAt("2026-03-07T14:00:00Z"));
        Assert.Equal("ana", await OnCallAt("2026-03-08T12:59:59Z"));
        Assert.Equal("ben", await OnCallAt("2026-03-08T13:00:00Z"));

        var week = await Api.GetOkAsync(_server.Admin, $"/api/v1/accounts/{account}/schedules/primary/oncall?at=2026-03-07T14:00:00Z&until=2026-03-09T13:00:00Z");
        Assert.Equal(["2026-03-07T14:00:00+00:00", "2026-03-08T13:00:00+00:00"], week["shifts"]!.AsArray().Select(s => s!["start"]!.GetValue<string>()));
        Assert.Equal("23:00:00", (DateTimeOffset.Parse(week["shifts"]![0]!["end"]!.GetValue<string>()) - DateTimeOffset.Parse(week["shifts"]![0]!["start"]!.GetValue<string>())).ToString());

        var (bad, problem) = await Api.SendAsync(_server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}/schedules/primary/oncall?at=yesterday");
        Assert.Equal(400, bad);
        Assert.Contains("at: 'yesterday' is not a timestamp", problem!["detail"]!.GetValue<string>());
        foreach (var edge in new[] { "9999-12-30T00:00:00Z", "0001-01-01T00:00:00Z" })
            Assert.Equal(400, (await Api.SendAsync(_server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}/schedules/primary/oncall?at={edge}")).Status);
        var (missing, _) = await Api.SendAsync(_server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}/schedules/nope/oncall");
        Assert.Equal(404, missing);
    }

    [Fact]
    public async Task A_configuration_with_broken_escalation_references_is_refused_whole_and_changes_nothing()
    {
        var account = "acct-badesc-" + Guid.NewGuid().ToString("N")[..8];
        var broken = Config(account, "e2e-key-" + Guid.NewGuid().ToString("N"))
            .Replace("\"user:ben\"", "\"team:nope\"")
            .Replace("+15551230002", "555-0102")
            .Replace("secretRef: E2E_WEBHOOK_SECRET", "");
        var (status, problem) = await Api.PutYamlConfigAsync(_server.Admin, account, broken);
        Assert.Equal(400, status);
        var text = problem!["detail"]!.GetValue<string>();
        Assert.Contains("escalationPolicies[0].levels[1].targets: 'team:nope' is not a declared team", text);
        Assert.Contains("users[1].contacts[1].address: '555-0102' is not a phone number in E.164 form", text);
        Assert.Contains("channels[0].secretRef: a webhook is signed", text);
        var (missing, _) = await Api.SendAsync(_server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}");
        Assert.Equal(404, missing);
    }
}
