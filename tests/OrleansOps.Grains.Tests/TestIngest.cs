namespace OrleansOps.Grains.Tests;

/// <summary>
/// Sends alerts to an account's correlator as the web tier does: with an integration key the account holds (given to
/// the account the first time, if it has none), under the current routing version.
/// </summary>
public static class TestIngest
{
    public static readonly string KeySha256 = IntegrationKey.Hash("grains-test-integration-key");

    public static async Task<IReadOnlyList<AlertReceipt>> IngestAsync(this IGrainFactory grains, string account, IReadOnlyList<NormalizedAlert> alerts)
    {
        var correlator = grains.GetGrain<ICorrelatorGrain>(account);
        var routing = await correlator.GetRouting(KeySha256) ?? await GiveKeyAsync(grains, account);
        while (true)
        {
            var result = await correlator.Ingest(new IngestBatch(KeySha256, routing.Version, alerts));
            if (result.Receipts is { } receipts) return receipts;
            routing = result.Stale ?? throw new InvalidOperationException($"Account {account} does not hold the test key.");
        }
    }

    private static async Task<Routing> GiveKeyAsync(IGrainFactory grains, string account)
    {
        var config = await grains.GetGrain<IAccountGrain>(account).GetConfig()
            ?? throw new InvalidOperationException($"Account {account} has no configuration.");
        var applied = await grains.GetGrain<IAccountGrain>(account).ApplyConfig(
            config with { IntegrationKeys = [.. config.IntegrationKeys, new IntegrationKeyDefinition { Name = "test", KeySha256 = KeySha256 }] }, ConfigSource.Api);
        if (!applied.Applied) throw new InvalidOperationException(string.Join("; ", applied.Errors));
        return (await grains.GetGrain<ICorrelatorGrain>(account).GetRouting(KeySha256))!;
    }

    /// <summary>The whole chronicle of an incident, read a page at a time; null when there is no such incident.</summary>
    public static async Task<List<ChronicleEntry>?> ChronicleAsync(this IIncidentGrain incident)
    {
        var chronicle = new List<ChronicleEntry>();
        while (true)
        {
            var page = await incident.GetChronicle(chronicle.Count > 0 ? chronicle[^1].Seq : 0, 500);
            if (page is null) return null;
            chronicle.AddRange(page);
            if (page.Count < 500) return chronicle;
        }
    }
}
