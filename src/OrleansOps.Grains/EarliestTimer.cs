namespace OrleansOps.Grains;

/// <summary>
/// A one-shot grain timer that keeps the earliest time asked for: asking for a later time while an earlier one is
/// planned changes nothing. Used from the grain's own scheduler, so it needs no lock.
/// </summary>
public sealed class EarliestTimer(IGrainBase grain, TimeProvider time, Func<Task> callback)
{
    private IGrainTimer? _timer;
    private DateTimeOffset? _dueAt;

    /// <summary>Fires the callback within <paramref name="after"/>, or at the earlier time already planned.</summary>
    public void Within(TimeSpan after) => At(time.GetUtcNow() + after);

    /// <summary>
    /// Fires the callback at <paramref name="due"/> (at once when it has passed), or at the earlier time already planned.
    /// An instant, not a delay: a caller that worked out when something happens may have taken a while to get here.
    /// </summary>
    public void At(DateTimeOffset due)
    {
        if (_dueAt is { } planned && planned <= due) return;
        _timer?.Dispose();
        _dueAt = due;
        var wait = due - time.GetUtcNow();
        _timer = grain.RegisterGrainTimer(FireAsync, new GrainTimerCreationOptions
        {
            DueTime = wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            Period = Timeout.InfiniteTimeSpan,
        });
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
