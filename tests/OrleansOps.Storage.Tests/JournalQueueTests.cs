using OrleansOps.Abstractions;

namespace OrleansOps.Storage.Tests;

/// <summary>
/// Flush numbers: a caller that shares the journal waits for the flush that carries an append, once for the appends of
/// many grains, and learns no more than the appends' own tasks would tell it.
/// </summary>
public sealed class JournalQueueTests
{
    private static JournalEntry Entry(string stream, long seq) => new() { Stream = stream, Account = "acme", Seq = seq, Payload = [1] };

    [Fact]
    public async Task A_flush_number_completes_with_the_flush_that_carries_the_append_and_not_before()
    {
        var queue = new JournalQueue();
        var first = queue.Append(Entry("incident/a", 1));
        var alongside = queue.Append(Entry("incident/b", 1));
        Assert.Equal(1, queue.FlushOf(first));
        Assert.Equal(1, queue.FlushOf(alongside));

        var batch = queue.Take(TimeSpan.Zero)!;
        var next = queue.Append(Entry("incident/a", 2));
        Assert.Equal(1, queue.FlushOf(first)); // being written
        Assert.Equal(2, queue.FlushOf(next));
        var waitFirst = queue.WhenFlushed(1);
        var waitNext = queue.WhenFlushed(2);
        Assert.False(waitFirst.IsCompleted);

        batch.Complete();
        await waitFirst.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal(0, queue.FlushOf(first)); // durable: nothing to wait for
        Assert.True(queue.WhenFlushed(1).IsCompletedSuccessfully);
        Assert.False(waitNext.IsCompleted);
        Assert.False(next.IsCompleted);

        queue.Take(TimeSpan.Zero)!.Complete();
        await waitNext.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(next.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_flush_the_journal_gave_up_never_reads_as_durable()
    {
        var queue = new JournalQueue();
        var appended = queue.Append(Entry("incident/a", 1));
        var flush = queue.FlushOf(appended)!.Value;
        var waiting = queue.WhenFlushed(flush);
        queue.Abandon();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queue.WhenFlushed(flush));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queue.WhenFlushed(queue.FlushOf(appended)!.Value));
    }
}
