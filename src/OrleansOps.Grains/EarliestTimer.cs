namespace OrleansOps.Grains;

/// <summary>
/// A one-shot grain timer that keeps the earliest time asked for: asking for a later time while an earlier one is
/// planned changes nothing. Used from the grain's own scheduler, so it needs no lock.
/// </summary>
public sealed class EarliestTimer(IGrainBase grain, TimeProvider time, Func<Task> callback, bool keepAlive = false)
{
    private IGrainTimer? _timer;
    private DateTimeOffset? _dueAt;

    /// <summary>Fires the callback within <paramref name="after"/>, or at the earlier time already planned.</summary>
    public void Within(TimeSpan after)
    {
        var due = time.GetUtcNow() + after;
        if (_dueAt is { } planned && planned <= due) return;
        _timer?.Dispose();
        _dueAt = due;
        _timer = grain.RegisterGrainTimer(FireAsync, new GrainTimerCreationOptions { DueTime = after, Period = Timeout.InfiniteTimeSpan, KeepAlive = keepAlive });
    }

    public void Cancel()
    {
        _timer?.Dispose();
        _timer = null;
        _dueAt = null;
    }

    private Task FireAsync()
    {
        _timer = null;
        _dueAt = null;
        return callback();
    }
}
