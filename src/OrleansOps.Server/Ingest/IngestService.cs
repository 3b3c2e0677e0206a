using System.Collections.Concurrent;
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
    /// <summary>How long this server trusts a key's binding to its account without asking the key's grain again.</summary>
    private static readonly TimeSpan BindingTtl = TimeSpan.FromSeconds(30);
    private const int MaxCachedBindings = 10_000;

    /// <summary>
    /// Key bindings by the key's SHA-256: every request of a sender would otherwise ask the key's grain before the
    /// account. Safe to keep a while, because the account is asked on every request and has the last word.
    /// </summary>
    private readonly ConcurrentDictionary<string, (KeyBinding Binding, DateTimeOffset Until)> _bindings = new(StringComparer.Ordinal);

    /// <summary>The sender behind <paramref name="key"/>, or null when no account holds that key.</summary>
    public async Task<IngestSender?> AuthenticateAsync(string key)
    {
        var keySha256 = IntegrationKey.Hash(key);
        var now = time.GetUtcNow();
        if (_bindings.TryGetValue(keySha256, out var cached) && cached.Until > now
            && await RoutingAsync(cached.Binding, keySha256) is { } fast)
            return fast;
        _bindings.TryRemove(keySha256, out _); // expired, or the account no longer holds the key: ask the key itself
        var binding = await grains.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(keySha256)).Resolve();
        if (binding is null) return null;
        var sender = await RoutingAsync(binding, keySha256);
        if (sender is not null)
        {
            if (_bindings.Count >= MaxCachedBindings) _bindings.Clear();
            _bindings[keySha256] = (binding, now + BindingTtl);
        }
        return sender;
    }

    /// <summary>The account's configuration has the last word: a key it no longer lists is refused even if its binding lingers.</summary>
    private async Task<IngestSender?> RoutingAsync(KeyBinding binding, string keySha256) =>
        await grains.GetGrain<IAccountGrain>(binding.AccountId).GetRouting(keySha256) is { } routing
            ? new IngestSender(binding, routing, keySha256[..12])
            : null;

    public async Task<IReadOnlyList<AlertReceipt>> IngestAsync(IngestSender sender, IReadOnlyList<InboundAlert> alerts)
    {
        var (binding, routing, _) = sender;
        // The account's configuration, read on this request, rather than the binding, which this server may have kept a while.
        var context = new NormalizationContext(routing.KeyDefaultService, routing.DeclaredServices, time.GetUtcNow());
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
