namespace OrleansOps.Grains.Tests;

public sealed class CoalescedWriterTests
{
    [Fact]
    public async Task Saves_asked_for_during_a_write_share_the_next_write()
    {
        var writes = new List<TaskCompletionSource>();
        var writer = new CoalescedWriter(() =>
        {
            var write = new TaskCompletionSource();
            writes.Add(write);
            return write.Task;
        });

        var first = writer.SaveAsync();
        var second = writer.SaveAsync();
        var third = writer.SaveAsync();
        Assert.Single(writes);

        writes[0].SetResult();
        await first;
        Assert.False(second.IsCompleted, "a change made during the first write is not durable until the next one");
        await WaitUntil(() => writes.Count == 2);
        Assert.Same(second, third);

        writes[1].SetResult();
        await Task.WhenAll(second, third);
        Assert.Equal(2, writes.Count);
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_the_next_write_still_runs()
    {
        var calls = 0;
        var failFirst = new TaskCompletionSource();
        var writer = new CoalescedWriter(() => ++calls == 1 ? failFirst.Task : Task.CompletedTask);
        var first = writer.SaveAsync();
        var second = writer.SaveAsync();
        failFirst.SetException(new IOException("disk full"));
        await Assert.ThrowsAsync<IOException>(() => first);
        await second;
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_write_that_finishes_at_once_does_not_hold_up_the_next()
    {
        var calls = 0;
        var writer = new CoalescedWriter(() =>
        {
            calls++;
            return Task.CompletedTask;
        });
        await writer.SaveAsync();
        await writer.SaveAsync();
        Assert.Equal(2, calls);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
