using OrleansOps.Integrations.Inbound;

namespace OrleansOps.Server.Ingest;

public enum IngestStatus
{
    Accepted,
    UnknownKey,
}

public sealed record IngestResult(IngestStatus Status, IReadOnlyList<AlertReceipt> Receipts);

/// <summary>
/// From a parsed, valid body to persisted incidents: resolve the key to its account, normalize every alert,
/// then make one call per destination correlator (account/service). Returns when every correlator has
/// persisted what the batch changed.
/// </summary>
public sealed class IngestService(IGrainFactory grains, TimeProvider time)
{
    public async Task<IngestResult> IngestAsync(string key, IReadOnlyList<InboundAlert> alerts)
    {
        var keySha256 = IntegrationKey.Hash(key);
        var binding = await grains.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(keySha256)).Resolve();
        if (binding is null) return new IngestResult(IngestStatus.UnknownKey, []);
        // The account's configuration has the last word: a key it no longer lists is refused even if its binding lingers.
        var routing = await grains.GetGrain<IAccountGrain>(binding.AccountId).GetRouting(keySha256);
        if (routing is null) return new IngestResult(IngestStatus.UnknownKey, []);

        var context = new NormalizationContext(binding.DefaultService, routing.DeclaredServices, time.GetUtcNow());
        var normalized = alerts.Select(alert => AlertNormalizer.Normalize(alert, context)).ToList();

        var receipts = new AlertReceipt[normalized.Count];
        await Task.WhenAll(normalized
            .Select((alert, index) => (alert, index))
            .GroupBy(entry => entry.alert.Service, StringComparer.Ordinal)
            .Select(async service =>
            {
                var batch = new CorrelationBatch
                {
                    AccountId = binding.AccountId,
                    Service = service.Key,
                    GroupBy = routing.GroupBy,
                    Alerts = service.Select(entry => entry.alert).ToList(),
                };
                var serviceReceipts = await grains.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(binding.AccountId, service.Key)).Ingest(batch);
                foreach (var (entry, receipt) in service.Zip(serviceReceipts)) receipts[entry.index] = receipt;
            }));
        return new IngestResult(IngestStatus.Accepted, receipts);
    }
}
