using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// Acknowledging and resolving from a Slack page through the real server: the page carries the buttons, Slack's signed
/// interaction request acts as the account's user who pressed, and the page is updated through the response URL.
/// </summary>
public sealed class SlackActionTests : IAsyncLifetime
{
    private static readonly string SigningSecret = "e2e-slack-signing-" + Guid.NewGuid().ToString("N");
    private LoopbackReceiver _slack = null!;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _slack = LoopbackReceiver.Start();
        _server = await ServerProcess.StartAsync(settings:
        [
            $"--E2E_SLACK_SIGNING_SECRET={SigningSecret}",
            "--OrleansOps:Notifications:Slack:SigningSecretRef=E2E_SLACK_SIGNING_SECRET",
            "--OrleansOps:Notifications:PublicUrl=https://ops.e2e.example/",
        ]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
        _slack.Dispose();
    }

    private async Task<string> AccountAsync(string users, string key, string channel = "")
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var (status, problems) = await Api.PutYamlConfigAsync(_server.Admin, id, $$"""
            id: {{id}}
            name: Slack actions
            services: [{id: api, escalationPolicy: standard}]
            users:
            {{users}}
            channels:
              - {id: ops-slack, kind: slack, url: "{{_slack.Url}}{{channel}}"}
            escalationPolicies:
              - {id: standard, levels: [{delay: 0m, targets: ["channel:ops-slack"]}]}
            integrationKeys: [{name: main, key: {{key}}, defaultService: api}]
            """);
        Assert.True(status == 201, problems?.ToJsonString());
        return id;
    }

    /// <summary>Presses a button as Slack does: the interaction as a form's payload, signed at <paramref name="sentAt"/>.</summary>
    private async Task<int> PressAsync(string slackUser, string actionId, string incidentId, JsonArray blocks, string respondTo,
        DateTimeOffset? sentAt = null, string? secret = null)
    {
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = slackUser, ["username"] = slackUser.ToLowerInvariant() },
            ["team"] = new JsonObject { ["id"] = "T0E2E" },
            ["actions"] = new JsonArray(new JsonObject { ["type"] = "button", ["action_id"] = actionId, ["value"] = incidentId }),
            ["response_url"] = _slack.Url + respondTo,
            ["message"] = new JsonObject { ["blocks"] = blocks.DeepClone() },
        };
        var body = "payload=" + Uri.EscapeDataString(payload.ToJsonString());
        var timestamp = (sentAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/integrations/slack/interactions")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/x-www-form-urlencoded")),
        };
        request.Headers.Add(SlackInteractions.TimestampHeader, timestamp.ToString());
        request.Headers.Add(SlackInteractions.SignatureHeader, SlackInteractions.Sign(secret ?? SigningSecret, timestamp, body));
        using var response = await _server.Anonymous.SendAsync(request);
        return (int)response.StatusCode;
    }

    private Task<JsonNode> AnswerAsync(string path) => Api.EventuallyAsync(
        () => Task.FromResult(_slack.Requests.FirstOrDefault(r => r.Path == "/" + path) is { } r ? JsonNode.Parse(r.Body) : null),
        TimeSpan.FromSeconds(20), $"Slack's response URL {path}");

    [Fact]
    public async Task A_page_is_acknowledged_then_resolved_from_its_slack_buttons_once_and_only_by_the_accounts_users()
    {
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var page = "page-" + Guid.NewGuid().ToString("N")[..8];
        await AccountAsync("  - {id: ana, name: Ana Silva, slack: U0ANA, contacts: [{id: log, kind: log, address: ana}]}\n  - {id: ben, slack: U0BEN, contacts: [{id: log, kind: log, address: ben}]}", key, page);
        await AccountAsync("  - {id: carl, slack: U0CARL, contacts: [{id: log, kind: log, address: carl}]}", "e2e-key-" + Guid.NewGuid().ToString("N"));
        var (sent, receipt) = await Api.PostAsync(_server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"ApiDown","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, sent);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();

        // The page: the incident's buttons, each carrying its id, and its link.
        var message = JsonNode.Parse((await Api.EventuallyAsync(() => Task.FromResult(_slack.Requests.FirstOrDefault(r => r.Path == "/" + page)),
            TimeSpan.FromSeconds(20), "the Slack page")).Body)!;
        var blocks = message["blocks"]!.AsArray();
        var buttons = blocks.Single(b => b!["type"]!.GetValue<string>() == "actions")!["elements"]!.AsArray();
        Assert.Equal([SlackInteractions.Acknowledge, SlackInteractions.Resolve, SlackInteractions.Escalate],
            buttons.Where(b => b!["action_id"] is not null).Select(b => b!["action_id"]!.GetValue<string>()));
        Assert.All(buttons.Where(b => b!["action_id"] is not null), b => Assert.Equal(incidentId, b!["value"]!.GetValue<string>()));
        Assert.Equal($"https://ops.e2e.example/dashboard/incidents/{incidentId}", buttons.Single(b => b!["url"] is not null)!["url"]!.GetValue<string>());

        // Not Slack's: a wrong secret, or a signed request replayed ten minutes later.
        Assert.Equal(401, await PressAsync("U0ANA", SlackInteractions.Acknowledge, incidentId, blocks, "forged", secret: "not-the-secret"));
        Assert.Equal(401, await PressAsync("U0ANA", SlackInteractions.Acknowledge, incidentId, blocks, "replayed", sentAt: DateTimeOffset.UtcNow.AddMinutes(-10)));
        // Another account's user, and a member nobody declared: a refusal only they see, that says nothing of the incident.
        Assert.Equal(200, await PressAsync("U0CARL", SlackInteractions.Acknowledge, incidentId, blocks, "carl"));
        Assert.Equal(200, await PressAsync("U0NOBODY", SlackInteractions.Resolve, incidentId, blocks, "nobody"));
        foreach (var refused in new[] { await AnswerAsync("carl"), await AnswerAsync("nobody") })
        {
            Assert.Equal("ephemeral", refused["response_type"]!.GetValue<string>());
            Assert.StartsWith("Nothing was changed: your Slack account is not one of this incident's account's users", refused["text"]!.GetValue<string>());
            Assert.DoesNotContain("ApiDown", refused.ToJsonString());
        }
        Assert.Equal("triggered", (await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}"))["status"]!.GetValue<string>());
        Assert.DoesNotContain(_slack.Requests, r => r.Path is "/forged" or "/replayed");

        // Ana acknowledges: the page says so in place; Ben's press after hers changes nothing.
        Assert.Equal(200, await PressAsync("U0ANA", SlackInteractions.Acknowledge, incidentId, blocks, "ana-ack"));
        var acknowledged = await AnswerAsync("ana-ack");
        Assert.True(acknowledged["replace_original"]!.GetValue<bool>());
        Assert.StartsWith("Acknowledged by Ana Silva via Slack at ", acknowledged["text"]!.GetValue<string>());
        Assert.Contains(acknowledged["blocks"]!.AsArray(), b => b!["type"]!.GetValue<string>() == "header");
        Assert.Equal(200, await PressAsync("U0BEN", SlackInteractions.Acknowledge, incidentId, blocks, "ben-ack"));
        Assert.Equal("Nothing was changed: it was acknowledged by ana via slack already.", (await AnswerAsync("ben-ack"))["text"]!.GetValue<string>());
        var incident = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}");
        Assert.Equal(("acknowledged", "ana via slack"), (incident["status"]!.GetValue<string>(), incident["acknowledgedBy"]!.GetValue<string>()));

        // Resolved from Slack: no buttons left on the page, only its link.
        Assert.Equal(200, await PressAsync("U0ANA", SlackInteractions.Resolve, incidentId, acknowledged["blocks"]!.AsArray(), "ana-resolve"));
        var resolved = await AnswerAsync("ana-resolve");
        Assert.StartsWith("Resolved by Ana Silva via Slack at ", resolved["text"]!.GetValue<string>());
        var left = resolved["blocks"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "actions")!["elements"]!.AsArray();
        Assert.Equal("Open incident", Assert.Single(left)!["text"]!["text"]!.GetValue<string>());

        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        var acts = chronicle.Where(e => e!["kind"]!.GetValue<string>() is "incident.acknowledged" or "incident.resolved")
            .Select(e => (e!["kind"]!.GetValue<string>(), e["actor"]!.GetValue<string>())).ToList();
        Assert.Equal([("incident.acknowledged", "ana via slack"), ("incident.resolved", "ana via slack")], acts);
    }

    [Fact]
    public async Task Without_the_signing_secret_a_server_refuses_slack_interactions()
    {
        var plain = await ServerProcess.StartAsync();
        try
        {
            var (status, problem) = await Api.PostAsync(plain.Anonymous, "/api/v1/integrations/slack/interactions", "payload=%7B%7D");
            Assert.Equal(404, status);
            Assert.Contains("Slack interactivity is not configured on this server", problem!["detail"]!.GetValue<string>());
        }
        finally
        {
            await plain.DisposeAsync();
            try { Directory.Delete(plain.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }
}
