using System.Text.Json.Nodes;
using OrleansOps.Abstractions;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class SlackInteractionTests
{
    private const string Secret = "slack-signing-secret-of-these-tests";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_765_000_000);

    [Fact]
    public void A_request_is_slacks_only_when_signed_with_the_secret_over_its_exact_body_and_sent_within_five_minutes()
    {
        const string body = "payload=%7B%22type%22%3A%22block_actions%22%7D";
        var at = Now.ToUnixTimeSeconds();
        var signature = SlackInteractions.Sign(Secret, at, body);
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);

        Assert.StartsWith("v0=", signature);
        Assert.True(SlackInteractions.Verify(Secret, at.ToString(), bytes, signature, Now.AddMinutes(4)));
        Assert.False(SlackInteractions.Verify(Secret, at.ToString(), bytes, signature, Now.AddMinutes(6))); // replayed later
        Assert.False(SlackInteractions.Verify("another-secret", at.ToString(), bytes, signature, Now));
        Assert.False(SlackInteractions.Verify(Secret, at.ToString(), System.Text.Encoding.UTF8.GetBytes(body + "x"), signature, Now));
        Assert.False(SlackInteractions.Verify(Secret, (at + 1).ToString(), bytes, signature, Now));
        Assert.False(SlackInteractions.Verify(Secret, at.ToString(), bytes, "v0=zz" + signature[5..], Now));
        Assert.False(SlackInteractions.Verify(Secret, null, bytes, signature, Now));
        Assert.False(SlackInteractions.Verify(Secret, at.ToString(), bytes, null, Now));
    }

    [Fact]
    public void A_press_of_one_of_our_buttons_is_read_and_anything_else_is_not()
    {
        static string Form(JsonObject payload) => "token=x&payload=" + Uri.EscapeDataString(payload.ToJsonString());
        var press = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = "U0ANA" },
            ["actions"] = new JsonArray(new JsonObject { ["action_id"] = SlackInteractions.Resolve, ["value"] = "inc-7f3a" }),
            ["response_url"] = "https://hooks.slack.com/actions/T1/1/x",
        };

        var pressed = SlackInteractions.Read(Form(press))!;
        Assert.Equal(("U0ANA", SlackInteractions.Resolve, "inc-7f3a", "https://hooks.slack.com/actions/T1/1/x"),
            (pressed.SlackUserId, pressed.ActionId, pressed.IncidentId, pressed.ResponseUrl));
        var otherApp = (JsonObject)press.DeepClone();
        otherApp["actions"]![0]!["action_id"] = "someone.elses";
        var shortcut = (JsonObject)press.DeepClone();
        shortcut["type"] = "shortcut";
        Assert.Null(SlackInteractions.Read(Form(otherApp)));
        Assert.Null(SlackInteractions.Read(Form(shortcut)));
        Assert.Null(SlackInteractions.Read("payload=not%20json"));
        Assert.Null(SlackInteractions.Read("nothing=here"));
    }

    [Fact]
    public void A_page_carries_the_buttons_while_its_incident_is_open_and_the_server_can_verify_them()
    {
        var open = Notifications.For(ChannelKind.Slack, "https://hooks.slack.com/services/T1/B2/x3");
        static IEnumerable<string?> Actions(JsonObject message) =>
            message["blocks"]!.AsArray().Single(b => (string?)b!["type"] == "actions")!["elements"]!.AsArray().Select(e => (string?)e!["action_id"] ?? (string?)e["text"]!["text"]);

        Assert.Equal([SlackInteractions.Acknowledge, SlackInteractions.Resolve, SlackInteractions.Escalate, "Open incident"], Actions(SlackChannel.Message(open, interactive: true)));
        Assert.Equal(["Open incident"], Actions(SlackChannel.Message(open)));
        Assert.Equal(["Open incident"], Actions(SlackChannel.Message(open with { Status = IncidentStatus.Resolved }, interactive: true)));
    }
}
