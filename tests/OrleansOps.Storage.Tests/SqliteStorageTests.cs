using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace OrleansOps.Storage.Tests;

public sealed class SqliteStorageTests : StoreFolder
{
    private readonly Serializer _serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private SqliteGrainStorage Storage => new(Store, _serializer, TimeProvider.System);

    private static GrainId Grain(string key) => GrainId.Create("correlator", key);

    private sealed class Holder<T> : IGrainState<T> where T : new()
    {
        [System.Diagnostics.CodeAnalysis.AllowNull] public T State { get; set; } = new();
        public string? ETag { get; set; }
        public bool RecordExists { get; set; }
    }

    [Fact]
    public async Task Written_state_reads_back_with_its_etag()
    {
        var written = new Holder<CorrelatorState>();
        written.State.FiringAlerts["abc"] = "inc-1";
        written.State.Counters.Received = 7;
        await Storage.WriteStateAsync("correlator", Grain("acme/api"), written);
        Assert.Equal("1", written.ETag);
        Assert.True(written.RecordExists);

        var read = new Holder<CorrelatorState>();
        await Storage.ReadStateAsync("correlator", Grain("acme/api"), read);
        Assert.True(read.RecordExists);
        Assert.Equal("1", read.ETag);
        Assert.Equal("inc-1", read.State.FiringAlerts["abc"]);
        Assert.Equal(7, read.State.Counters.Received);
    }

    [Fact]
    public async Task A_missing_record_reads_as_new_state()
    {
        var read = new Holder<CorrelatorState>();
        await Storage.ReadStateAsync("correlator", Grain("nobody/none"), read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Empty(read.State.FiringAlerts);
    }

    [Fact]
    public async Task A_stale_etag_is_refused_and_changes_nothing()
    {
        var first = new Holder<CorrelatorState>();
        await Storage.WriteStateAsync("correlator", Grain("acme/api"), first);
        var second = new Holder<CorrelatorState> { ETag = first.ETag };
        second.State.Counters.Received = 2;
        await Storage.WriteStateAsync("correlator", Grain("acme/api"), second);

        var stale = new Holder<CorrelatorState> { ETag = first.ETag };
        stale.State.Counters.Received = 99;
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("correlator", Grain("acme/api"), stale));
        var fresh = new Holder<CorrelatorState>();
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("correlator", Grain("acme/api"), fresh));

        var read = new Holder<CorrelatorState>();
        await Storage.ReadStateAsync("correlator", Grain("acme/api"), read);
        Assert.Equal(2, read.State.Counters.Received);
        Assert.Equal("2", read.ETag);
    }

    [Fact]
    public async Task Concurrent_writes_commit_together_and_a_stale_one_fails_alone()
    {
        var stale = new Holder<CorrelatorState>();
        await Storage.WriteStateAsync("correlator", Grain("contended"), stale);
        await Storage.WriteStateAsync("correlator", Grain("contended"), new Holder<CorrelatorState> { ETag = stale.ETag });

        var writes = Enumerable.Range(0, 300).Select(async i =>
        {
            var holder = new Holder<CorrelatorState>();
            holder.State.Counters.Received = i;
            await Storage.WriteStateAsync("correlator", Grain($"many-{i}"), holder);
            return holder.ETag;
        }).ToList();
        var staleWrite = Storage.WriteStateAsync("correlator", Grain("contended"), stale);

        Assert.All(await Task.WhenAll(writes), etag => Assert.Equal("1", etag));
        await Assert.ThrowsAsync<InconsistentStateException>(() => staleWrite);
        for (var i = 0; i < 300; i += 37)
        {
            var read = new Holder<CorrelatorState>();
            await Storage.ReadStateAsync("correlator", Grain($"many-{i}"), read);
            Assert.Equal(i, read.State.Counters.Received);
        }
    }

    [Fact]
    public async Task State_names_keep_grains_apart_and_clear_removes_one()
    {
        var a = new Holder<CorrelatorState>();
        a.State.Counters.Received = 1;
        var b = new Holder<CorrelatorState>();
        b.State.Counters.Received = 2;
        await Storage.WriteStateAsync("one", Grain("same"), a);
        await Storage.WriteStateAsync("two", Grain("same"), b);
        await Storage.ClearStateAsync("one", Grain("same"), a);

        var readOne = new Holder<CorrelatorState>();
        var readTwo = new Holder<CorrelatorState>();
        await Storage.ReadStateAsync("one", Grain("same"), readOne);
        await Storage.ReadStateAsync("two", Grain("same"), readTwo);
        Assert.False(readOne.RecordExists);
        Assert.Equal(2, readTwo.State.Counters.Received);
    }

    [Fact]
    public async Task State_survives_reopening_the_database()
    {
        var written = new Holder<CorrelatorState>();
        written.State.OpenGroups["{alertname=\"Down\"}"] = "inc-9";
        await Storage.WriteStateAsync("correlator", Grain("acme/db"), written);
        await ReopenAsync();

        var read = new Holder<CorrelatorState>();
        await Storage.ReadStateAsync("correlator", Grain("acme/db"), read);
        Assert.Equal("inc-9", read.State.OpenGroups["{alertname=\"Down\"}"]);
    }

    [Fact]
    public async Task Reminders_upsert_read_by_grain_and_by_hash_range_and_remove_by_etag()
    {
        var table = new SqliteReminderTable(Store, Options.Create(new ClusterOptions { ServiceId = "test", ClusterId = "test" }));
        var grains = Enumerable.Range(0, 20).Select(i => GrainId.Create("incident", $"inc-{i:d3}")).ToList();
        var start = new DateTime(2026, 11, 26, 10, 0, 0, DateTimeKind.Utc);
        var etags = new Dictionary<GrainId, string>();
        foreach (var grain in grains)
            etags[grain] = (await table.UpsertRow(new ReminderEntry { GrainId = grain, ReminderName = "escalate", StartAt = start, Period = TimeSpan.FromMinutes(1) }))!;

        var one = await table.ReadRow(grains[3], "escalate");
        Assert.NotNull(one);
        Assert.Equal(start, one!.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(1), one.Period);
        Assert.Single((await table.ReadRows(grains[3])).Reminders);

        // Any split of the ring into two ranges returns every reminder exactly once.
        var pivot = grains[7].GetUniformHashCode();
        var left = await table.ReadRows(pivot, pivot / 2);
        var right = await table.ReadRows(pivot / 2, pivot);
        Assert.Equal(20, left.Reminders.Count + right.Reminders.Count);
        Assert.Equal(20, left.Reminders.Concat(right.Reminders).Select(r => r.GrainId).Distinct().Count());

        var updated = await table.UpsertRow(new ReminderEntry { GrainId = grains[0], ReminderName = "escalate", StartAt = start.AddMinutes(5), Period = TimeSpan.FromMinutes(2) });
        Assert.NotEqual(etags[grains[0]], updated);
        Assert.False(await table.RemoveRow(grains[0], "escalate", etags[grains[0]]));
        Assert.True(await table.RemoveRow(grains[0], "escalate", updated!));
        Assert.Null(await table.ReadRow(grains[0], "escalate"));

        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(0, 0)).Reminders);
    }
}
