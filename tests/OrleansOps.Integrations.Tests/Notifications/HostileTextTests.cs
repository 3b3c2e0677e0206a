using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MimeKit;
using OrleansOps.Integrations.Itsm;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Tests.Notifications;

/// <summary>
/// Label and annotation values are untrusted: through every renderer that carries them to people (Slack, Teams, email,
/// SMS, voice, ServiceNow, Jira) hostile values come out as inert text, within each receiver's size limits.
/// The dashboard's rendering is checked in the browser test; CSV and HTML reports end to end.
/// </summary>
public sealed partial class HostileTextTests
{
    public static TheoryData<string> Hostile => new()
    {
        "<script>alert(document.cookie)</script>",
        "<!channel> <!here> <@U024BE7LH> <https://evil.example|click here>",
        "[click here](https://evil.example) ![x](https://evil.example/p.png) **bold** _it_ `code`",
        "# Heading\n> quote\n- item\n+ item",
        "=HYPERLINK(\"https://evil.example\",\"open\")",
        "[code]<img src=x onerror=alert(1)>[/code] [CODE]<b>x</b>[/Code]",
        "line1\r\nBcc: victim@example.com\r\n\r\n<h1>injected</h1>",
        "\u0000\u0007\u001b[31mred\u001b[0m \u202Egnp.exe",
        "]]></Say><Dial>+15550100</Dial><Say><![CDATA[",
        new string('A', 100_000),
    };

    private static Notification With(ChannelKind channel, string hostile) => Notifications.For(channel, "https://hooks.example/x") with
    {
        Title = hostile,
        Text = hostile,
        Service = hostile,
    };

    [Theory, MemberData(nameof(Hostile))]
    public void Slack_mrkdwn_carries_no_mention_link_or_tag_and_stays_within_its_limits(string hostile)
    {
        var message = SlackChannel.Message(With(ChannelKind.Slack, hostile));
        var mrkdwn = MrkdwnTexts(message).ToList();
        Assert.NotEmpty(mrkdwn);
        // In mrkdwn, < opens a link or a mention: none may come from the alert.
        Assert.All(mrkdwn, text => Assert.DoesNotContain('<', text));
        Assert.All(mrkdwn, text => Assert.True(text.Length <= 3000, $"{text.Length} characters"));
        Assert.True(message["blocks"]![0]!["text"]!["text"]!.GetValue<string>().Length <= 150);
    }

    [Theory, MemberData(nameof(Hostile))]
    public void Teams_markdown_has_every_link_emphasis_and_block_character_escaped_and_the_card_stays_small(string hostile)
    {
        var message = TeamsChannel.Message(With(ChannelKind.Teams, hostile));
        var card = message["attachments"]![0]!["content"]!;
        var texts = card["body"]!.AsArray().SelectMany(block => block!["type"]!.GetValue<string>() == "FactSet"
            ? block["facts"]!.AsArray().Select(f => f!["value"]!.GetValue<string>())
            : [block["text"]!.GetValue<string>()]).ToList();
        foreach (var text in texts)
        {
            Assert.DoesNotMatch(UnescapedMarkup(), text);
            Assert.DoesNotMatch(UnescapedLineMarkup(), text);
        }
        Assert.True(message.ToJsonString().Length < 28 * 1024, $"{message.ToJsonString().Length} bytes");
        // The only link is ours.
        Assert.Equal("https://ops.example.com/incidents/inc-7f3a", card["actions"]![0]!["url"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Hostile))]
    public void Email_html_has_no_tag_from_the_alert_and_the_subject_no_line_break(string hostile)
    {
        var notification = With(ChannelKind.Email, hostile);
        var message = EmailChannel.Message(notification, new MailboxAddress("OrleansOps", "ops@example.com"), new MailboxAddress("Ana", "ana@example.com"));
        Assert.DoesNotContain("\n", message.Subject!);
        Assert.DoesNotContain("\r", message.Subject!);
        Assert.Single(message.Bcc.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.To.Mailboxes)); // only Ana
        var html = EmailChannel.HtmlBody(notification);
        foreach (var tag in new[] { "<script", "<img", "<h1", "<b>" }) Assert.DoesNotContain(tag, html, StringComparison.OrdinalIgnoreCase);
    }

    [Theory, MemberData(nameof(Hostile))]
    public void Sms_fits_one_Twilio_message_and_the_call_reads_only_one_escaped_Say(string hostile)
    {
        var notification = With(ChannelKind.Voice, hostile);
        Assert.True(SmsChannel.Body(notification).Length <= 1600);
        var twiml = VoiceChannel.Twiml(notification);
        Assert.True(twiml.Length <= 4000, $"{twiml.Length} characters of TwiML");
        var response = XDocument.Parse(twiml).Root!;
        Assert.Equal("Response", response.Name.LocalName);
        Assert.Equal(["Say"], response.Elements().Select(e => e.Name.LocalName));
        Assert.Empty(response.Element("Say")!.Elements());
    }

    [Theory, MemberData(nameof(Hostile))]
    public void ServiceNow_text_has_no_code_tag_and_Jira_gets_text_nodes_only(string hostile)
    {
        Assert.DoesNotMatch(CodeTag(), ItsmText.ServiceNowText(hostile));
        Assert.Equal(hostile.Replace("\u200B", ""), ItsmText.ServiceNowText(hostile).Replace("\u200B", "")); // nothing else changes

        var adf = ItsmText.Adf(hostile);
        foreach (var node in Nodes(adf))
        {
            Assert.Contains(node["type"]!.GetValue<string>(), new[] { "doc", "paragraph", "text" });
            Assert.Null(node["marks"]);
            if (node["text"] is { } text) Assert.DoesNotContain(text.GetValue<string>(), c => char.IsControl(c) && c != '\t');
        }
    }

    private static IEnumerable<string> MrkdwnTexts(JsonNode message)
    {
        yield return message["text"]!.GetValue<string>();
        foreach (var block in message["blocks"]!.AsArray())
        {
            if (block!["text"] is { } text && text["type"]!.GetValue<string>() == "mrkdwn") yield return text["text"]!.GetValue<string>();
            foreach (var field in block["fields"]?.AsArray() ?? []) yield return field!["text"]!.GetValue<string>();
        }
    }

    private static IEnumerable<JsonNode> Nodes(JsonNode node)
    {
        yield return node;
        foreach (var child in node["content"]?.AsArray() ?? [])
        foreach (var descendant in Nodes(child!))
            yield return descendant;
    }

    /// <summary>A markup character not preceded by an escaping backslash (itself not escaped).</summary>
    [GeneratedRegex(@"(?<!\\)(?:\\\\)*[\[\]*_`~<]")]
    private static partial Regex UnescapedMarkup();

    [GeneratedRegex(@"(?m)^ *(?:\\\\)*[#>+\-]")]
    private static partial Regex UnescapedLineMarkup();

    [GeneratedRegex(@"\[/?code\]", RegexOptions.IgnoreCase)]
    private static partial Regex CodeTag();
}
