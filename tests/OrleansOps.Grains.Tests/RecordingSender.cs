using System.Collections.Concurrent;

namespace OrleansOps.Grains.Tests;

/// <summary>A notification sender that delivers everything on its first attempt and remembers what it was given.</summary>
public sealed class RecordingSender : INotificationSender
{
    private readonly ConcurrentQueue<Notification> _sent = new();
    private volatile TaskCompletionSource? _gate;

    /// <summary>Until the returned source is completed, sends are recorded but their reports are held back.</summary>
    public TaskCompletionSource HoldReports() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<Notification> Sent => _sent.ToList();

    public IReadOnlyList<Notification> SentFor(string incidentId) => _sent.Where(n => n.IncidentId == incidentId).ToList();

    public async Task<DeliveryReport> SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        _sent.Enqueue(notification);
        if (_gate is { } gate) await gate.Task;
        return new DeliveryReport
        {
            Key = notification.Key,
            Delivered = true,
            Attempts = [new DeliveryAttempt { Number = 1, At = notification.CreatedAt, Succeeded = true, Outcome = "delivered" }],
        };
    }

    /// <summary>Waits (in real time: the notifier runs on its own) until <paramref name="condition"/> holds for what was sent.</summary>
    public async Task<IReadOnlyList<Notification>> WaitForAsync(string incidentId, Func<IReadOnlyList<Notification>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition(SentFor(incidentId)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; sent: {string.Join(", ", SentFor(incidentId).Select(n => n.Key))}");
            await Task.Delay(20);
        }
        return SentFor(incidentId);
    }
}
