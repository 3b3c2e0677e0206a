using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace OrleansOps.Grains;

/// <summary>
/// Sends each notification through the channels (retries and rate limits included) and reports the outcome to its
/// incident. Reentrant, so one slow receiver never holds up the others.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class NotifierGrain(INotificationSender sender, TimeProvider time, ILogger<NotifierGrain> logger) : Grain, INotifierGrain
{
    private static readonly TimeSpan[] ReportRetries = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)];

    public async Task Send(Notification notification)
    {
        DeliveryReport report;
        try
        {
            report = await sender.SendAsync(notification, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The exception's type only: its message may hold a destination.
            logger.LogError("Notification {Key} could not be sent: the sender failed with {Exception}", notification.Key, e.GetType().Name);
            report = new DeliveryReport { Key = notification.Key, Delivered = false, Attempts = [], Error = $"the sender failed: {e.GetType().Name}" };
        }
        OpsMetrics.Notified(notification, report);
        if (notification.IncidentId.Length == 0)
        {
            // An account notice: its event records whom it went to; the outcome is logged, not kept.
            if (report.Delivered) logger.LogInformation("Account notice {Key} delivered", notification.Key);
            else logger.LogWarning("Account notice {Key} not delivered: {Error}", notification.Key, report.Error);
            return;
        }
        var incident = GrainFactory.GetGrain<IIncidentGrain>(notification.IncidentId);
        foreach (var wait in ReportRetries.Prepend(TimeSpan.Zero))
        {
            await Task.Delay(wait, time);
            try
            {
                await incident.RecordDelivery(report);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Notification {Key}: could not report to incident {IncidentId} ({Exception})", notification.Key, notification.IncidentId, e.GetType().Name);
            }
        }
        // The incident sends it again after NotificationDispatchOptions.RedispatchAfter, having heard nothing.
    }
}
