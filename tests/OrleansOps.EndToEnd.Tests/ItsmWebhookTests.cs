using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>ServiceNow and Jira tell OrleansOps what happened on a ticket: authenticated, applied once, our own echoes ignored.</summary>
public sealed class ItsmWebhookTests : IAsyncLifetime
{
    private static readonly string Secret = "e2e-itsm-" + Guid.NewGuid().ToString("N");
    private ServerProcess _server = null!;

    public async Task InitializeAsync() => _server = await ServerProcess.StartAsync(settings:
    [
        $"--E2E_ITSM_SECRET={Secret}", "--E2E_SN_USER=svc.orleansops", "--E2E_SN_PASSWORD=x", "--E2E_JIRA_EMAIL=bot@acme.example", "--E2E_JIRA_TOKEN=y",
    ]);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
    }

    private async Task<(string Account, string Key)> AccountAsync()
    {
        var account = "acct-itsm-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        // Both systems point at a closed loopback port: outbound sync fails and retries in the background, which this test ignores.
        var (status, problem) = await Api.PutYamlConfigAsync(_server.Admin, account, $$"""
            id: {{account}}
            name: ITSM end to end
            services: [{id: api}]
            integrationKeys: [{name: e2e, key: {{key}}, defaultService: api}]
            itsm:
              serviceNow: {instanceUrl: "http://127.0.0.1:9/", usernameRef: E2E_SN_USER, passwordRef: E2E_SN_PASSWORD}
              jira: {siteUrl: "http://127.0.0.1:9/", emailRef: E2E_JIRA_EMAIL, apiTokenRef: E2E_JIRA_TOKEN, projectKey: OPS}
              inboundSecretRef: E2E_ITSM_SECRET
            """);
        Assert.True(status == 201, problem?.ToJsonString());
        return (account, key);
    }

    private async Task<string> OpenAsync(string key)
    {
        var (status, receipt) = await Api.PostAsync(_server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Down","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, status);
        return receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
    }

    private async Task<(int Status, System.Text.Json.Nodes.JsonNode? Body)> PostAsync(string path, string body, Action<HttpRequestMessage>? sign)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        sign?.Invoke(request);
        using var response = await _server.Anonymous.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? System.Text.Json.Nodes.JsonNode.Parse(text) : null);
    }

    private static Action<HttpRequestMessage> Bearer(string secret) => r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);

    private static Action<HttpRequestMessage> Hub(string body) => r => r.Headers.Add("X-Hub-Signature",
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))));

    [Fact]
    public async Task ServiceNow_acknowledges_and_annotates_and_its_echo_of_our_own_change_is_ignored()
    {
        var (account, key) = await AccountAsync();
        var incident = await OpenAsync(key);
        var path = $"/api/v1/integrations/servicenow/{account}";
        var ack = $$"""{"correlation_id":"{{incident}}","state":"2","sys_updated_by":"alice"}""";

        Assert.Equal(401, (await PostAsync(path, ack, null)).Status);
        Assert.Equal(401, (await PostAsync(path, ack, Bearer("wrong"))).Status);
        Assert.Equal(401, (await PostAsync($"/api/v1/integrations/servicenow/acct-nobody", ack, Bearer(Secret))).Status);
        Assert.Equal(400, (await PostAsync(path, "{not json", Bearer(Secret))).Status);

        var (status, result) = await PostAsync(path, ack, Bearer(Secret));
        Assert.Equal(200, status);
        Assert.True(result!["applied"]!.GetValue<bool>());
        var view = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incident}");
        Assert.Equal("acknowledged", view["status"]!.GetValue<string>());
        Assert.Equal("servicenow:alice", view["acknowledgedBy"]!.GetValue<string>());

        // Our own integration user's update, and a work note carrying our marker, are echoes: nothing changes.
        var echo = $$"""{"correlation_id":"{{incident}}","state":"6","sys_updated_by":"svc.orleansops"}""";
        Assert.False((await PostAsync(path, echo, Bearer(Secret))).Body!["applied"]!.GetValue<bool>());
        var ourNote = $$"""{"correlation_id":"{{incident}}","work_notes":"2026-11-26 10:03:00Z ana: Acknowledged [OrleansOps {{incident}} #4]","sys_updated_by":"alice"}""";
        Assert.False((await PostAsync(path, ourNote, Bearer(Secret))).Body!["applied"]!.GetValue<bool>());
        var note = $$"""{"correlation_id":"{{incident}}","work_notes":"vendor engaged","sys_updated_by":"alice"}""";
        Assert.True((await PostAsync(path, note, Bearer(Secret))).Body!["applied"]!.GetValue<bool>());

        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{incident}/chronicle");
        Assert.Single(chronicle, e => e!["kind"]!.GetValue<string>() == "note.added" && e["text"]!.GetValue<string>() == "vendor engaged");
        Assert.DoesNotContain(chronicle, e => e!["kind"]!.GetValue<string>() == "incident.resolved");

        // The outbound sync cannot reach the (closed) instance: the incident says so, and keeps retrying.
        var tickets = await Api.EventuallyAsync(async () =>
        {
            var current = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incident}");
            return current["tickets"]!.AsArray().Any(t => t!["lastError"] is not null) ? current["tickets"]!.AsArray() : null;
        }, TimeSpan.FromSeconds(20), "the failing ticket sync on the incident");
        var serviceNow = tickets.Single(t => t!["system"]!.GetValue<string>() == "serviceNow")!;
        Assert.False(serviceNow["stuck"]!.GetValue<bool>());
        Assert.Null(serviceNow["key"]);
    }

    [Fact]
    public async Task A_ServiceNow_update_with_a_work_note_and_a_state_applies_both_even_when_the_note_is_our_own()
    {
        // The agent resolves; the ticket's latest work note is the one OrleansOps wrote: the resolve still counts.
        var (account, key) = await AccountAsync();
        var path = $"/api/v1/integrations/servicenow/{account}";
        var first = await OpenAsync(key);
        var resolved = $$"""{"correlation_id":"{{first}}","state":"6","work_notes":"2026-11-26 10:03:00Z ana: Acknowledged [OrleansOps {{first}} #4]","close_notes":"fixed upstream","sys_updated_by":"alice"}""";
        var (status, result) = await PostAsync(path, resolved, Bearer(Secret));
        Assert.Equal(200, status);
        Assert.True(result!["applied"]!.GetValue<bool>());
        Assert.Equal("resolve", result["action"]!.GetValue<string>());
        var view = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{first}");
        Assert.Equal("resolved", view["status"]!.GetValue<string>());
        Assert.Equal("servicenow:alice", view["resolvedBy"]!.GetValue<string>());

        // A note of the agent's own and a state in one message: both, the note first.
        (account, key) = await AccountAsync();
        path = $"/api/v1/integrations/servicenow/{account}";
        var second = await OpenAsync(key);
        // As the rule sends it: a JSON string, the entry's header and text on two lines.
        var note = "2026-12-07 10:05:12 - Bob (Work notes)\\nlooking at the switch";
        var both = $$"""{"correlation_id":"{{second}}","state":"2","work_notes":"{{note}}","sys_updated_by":"bob"}""";
        (status, result) = await PostAsync(path, both, Bearer(Secret));
        Assert.True(result!["applied"]!.GetValue<bool>());
        Assert.Equal("note, acknowledge", result["action"]!.GetValue<string>());
        view = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{second}");
        Assert.Equal("acknowledged", view["status"]!.GetValue<string>());

        // The ticket's next update (the agent resolves it) carries the same latest work note: one note on the chronicle.
        var next = $$"""{"correlation_id":"{{second}}","state":"6","work_notes":"{{note}}","sys_updated_by":"bob"}""";
        (status, result) = await PostAsync(path, next, Bearer(Secret));
        Assert.Equal(200, status);
        Assert.True(result!["applied"]!.GetValue<bool>());
        Assert.Contains("note: ", result["detail"]!.GetValue<string>());
        Assert.Contains("resolve: applied", result["detail"]!.GetValue<string>());
        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{second}/chronicle");
        Assert.Single(chronicle, e => e!["kind"]!.GetValue<string>() == "note.added");
        Assert.Equal("2026-12-07 10:05:12 - Bob (Work notes)\nlooking at the switch",
            chronicle.Single(e => e!["kind"]!.GetValue<string>() == "note.added")!["text"]!.GetValue<string>());
        Assert.Equal("resolved", (await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{second}"))["status"]!.GetValue<string>());

        // Reopened by an operator; a later note on the still-resolved ticket (its state unchanged) adds the note and resolves nothing.
        Assert.Equal(200, (await Api.PostAsync(_server.Admin, $"/api/v1/incidents/{second}/reopen", """{"actor":"ops"}""")).Status);
        var later = $$"""{"correlation_id":"{{second}}","state":"6","previous_state":"6","work_notes":"2026-12-07 11:00:00 - Bob (Work notes)\npost-mortem booked","sys_updated_by":"bob"}""";
        (status, result) = await PostAsync(path, later, Bearer(Secret));
        Assert.Equal(200, status);
        Assert.Equal("note", result!["action"]!.GetValue<string>());
        Assert.Equal("triggered", (await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{second}"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_signed_Jira_comment_annotates_and_a_move_to_done_resolves_once()
    {
        var (account, key) = await AccountAsync();
        var incident = await OpenAsync(key);
        var path = $"/api/v1/integrations/jira/{account}";
        var comment = $$$"""
            {"webhookEvent":"comment_created","issue":{"key":"OPS-7","fields":{"labels":["orleansops-{{{incident}}}"]}},
             "comment":{"author":{"displayName":"Bea","emailAddress":"bea@acme.example"},
                        "body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"<b>rolling back</b>"}]}]} } }
            """;
        Assert.Equal(401, (await PostAsync(path, comment, Hub(comment + " "))).Status); // a signature of another body
        Assert.True((await PostAsync(path, comment, Hub(comment))).Body!["applied"]!.GetValue<bool>());

        var done = $$$"""
            {"webhookEvent":"jira:issue_updated","user":{"displayName":"Bea","emailAddress":"bea@acme.example"},
             "issue":{"key":"OPS-7","fields":{"labels":["orleansops-{{{incident}}}"]}},
             "changelog":{"items":[{"field":"status","fromString":"In Progress","toString":"Done"}]}}
            """;
        Assert.True((await PostAsync(path, done, Hub(done))).Body!["applied"]!.GetValue<bool>());
        Assert.False((await PostAsync(path, done, Hub(done))).Body!["applied"]!.GetValue<bool>()); // a second delivery changes nothing

        var view = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incident}");
        Assert.Equal("resolved", view["status"]!.GetValue<string>());
        Assert.Equal("jira:Bea", view["resolvedBy"]!.GetValue<string>());
        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{incident}/chronicle");
        Assert.Single(chronicle, e => e!["kind"]!.GetValue<string>() == "note.added" && e["text"]!.GetValue<string>() == "<b>rolling back</b>");
    }
}
