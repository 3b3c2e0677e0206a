using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Slack incoming webhook: <c>text</c> for notifications and clients without blocks, and Block Kit blocks — a header,
/// the severity, status and service as fields, the text, and a button to the incident; when the Slack app's signing
/// secret is configured (<paramref name="interactive"/>), Acknowledge, Resolve and Escalate buttons too, until it is resolved.
/// </summary>
internal sealed partial class SlackChannel(IHttpClientFactory clients, TimeProvider time, bool interactive = false) : INotificationChannel
{
    // Slack's limits: a header's plain text 150 characters, a section's text 3000, a button URL 3000.
    private const int HeaderLimit = 150;
    private const int SectionLimit = 3000;
    private const int UrlLimit = 3000;

    public ChannelKind Kind => ChannelKind.Slack;
    public DestinationNeeds Needs => DestinationNeeds.Address;

    public string? Check(Notification notification, ResolvedDestination destination) =>
        HttpDelivery.IsHttpUrl(destination.Address, out _) ? null : "slack destination is not an absolute http(s) URL";

    public async Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, destination.RequireAddress()) { Content = JsonContent.Create(Message(notification, interactive)) };
        return await HttpDelivery.SendAsync(clients.CreateClient(NotificationHttpClients.Slack), request, time, DescribeError, cancellationToken)
            .ConfigureAwait(false);
    }

    internal static JsonObject Message(Notification n, bool interactive = false)
    {
        var blocks = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "header",
                // plain_text is shown literally, so it needs no mrkdwn escaping.
                ["text"] = PlainText(NotificationText.Truncate(NotificationText.Headline(n), HeaderLimit)),
            },
            new JsonObject
            {
                ["type"] = "section",
                ["fields"] = new JsonArray
                {
                    Mrkdwn($"*Severity*\n{NotificationText.SeverityLabel(n)}"),
                    Mrkdwn($"*Status*\n{NotificationText.StatusLabel(n)}"),
                    Mrkdwn($"*Service*\n{Escape(NotificationText.Truncate(n.Service, 500))}"),
                    Mrkdwn($"*Incident*\n{Escape(n.IncidentId)}"),
                },
            },
        };
        // Slack rejects a section with empty text.
        if (!string.IsNullOrWhiteSpace(n.Text))
            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = Mrkdwn(NotificationText.Truncate(Escape(n.Text), SectionLimit)) });
        var link = NotificationText.IncidentLink(n) is { Length: <= UrlLimit } url ? url : null;
        if (SlackInteractions.ActionsBlock(n.IncidentId, link, buttons: interactive && n.Status != IncidentStatus.Resolved) is { } actions) blocks.Add(actions);
        return new JsonObject
        {
            // The top-level text is the fallback and is itself parsed as mrkdwn.
            ["text"] = Escape(NotificationText.Truncate(FallbackText(n), SectionLimit)),
            ["blocks"] = blocks,
        };
    }

    private static string FallbackText(Notification n) =>
        $"{NotificationText.Headline(n)} ({NotificationText.StatusLabel(n).ToLowerInvariant()}, {NotificationText.OneLine(n.Service)})";

    /// <summary>
    /// Slack's mrkdwn treats &amp;, &lt; and &gt; as control characters (&lt;url|label&gt; links, &lt;!channel&gt; mentions);
    /// untrusted text escapes them so an alert cannot ping @channel or disguise a link.
    /// </summary>
    internal static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text, ["emoji"] = true };

    private static JsonObject Mrkdwn(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };

    /// <summary>Slack answers errors with a bare word ("invalid_payload", "channel_not_found"); anything else is not repeated.</summary>
    private static string? DescribeError(string body) => SlackErrorWord().IsMatch(body.Trim()) ? body.Trim() : null;

    [GeneratedRegex("^[a-z_]{1,64}$")]
    private static partial Regex SlackErrorWord();
}
