using OrleansOps.Integrations.Inbound;

namespace OrleansOps.Server.Ingest;

/// <summary>Who sent a batch: the account behind an integration key and how that account routes alerts.</summary>
public sealed record IngestSender(KeyBinding Binding, Routing Routing, string KeyFingerprint);

/// <summary>
/// From a parsed, valid body to persisted incidents: resolve the key to its account, normalize every alert,
/// then make one call per destination correlator (account/service). Returns when every correlator has
/// persisted what the batch changed.
/// </summary>
public sealed class IngestService(IGrainFactory grains, TimeProvider time)
{
    /// <summary>The sender behind <paramref name="key"/>, or null when no account holds that key.</summary>
    public async Task<IngestSender?> AuthenticateAsync(string key)
    {
        var keySha256 = IntegrationKey.Hash(key);
        var binding = await grains.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(keySha256)).Resolve();
        if (binding is null) return null;
        // The account's configuration has the last word: a key it no longer lists is refused even if its binding lingers.
        var routing = await grains.GetGrain<IAccountGrain>(binding.AccountId).GetRouting(keySha256);
        return routing is null ? null : new IngestSender(binding, routing, keySha256[..12]);
    }

    public async Task<IReadOnlyList<AlertReceipt>> IngestAsync(IngestSender sender, IReadOnlyList<InboundAlert> alerts)
    {
        var (binding, routing, _) = sender;
        var context = new NormalizationContext(binding.DefaultService, routing.DeclaredServices, time.GetUtcNow());
        var normalized = alerts.Select(alert => AlertNormalizer.Normalize(alert, context)).ToList();

        var receipts = new AlertReceipt[normalized.Count];
        var byService = normalized
            .Select((alert, index) => (alert, index))
            .GroupBy(entry => entry.alert.Service, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, StringComparer.Ordinal);
        // Upstream services first: a cause and its symptom in one request must not both open an incident.
        foreach (var wave in Topology.Waves(byService.Keys, routing.Upstream))
            await Task.WhenAll(wave.Select(name => byService[name]).Select(async service =>
            {
                var batch = new CorrelationBatch
                {
                    AccountId = binding.AccountId,
                    Service = service.Key,
                    GroupBy = routing.GroupBy,
                    Suppression = routing.Suppression,
                    Window = routing.Window,
                    Upstream = routing.Upstream.GetValueOrDefault(service.Key) ?? [],
                    Inhibit = routing.Inhibit,
                    Flapping = routing.Flapping,
                    StormPerMinute = routing.StormPerMinute,
                    SymptomSeverity = routing.SymptomSeverity,
                    SymptomWait = routing.SymptomWait,
                    Alerts = service.Select(entry => entry.alert).ToList(),
                };
                var serviceReceipts = await grains.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(binding.AccountId, service.Key)).Ingest(batch);
                foreach (var (entry, receipt) in service.Zip(serviceReceipts)) receipts[entry.index] = receipt;
            }));
        return receipts;
    }
}
