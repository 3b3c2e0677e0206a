using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OrleansOps.Bench;

/// <summary>One webhook notification as it arrived: its idempotency key (incident, escalation step and target), and whether its signature held.</summary>
public sealed record ReceivedNotification(string Key, string IncidentId, DateTimeOffset At, bool SignatureValid);

/// <summary>
/// Every delivery of the signed <c>webhook</c> channel (docs/escalation.md), kept to count duplicates: the server names
/// each notification by its key, <c>&lt;incident&gt;/g&lt;generation&gt;.r&lt;round&gt;.l&lt;level&gt;/channel:&lt;id&gt;</c>, in the body and in
/// <c>X-OrleansOps-Idempotency-Key</c>, the same on every retry and resend; the same key delivered twice is one page
/// delivered twice.
/// </summary>
public sealed class NotificationLedger(string secret)
{
    private readonly ConcurrentQueue<ReceivedNotification> _received = new();
    private readonly byte[] _secret = Encoding.UTF8.GetBytes(secret);
    private long _lastArrivalTicks = DateTimeOffset.UtcNow.UtcTicks;

    public IReadOnlyList<ReceivedNotification> Received => _received.ToList();
    public int Count => _received.Count;
    public DateTimeOffset LastArrival => new(Interlocked.Read(ref _lastArrivalTicks), TimeSpan.Zero);

    /// <summary>Deliveries that were not a well-formed notification (no key, or a header that differs from the body), and the first of them.</summary>
    public int Malformed => _malformed;
    public string? FirstMalformed { get; private set; }
    private int _malformed;

    public void Add(WebhookDelivery delivery)
    {
        // Never throws: the receiver answers 200 whatever arrives, or the notifier would retry and make a duplicate of its own.
        try
        {
            using var body = JsonDocument.Parse(delivery.Body);
            var key = body.RootElement.GetProperty("key").GetString()!;
            var header = delivery.Headers["X-OrleansOps-Idempotency-Key"];
            if (header != key) throw new FormatException($"the idempotency header '{header}' differs from the body's key '{key}'");
            _received.Enqueue(new ReceivedNotification(key, body.RootElement.GetProperty("incidentId").GetString()!, delivery.At, SignatureHolds(delivery)));
            Interlocked.Exchange(ref _lastArrivalTicks, delivery.At.UtcTicks);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            if (Interlocked.Increment(ref _malformed) == 1) FirstMalformed = $"{e.Message}: {delivery.Text[..Math.Min(delivery.Text.Length, 300)]}";
        }
    }

    /// <summary>Each key delivered more than once, with how often.</summary>
    public IReadOnlyList<(string Key, int Times)> Duplicates() =>
        _received.GroupBy(r => r.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => (g.Key, g.Count())).ToList();

    /// <summary>HMAC-SHA256 with the channel's secret over "{timestamp}.{body}", as docs/escalation.md tells a receiver to check it.</summary>
    private bool SignatureHolds(WebhookDelivery delivery)
    {
        var timestamp = delivery.Headers["X-OrleansOps-Timestamp"];
        var signature = delivery.Headers["X-OrleansOps-Signature"];
        if (timestamp is null || signature is null) return false;
        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(delivery.Body).ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
    }
}
