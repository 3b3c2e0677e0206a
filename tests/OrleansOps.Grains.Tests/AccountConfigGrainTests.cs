namespace OrleansOps.Grains.Tests;

/// <summary>Configuration writes under a precondition, judged by the account grain itself.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AccountConfigGrainTests(ClusterFixture fixture)
{
    private static AccountConfig Config(string id, string name) => new()
    {
        Id = id,
        Name = name,
        Services = [new ServiceDefinition { Id = "api" }],
    };

    [Fact]
    public async Task A_write_applies_only_while_its_precondition_holds()
    {
        var id = "cfg-" + Guid.NewGuid().ToString("N")[..10];
        var account = fixture.Grains.GetGrain<IAccountGrain>(id);

        var onNothing = await account.ApplyConfig(Config(id, "ghost"), ConfigSource.Api, new ConfigPrecondition { IfExists = true });
        Assert.True(onNothing.PreconditionFailed);
        Assert.False(onNothing.Existed);
        Assert.Null(await account.GetConfig());

        var created = await account.ApplyConfig(Config(id, "first"), ConfigSource.Api, new ConfigPrecondition { IfNew = true });
        Assert.True(created is { Applied: true, Created: true, Version: 1 });
        var createdAgain = await account.ApplyConfig(Config(id, "clobber"), ConfigSource.Api, new ConfigPrecondition { IfNew = true });
        Assert.True(createdAgain is { Applied: false, PreconditionFailed: true, Existed: true, Version: 1 });

        var replaced = await account.ApplyConfig(Config(id, "second"), ConfigSource.Api, new ConfigPrecondition { IfVersionIn = [7, 1] });
        Assert.True(replaced is { Applied: true, Version: 2 });
        var stale = await account.ApplyConfig(Config(id, "lost"), ConfigSource.Api, new ConfigPrecondition { IfVersionIn = [1] });
        Assert.True(stale is { Applied: false, PreconditionFailed: true, Version: 2 });
        Assert.Equal("second", (await account.GetConfig())!.Name);
        Assert.Equal(2, (await account.Describe())!.ConfigVersion);
    }

    [Fact]
    public async Task Of_writers_holding_the_same_version_only_the_first_applies()
    {
        var id = "cfg-" + Guid.NewGuid().ToString("N")[..10];
        var account = fixture.Grains.GetGrain<IAccountGrain>(id);
        Assert.True((await account.ApplyConfig(Config(id, "base"), ConfigSource.Api)).Applied);

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            account.ApplyConfig(Config(id, $"writer {i}"), ConfigSource.Api, new ConfigPrecondition { IfVersionIn = [1] })));

        var winner = Assert.Single(results, r => r.Applied);
        Assert.Equal(2, winner.Version);
        Assert.All(results.Where(r => !r.Applied), r => Assert.True(r is { PreconditionFailed: true, Version: 2 }));
        Assert.Equal(2, (await account.Describe())!.ConfigVersion);
    }

    [Fact]
    public async Task The_fleet_pages_by_risk_from_after_an_entry_even_one_that_has_moved()
    {
        var fleet = fixture.Grains.GetGrain<IFleetGrain>(GrainKeys.Fleet);
        var prefix = "fleetpage-" + Guid.NewGuid().ToString("N")[..6];
        var entries = Enumerable.Range(0, 5).Select(i => new FleetEntry
        {
            AccountId = $"{prefix}-{i}", Name = $"{i}", Status = i == 0 ? SloHealth.Breached : SloHealth.Healthy, RemainingMinutes = 100 + i,
        }).ToList();
        foreach (var entry in entries) await fleet.Update(entry);

        var whole = (await fleet.List(10_000, null)).Items.Select(e => e.AccountId).ToList();
        var walked = new List<string>();
        FleetEntry? after = null;
        for (var page = await fleet.List(2, after); ; page = await fleet.List(2, after))
        {
            walked.AddRange(page.Items.Select(e => e.AccountId));
            Assert.Equal(page.More, walked.Count < whole.Count);
            if (!page.More) break;
            after = page.Items[^1];
        }
        Assert.Equal(whole, walked);

        // From an entry the fleet no longer holds as it was: the page follows its place in the order.
        var moved = entries[2] with { RemainingMinutes = 50 };
        await fleet.Update(moved);
        var next = await fleet.List(1, entries[2]);
        var following = (await fleet.List(10_000, null)).Items.SkipWhile(e => e.AccountId != entries[3].AccountId).First();
        Assert.Equal(following.AccountId, Assert.Single(next.Items).AccountId);
    }

    [Fact]
    public async Task An_unchanged_file_at_start_up_leaves_edits_made_over_the_API_and_a_changed_file_applies()
    {
        var id = "cfg-" + Guid.NewGuid().ToString("N")[..10];
        var account = fixture.Grains.GetGrain<IAccountGrain>(id);
        Assert.True((await account.ApplyConfig(Config(id, "from the file"), ConfigSource.File("a.yaml", "h1"))).Applied);
        Assert.True((await account.ApplyConfig(Config(id, "edited over the API"), ConfigSource.Api)).Applied);

        var restart = await account.ApplyConfig(Config(id, "from the file"), ConfigSource.File("a.yaml", "h1"));
        Assert.False(restart.Applied);
        Assert.Equal("edited over the API", (await account.GetConfig())!.Name);

        Assert.True((await account.ApplyConfig(Config(id, "the file changed"), ConfigSource.File("a.yaml", "h2"))).Applied);
        Assert.Equal("the file changed", (await account.GetConfig())!.Name);
    }
}
