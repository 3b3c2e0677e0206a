namespace OrleansOps.Abstractions;

/// <summary>Sends notifications through the channels, with retries, back-off and per-channel rate limits.</summary>
public interface INotificationSender
{
    Task<DeliveryReport> SendAsync(Notification notification, CancellationToken cancellationToken);
}
