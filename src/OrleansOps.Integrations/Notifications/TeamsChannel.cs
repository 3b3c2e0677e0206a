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

    internal static JsonObject Message(Notification n)
    {
        var body = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "TextBlock",
                ["text"] = NotificationText.Headline(n),
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
                    Fact("Service", n.Service),
                    Fact("Incident", n.IncidentId),
                },
            },
        };
        if (!string.IsNullOrWhiteSpace(n.Text)) body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = n.Text, ["wrap"] = true });

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

    /// <summary>Red for an open SEV1/SEV2, green once resolved, the default colour otherwise.</summary>
    private static string HeadlineColor(Notification n) => n.Status switch
    {
        IncidentStatus.Resolved => "Good",
        IncidentStatus.Triggered when n.Severity <= Severity.Sev2 => "Attention",
        _ => "Default",
    };

    private static JsonObject Fact(string title, string value) => new() { ["title"] = title, ["value"] = value };
}
