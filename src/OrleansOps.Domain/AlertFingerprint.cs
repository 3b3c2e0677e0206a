using System.Buffers;
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
    /// <summary>Longest label text encoded on the stack; longer ones borrow a pooled buffer.</summary>
    private const int StackEncodeLimit = 256;

    /// <remarks>
    /// It runs for every alert without a dedup key, so the only allocation is the result: the names are sorted in
    /// pooled arrays and each text is encoded into a stack buffer as it is hashed.
    /// </remarks>
    public static string Of(IReadOnlyDictionary<string, string> labels)
    {
        var count = labels.Count;
        var names = ArrayPool<string>.Shared.Rent(count);
        var values = ArrayPool<string>.Shared.Rent(count);
        try
        {
            var collected = 0;
            var surrogates = false;
            // A Dictionary enumerated through the interface would box its enumerator: one allocation per alert.
            if (labels is Dictionary<string, string> dictionary)
                foreach (var pair in dictionary) Collect(pair);
            else
                foreach (var pair in labels) Collect(pair);

            // Without surrogates, ordinal UTF-16 order is code point order, which is UTF-8 byte order. Names outside
            // the Basic Multilingual Plane (or broken ones) take the general path.
            if (surrogates) return OfByUtf8Order(labels);
            Array.Sort(names, values, 0, collected, StringComparer.Ordinal);

            var hash = OffsetBasis;
            for (var i = 0; i < collected; i++)
            {
                hash = AddUtf8(hash, names[i]);
                hash = Add(hash, Separator);
                hash = AddUtf8(hash, values[i]);
                hash = Add(hash, Separator);
            }
            return hash.ToString("x16");

            void Collect(KeyValuePair<string, string> pair)
            {
                names[collected] = pair.Key;
                values[collected] = pair.Value;
                collected++;
                surrogates |= HasSurrogates(pair.Key);
            }
        }
        finally
        {
            ArrayPool<string>.Shared.Return(names, clearArray: true);
            ArrayPool<string>.Shared.Return(values, clearArray: true);
        }
    }

    /// <summary>A plain loop: the generic span search boxed a char per label (measured), and names are short.</summary>
    private static bool HasSurrogates(string name)
    {
        foreach (var c in name)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>The general path: every name encoded, and the encodings compared byte by byte.</summary>
    private static string OfByUtf8Order(IReadOnlyDictionary<string, string> labels)
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

    /// <summary>Hashes the UTF-8 bytes of <paramref name="text"/> as <see cref="Encoding.UTF8"/> encodes it (lone surrogates as U+FFFD).</summary>
    private static ulong AddUtf8(ulong hash, string text)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? pooled = null;
        Span<byte> buffer = length <= StackEncodeLimit ? stackalloc byte[StackEncodeLimit] : (pooled = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            return Add(hash, buffer[..written]);
        }
        finally
        {
            if (pooled is not null) ArrayPool<byte>.Shared.Return(pooled);
        }
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
