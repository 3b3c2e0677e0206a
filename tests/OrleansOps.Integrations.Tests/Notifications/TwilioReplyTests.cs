using OrleansOps.Abstractions;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class TwilioReplyTests
{
    [Theory]
    [InlineData("ACK 4821", "ACK", "4821")]
    [InlineData(" ack4821 ", "ACK", "4821")]
    [InlineData("Res 4821", "RES", "4821")]
    [InlineData("e 0042", "ESC", "0042")]
    public void A_reply_names_its_action_and_the_incidents_code(string body, string action, string code) =>
        Assert.Equal((action, code), TwilioReplies.ParseReply(body));

    [Theory]
    [InlineData("on my way")]
    [InlineData("ACK")]
    [InlineData("ACK 48211")]
    [InlineData("STOP")]
    [InlineData(null)]
    public void Anything_else_is_no_reply(string? body) => Assert.Null(TwilioReplies.ParseReply(body));

    [Fact]
    public void An_incidents_code_is_four_digits_and_the_same_on_every_page()
    {
        Assert.Matches("^[1-9][0-9]{3}$", TwilioReplies.Code("inc-3mypm56nfecnwtw4"));
        Assert.Equal(TwilioReplies.Code("inc-3mypm56nfecnwtw4"), TwilioReplies.Code("inc-3mypm56nfecnwtw4"));
        Assert.NotEqual(TwilioReplies.Code("inc-3mypm56nfecnwtw4"), TwilioReplies.Code("inc-3mypm56nfecnwtw5"));
    }

    [Fact]
    public void The_signature_covers_the_url_and_every_field_in_name_order()
    {
        const string token = "12345";
        const string url = "https://ops.example.com/api/v1/integrations/twilio/voice?incident=inc-1";
        var form = new Dictionary<string, string> { ["To"] = "+18005551212", ["Digits"] = "1", ["CallSid"] = "CA1234567890ABCDE", ["From"] = "+12349013030" };
        var signature = TwilioReplies.Sign(token, url, form);

        Assert.True(TwilioReplies.Verify(token, url, form.Reverse(), signature)); // the order sent does not matter
        Assert.False(TwilioReplies.Verify(token, url.Replace("inc-1", "inc-2"), form, signature));
        Assert.False(TwilioReplies.Verify(token, url, new Dictionary<string, string>(form) { ["Digits"] = "2" }, signature));
        Assert.False(TwilioReplies.Verify("54321", url, form, signature));
        Assert.False(TwilioReplies.Verify(token, url, form, null));
        // Base64 of HMAC-SHA1 over the URL, then CallSid, Digits, From and To, each name followed by its value.
        using var hmac = new System.Security.Cryptography.HMACSHA1(System.Text.Encoding.UTF8.GetBytes(token));
        var expected = Convert.ToBase64String(hmac.ComputeHash(System.Text.Encoding.UTF8.GetBytes(url + "CallSidCA1234567890ABCDEDigits1From+12349013030To+18005551212")));
        Assert.Equal(expected, signature);
    }

    [Fact]
    public void Pages_say_how_to_reply_while_the_incident_is_open_and_untrusted_text_cannot_add_verbs()
    {
        var page = Notifications.For(ChannelKind.Sms, "+15551230001") with { Title = "Down </Say><Dial>+1900</Dial>" };
        var code = TwilioReplies.Code(page.IncidentId);

        Assert.EndsWith($"Reply ACK {code} to acknowledge, RES {code} to resolve, ESC {code} to escalate.", SmsChannel.Body(page, replies: true));
        Assert.DoesNotContain("Reply ACK", SmsChannel.Body(page));
        Assert.DoesNotContain("Reply ACK", SmsChannel.Body(page with { Status = IncidentStatus.Resolved }, replies: true));
        var call = VoiceChannel.Twiml(page, "https://ops.example.com/api/v1/integrations/twilio/voice");
        Assert.Contains("action=\"https://ops.example.com/api/v1/integrations/twilio/voice?incident=inc-7f3a\"", call);
        Assert.DoesNotContain("<Dial>", call);
        Assert.DoesNotContain("<Gather", VoiceChannel.Twiml(page));
    }
}
