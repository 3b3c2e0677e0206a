using System.Collections.Concurrent;
using OrleansOps.Integrations.Inbound;

namespace OrleansOps.Server.Ingest;

/// <summary>
/// Who sent a batch: the account behind an integration key, how its alerts are normalized, and the account's correlator
/// (a reference kept rather than asked of the grain factory per request, which reads the interface's attributes each time).
/// </summary>
public sealed record IngestSender(KeyBinding Binding, string KeySha256, Routing Routing, ICorrelatorGrain Correlator)
{
    /// <summary>Enough of the key's hash to tell keys apart in a log, never the key.</summary>
    public string KeyFingerprint => KeySha256[..12];
}

/// <summary>
/// From a parsed, valid body to durable incidents: resolve the key to its account, normalize every alert, then one
/// call to the account's correlator, which answers once every change the batch made is durable.
/// </summary>
public sealed class IngestService(IGrainFactory grains, TimeProvider time)
{
    /// <summary>How long this server trusts a key's binding to its account without asking the key's grain again.</summary>
    private static readonly TimeSpan BindingTtl = TimeSpan.FromSeconds(30);
    private const int MaxCachedKeys = 10_000;
    /// <summary>A batch normalized again this often under newer routings means the configuration is being rewritten as it arrives.</summary>
    private const int MaxRoutingRefreshes = 3;

    /// <summary>
    /// Senders by the key's SHA-256: every request would otherwise ask the key's grain and the account before the
    /// correlator. Safe to keep, because the correlator checks the key and the routing's version on every batch and
    /// has the last word.
    /// </summary>
    private readonly ConcurrentDictionary<string, (IngestSender Sender, DateTimeOffset Until)> _senders = new(StringComparer.Ordinal);

    /// <summary>The sender behind <paramref name="key"/>, or null when no account holds that key (as this server last heard).</summary>
    public async Task<IngestSender?> AuthenticateAsync(string key)
    {
        var keySha256 = IntegrationKey.Hash(key);
        var now = time.GetUtcNow();
        if (_senders.TryGetValue(keySha256, out var cached) && cached.Until > now) return cached.Sender;
        return await ResolveAsync(keySha256);
    }

    /// <summary>Asks the key's grain and the account's correlator afresh: the answer for a request that is refused anyway.</summary>
    public Task<IngestSender?> ConfirmAsync(IngestSender sender) => ResolveAsync(sender.KeySha256);

    private async Task<IngestSender?> ResolveAsync(string keySha256)
    {
        _senders.TryRemove(keySha256, out _);
        var binding = await grains.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(keySha256)).Resolve();
        if (binding is null) return null;
        var correlator = grains.GetGrain<ICorrelatorGrain>(binding.AccountId);
        if (await correlator.GetRouting(keySha256) is not { } routing) return null;
        return Remember(new IngestSender(binding, keySha256, routing, correlator));
    }

    private IngestSender Remember(IngestSender sender)
    {
        if (_senders.Count >= MaxCachedKeys) _senders.Clear();
        _senders[sender.KeySha256] = (sender, time.GetUtcNow() + BindingTtl);
        return sender;
    }

    /// <summary>Every alert's receipt, in request order; null when the account no longer holds the key.</summary>
    public async Task<IReadOnlyList<AlertReceipt>?> IngestAsync(IngestSender sender, IReadOnlyList<InboundAlert> alerts)
    {
        for (var refresh = 0; refresh <= MaxRoutingRefreshes; refresh++)
        {
            var context = new NormalizationContext(sender.Routing.KeyDefaultService, sender.Routing.DeclaredServices, time.GetUtcNow())
            {
                ServiceLabels = sender.Routing.ServiceLabels,
                NodeLabels = sender.Routing.NodeLabels,
            };
            var normalized = alerts.Select(alert => AlertNormalizer.Normalize(alert, context)).ToList();
            var result = await sender.Correlator.Ingest(new IngestBatch(sender.KeySha256, sender.Routing.Version, normalized));
            if (result.Receipts is { } receipts) return receipts;
            if (result.UnknownKey)
            {
                _senders.TryRemove(sender.KeySha256, out _);
                return null;
            }
            // The account's configuration changed since this server learned its routing: normalize under the new one.
            sender = Remember(sender with { Routing = result.Stale! });
        }
        throw new InvalidOperationException($"The configuration of account {sender.Binding.AccountId} changed {MaxRoutingRefreshes} times while one batch was being taken; send it again.");
    }
}
