using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Microsoft Teams workflow webhook ("Post to a channel when a webhook request is received"): an Adaptive Card 1.2
/// inside the message envelope Workflows accept. Only Action.OpenUrl is used; webhooks do not support Action.Submit.
/// </summary>
internal sealed class TeamsChannel(IHttpClientFactory clients, TimeProvider time) : INotificationChannel
{
    public const string AdaptiveCardContentType = "application/vnd.microsoft.card.adaptive";

    public ChannelKind Kind => ChannelKind.Teams;
    public DestinationNeeds Needs => DestinationNeeds.Address;

    public string? Check(Notification notification, ResolvedDestination destination) =>
        HttpDelivery.IsHttpUrl(destination.Address, out _) ? null : "teams destination is not an absolute http(s) URL";

    public async Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, destination.RequireAddress()) { Content = JsonContent.Create(Message(notification)) };
        return await HttpDelivery.SendAsync(clients.CreateClient(NotificationHttpClients.Teams), request, time, describeError: null, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Teams refuses cards over 28 KB; the details are in the incident.</summary>
    private const int TextLimit = 8000, FactLimit = 500;

    internal static JsonObject Message(Notification n)
    {
        var body = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "TextBlock",
                ["text"] = Markdown(NotificationText.Truncate(NotificationText.Headline(n), FactLimit)),
                ["weight"] = "Bolder",
                ["size"] = "Medium",
                ["color"] = HeadlineColor(n),
                ["wrap"] = true,
            },
            new JsonObject
            {
                ["type"] = "FactSet",
                ["facts"] = new JsonArray
                {
                    Fact("Severity", NotificationText.SeverityLabel(n)),
                    Fact("Status", NotificationText.StatusLabel(n)),
                    Fact("Service", NotificationText.Truncate(NotificationText.OneLine(n.Service), FactLimit)),
                    Fact("Incident", n.IncidentId),
                },
            },
        };
        if (!string.IsNullOrWhiteSpace(n.Text))
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = Markdown(NotificationText.Truncate(n.Text, TextLimit)), ["wrap"] = true });

        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.2",
            ["body"] = body,
        };
        if (NotificationText.IncidentLink(n) is { } link)
            card["actions"] = new JsonArray { new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = "Open incident", ["url"] = link } };

        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = AdaptiveCardContentType, ["contentUrl"] = null, ["content"] = card },
            },
        };
    }

    /// <summary>
    /// TextBlocks and facts render Markdown: untrusted text has its markup characters escaped with a backslash, so an
    /// alert cannot make a link that hides where it goes, or style itself as something it is not.
    /// </summary>
    internal static string Markdown(string text)
    {
        var escaped = new System.Text.StringBuilder(text.Length + 16);
        var lineStart = true;
        foreach (var c in text)
        {
            // Emphasis, code, links and autolinks anywhere; headings, quotes and list bullets only where a line starts.
            if (c is '\\' or '*' or '_' or '`' or '~' or '[' or ']' or '<' || (lineStart && c is '#' or '>' or '-' or '+')) escaped.Append('\\');
            escaped.Append(c);
            if (c == '\n') lineStart = true;
            else if (c != ' ') lineStart = false;
        }
        return escaped.ToString();
    }

    /// <summary>Red for an open SEV1/SEV2, green once resolved, the default colour otherwise.</summary>
    private static string HeadlineColor(Notification n) => n.Status switch
    {
        IncidentStatus.Resolved => "Good",
        IncidentStatus.Triggered when n.Severity <= Severity.Sev2 => "Attention",
        _ => "Default",
    };

    private static JsonObject Fact(string title, string value) => new() { ["title"] = title, ["value"] = Markdown(value) };
}
