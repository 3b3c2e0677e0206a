using System.Text;

namespace OrleansOps.Domain;

/// <summary>
/// The Alertmanager-compatible fingerprint (prometheus/common model.LabelSet.Fingerprint): FNV-1a 64 over the
/// label pairs sorted by name, each name and value followed by the byte 0xFF, printed as 16 lower-case hex digits.
/// Go compares strings byte-wise, so names are ordered by their UTF-8 bytes, not by UTF-16 code units.
/// </summary>
public static class AlertFingerprint
{
    private const ulong OffsetBasis = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;
    private const byte Separator = 0xFF;

    public static string Of(IReadOnlyDictionary<string, string> labels)
    {
        var pairs = labels
            .Select(pair => (Name: Encoding.UTF8.GetBytes(pair.Key), Value: Encoding.UTF8.GetBytes(pair.Value)))
            .OrderBy(pair => pair.Name, Utf8ByteOrder.Instance);

        var hash = OffsetBasis;
        foreach (var (name, value) in pairs)
        {
            hash = Add(hash, name);
            hash = Add(hash, Separator);
            hash = Add(hash, value);
            hash = Add(hash, Separator);
        }
        return hash.ToString("x16");
    }

    private static ulong Add(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = Add(hash, b);
        }
        return hash;
    }

    private static ulong Add(ulong hash, byte b) => (hash ^ b) * Prime;

    private sealed class Utf8ByteOrder : IComparer<byte[]>
    {
        public static readonly Utf8ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
