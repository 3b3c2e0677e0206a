namespace OrleansOps.Domain.Tests;

public sealed class TrackedMapTests
{
    [Fact]
    public void A_change_holds_the_keys_touched_since_the_last_one_however_large_that_last_one_was()
    {
        var map = new TrackedMap<int>();
        for (var i = 0; i < 1000; i++) map[$"k{i}"] = i;
        var storm = map.TakeChanges()!;
        Assert.Equal(1000, storm.Set!.Count);
        Assert.Null(map.TakeChanges());
        Assert.False(map.HasChanges);

        map["k7"] = 70;
        map.Remove("k8");
        var next = map.TakeChanges()!;
        Assert.Equal(new Dictionary<string, int> { ["k7"] = 70 }, next.Set);
        Assert.Equal(["k8"], next.Removed);

        var replica = new TrackedMap<int>();
        replica.Apply(storm);
        replica.Apply(next);
        Assert.Equal(map.OrderBy(p => p.Key), replica.OrderBy(p => p.Key));
    }
}
