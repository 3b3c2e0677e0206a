using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// The signature of OrleansOps' generic webhook, for senders and receivers alike. A request carries
/// <list type="bullet">
/// <item><c>X-OrleansOps-Timestamp</c>: Unix seconds when the attempt was made;</item>
/// <item><c>X-OrleansOps-Signature</c>: <c>sha256=</c> and the lower-case hex HMAC-SHA256, keyed with the channel's secret
/// (its UTF-8 bytes), of the timestamp, a dot, and the raw body bytes: <c>"{timestamp}.{body}"</c>;</item>
/// <item><c>X-OrleansOps-Idempotency-Key</c>: the notification's key, the same on every retry.</item>
/// </list>
/// A receiver recomputes the HMAC over the body exactly as received (before any JSON parsing), compares in constant
/// time, and rejects timestamps outside a tolerance so that a captured request cannot be replayed later.
/// </summary>
public static class WebhookSignature
{
    public const string TimestampHeader = "X-OrleansOps-Timestamp";
    public const string SignatureHeader = "X-OrleansOps-Signature";
    public const string IdempotencyKeyHeader = "X-OrleansOps-Idempotency-Key";
    public const string Prefix = "sha256=";

    /// <summary>The default replay window of <see cref="Verify(string, string?, ReadOnlySpan{byte}, string?, DateTimeOffset, TimeSpan?)"/>.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The <c>X-OrleansOps-Signature</c> value for a body sent at <paramref name="unixSeconds"/>.</summary>
    public static string Compute(string secret, long unixSeconds, ReadOnlySpan<byte> body) =>
        Prefix + Convert.ToHexStringLower(Mac(secret, unixSeconds.ToString(CultureInfo.InvariantCulture), body));

    /// <inheritdoc cref="Compute(string, long, ReadOnlySpan{byte})"/>
    public static string Compute(string secret, long unixSeconds, string body) => Compute(secret, unixSeconds, Encoding.UTF8.GetBytes(body));

    /// <summary>
    /// True when <paramref name="signatureHeader"/> is the HMAC of <paramref name="timestampHeader"/> and
    /// <paramref name="body"/> under <paramref name="secret"/>, and the timestamp lies within <paramref name="tolerance"/>
    /// (default 5 minutes) of <paramref name="now"/>. The comparison takes the same time whichever byte differs.
    /// </summary>
    public static bool Verify(
        string secret, string? timestampHeader, ReadOnlySpan<byte> body, string? signatureHeader, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (!IsFresh(timestampHeader, now, tolerance ?? DefaultTolerance)) return false;
        if (!TryDecode(signatureHeader, Prefix, out var presented)) return false;
        return CryptographicOperations.FixedTimeEquals(presented, Mac(secret, timestampHeader!, body));
    }

    /// <summary>Whether <paramref name="timestampHeader"/> is Unix seconds within <paramref name="tolerance"/> of <paramref name="now"/>, either way.</summary>
    internal static bool IsFresh(string? timestampHeader, DateTimeOffset now, TimeSpan tolerance) =>
        long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var unixSeconds)
        && unixSeconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
        && (now - DateTimeOffset.FromUnixTimeSeconds(unixSeconds)).Duration() <= tolerance;

    /// <inheritdoc cref="Verify(string, string?, ReadOnlySpan{byte}, string?, DateTimeOffset, TimeSpan?)"/>
    public static bool Verify(string secret, string? timestampHeader, string body, string? signatureHeader, DateTimeOffset now, TimeSpan? tolerance = null) =>
        Verify(secret, timestampHeader, Encoding.UTF8.GetBytes(body), signatureHeader, now, tolerance);

    private static byte[] Mac(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        // Appended piece by piece, so the body is not copied to put the timestamp in front of it.
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp));
        hmac.AppendData("."u8);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    /// <summary>The MAC of a header written as <paramref name="prefix"/> and the hex of an HMAC-SHA256.</summary>
    internal static bool TryDecode(string? signatureHeader, string prefix, out byte[] mac)
    {
        mac = [];
        var hex = signatureHeader?.Trim();
        // 32 bytes of SHA-256, as 64 hex digits after the scheme.
        if (hex is null || !hex.StartsWith(prefix, StringComparison.Ordinal) || hex.Length != prefix.Length + 64) return false;
        try
        {
            mac = Convert.FromHexString(hex.AsSpan(prefix.Length));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
