using Microsoft.Extensions.Logging;

namespace OrleansOps.Integrations.Notifications;

/// <summary>Writes the notification to the log: for demos and local runs, where no real channel is wired. Always delivered.</summary>
internal sealed class LogChannel(ILogger logger) : INotificationChannel
{
    public ChannelKind Kind => ChannelKind.Log;
    public DestinationNeeds Needs => DestinationNeeds.None;

    public string? Check(Notification notification, ResolvedDestination destination) => null;

    public Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken)
    {
        // An account's notice (an SLA event) belongs to no incident, and a server without a public URL links nowhere:
        // the line says only what there is.
        var link = NotificationText.IncidentLink(notification) ?? "";
        if (notification.IncidentId.Length == 0)
            logger.LogInformation("Notification {Key} for {Recipient}: {Headline} (account {AccountId}, service {Service}) {Text}",
                notification.Key, notification.Recipient, NotificationText.Headline(notification), notification.AccountId, notification.Service, notification.Text);
        else
            logger.LogInformation(
                "Notification {Key} for {Recipient}: {Headline} (incident {IncidentId}, account {AccountId}, service {Service}, status {Status}) {Text} {IncidentUrl}",
                notification.Key, notification.Recipient, NotificationText.Headline(notification), notification.IncidentId, notification.AccountId,
                notification.Service, notification.Status.ToString().ToLowerInvariant(), notification.Text, link);
        return Task.FromResult(ChannelResult.Delivered());
    }
}
