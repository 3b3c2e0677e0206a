using System.Text.Json.Nodes;
using OrleansOps.Abstractions;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class SlackTeamsTests
{
    [Fact]
    public async Task Slack_gets_fallback_text_and_blocks_with_mrkdwn_escaped()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath("/services/T1/B2/x3").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("ok"));
        using var harness = new NotificationHarness();
        var notification = Notifications.For(ChannelKind.Slack, $"{stub.Url}/services/T1/B2/x3") with
        {
            Text = "<!channel> 5 > 3 & <https://evil.example|click here>",
        };

        var report = await harness.SendAsync(notification);

        Assert.True(report.Delivered, report.Error);
        Assert.Equal("delivered", Assert.Single(report.Attempts).Outcome);
        var request = stub.SingleRequest();
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        var body = JsonNode.Parse(request.Body!)!;
        Assert.Equal("[SEV1] ehr-api down (triggered, ehr-api)", (string?)body["text"]);
        var blocks = body["blocks"]!.AsArray();
        Assert.Equal(["header", "section", "section", "actions"], blocks.Select(b => (string?)b!["type"]));
        Assert.Equal("plain_text", (string?)blocks[0]!["text"]!["type"]);
        Assert.Equal("[SEV1] ehr-api down", (string?)blocks[0]!["text"]!["text"]);
        Assert.Equal(
            ["*Severity*\nSEV1", "*Status*\nTriggered", "*Service*\nehr-api", "*Incident*\ninc-7f3a"],
            blocks[1]!["fields"]!.AsArray().Select(f => (string?)f!["text"]));
        Assert.Equal("mrkdwn", (string?)blocks[2]!["text"]!["type"]);
        Assert.Equal("&lt;!channel&gt; 5 &gt; 3 &amp; &lt;https://evil.example|click here&gt;", (string?)blocks[2]!["text"]!["text"]);
        var button = blocks[3]!["elements"]![0]!;
        Assert.Equal("button", (string?)button["type"]);
        Assert.Equal("Open incident", (string?)button["text"]!["text"]);
        Assert.Equal("https://ops.example.com/incidents/inc-7f3a", (string?)button["url"]);
    }

    [Fact]
    public async Task Slack_without_text_or_link_leaves_those_blocks_out()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook") with
        {
            Text = "",
            IncidentUrl = null,
            Status = IncidentStatus.Resolved,
        });

        Assert.True(report.Delivered, report.Error);
        var body = JsonNode.Parse(stub.SingleRequest().Body!)!;
        Assert.Equal(["header", "section"], body["blocks"]!.AsArray().Select(b => (string?)b!["type"]));
        Assert.Equal("[SEV1 resolved] ehr-api down", (string?)body["blocks"]![0]!["text"]!["text"]);
    }

    [Fact]
    public async Task Slack_error_word_is_kept_in_the_outcome_and_a_4xx_is_not_retried()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(404).WithBody("channel_not_found"));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.False(report.Delivered);
        Assert.Equal("HTTP 404 (channel_not_found)", Assert.Single(report.Attempts).Outcome);
        Assert.Single(stub.Server.LogEntries);
    }

    [Fact]
    public async Task Teams_gets_an_adaptive_card_in_the_workflow_message_envelope()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath("/workflows/abc").UsingPost()).RespondWith(Response.Create().WithStatusCode(202));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Teams, stub.Url + "/workflows/abc"));

        Assert.True(report.Delivered, report.Error);
        var request = stub.SingleRequest();
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        var envelope = JsonNode.Parse(request.Body!)!.AsObject();
        Assert.Equal("message", (string?)envelope["type"]);
        var attachment = Assert.Single(envelope["attachments"]!.AsArray())!.AsObject();
        Assert.Equal("application/vnd.microsoft.card.adaptive", (string?)attachment["contentType"]);
        // The reference shape has "contentUrl": null, present and null.
        Assert.True(attachment.ContainsKey("contentUrl"));
        Assert.Null(attachment["contentUrl"]);
        var card = attachment["content"]!;
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", (string?)card["$schema"]);
        Assert.Equal("AdaptiveCard", (string?)card["type"]);
        Assert.Equal("1.2", (string?)card["version"]);
        var body = card["body"]!.AsArray();
        Assert.Equal(["TextBlock", "FactSet", "TextBlock"], body.Select(b => (string?)b!["type"]));
        Assert.Equal("\\[SEV1\\] ehr-api down", (string?)body[0]!["text"]); // Markdown: the brackets are text
        Assert.True((bool)body[0]!["wrap"]!);
        Assert.Equal(
            ["Severity=SEV1", "Status=Triggered", "Service=ehr-api", "Incident=inc-7f3a"],
            body[1]!["facts"]!.AsArray().Select(f => $"{(string?)f!["title"]}={(string?)f["value"]}"));
        Assert.Equal("p99 above 2s on ehr-api", (string?)body[2]!["text"]);
        var action = Assert.Single(card["actions"]!.AsArray())!;
        Assert.Equal("Action.OpenUrl", (string?)action["type"]);
        Assert.Equal("https://ops.example.com/incidents/inc-7f3a", (string?)action["url"]);
    }

    [Fact]
    public async Task Teams_without_incident_url_has_no_actions()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(202));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Teams, stub.Url + "/w") with { IncidentUrl = "javascript:alert(1)" });

        Assert.True(report.Delivered, report.Error);
        var card = JsonNode.Parse(stub.SingleRequest().Body!)!["attachments"]![0]!["content"]!.AsObject();
        Assert.False(card.ContainsKey("actions"));
    }
}
