namespace OrleansOps.Grains;

/// <summary>
/// Coalesces the writes of one grain's state: a save asked for while a write is under way joins the next
/// write, which starts when that one ends and carries every change made meanwhile. Each caller's task
/// completes once a write that includes its change is durable. Used from a grain's own scheduler, which is
/// single-threaded, so it needs no lock.
/// </summary>
public sealed class CoalescedWriter(Func<Task> write)
{
    private Task? _writing;
    private Task? _next;

    public Task SaveAsync()
    {
        if (_writing is null || _writing.IsCompleted) return _writing = write();
        return _next ??= WriteAfterAsync(_writing);
    }

    private async Task WriteAfterAsync(Task previous)
    {
        try
        {
            await previous;
        }
        catch
        {
            // That write's own callers see its failure; this one is a fresh attempt.
        }
        _next = null;
        await SaveAsync();
    }
}
