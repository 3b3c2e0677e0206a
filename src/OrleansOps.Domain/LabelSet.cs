using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace OrleansOps.Domain;

/// <summary>
/// An alert's labels or annotations, in the order the sender gave them: a map as small as one can be, since an open
/// incident holds two per alert. Names and values are two arrays with no hash buckets, the names array is shared by
/// every set with the same names (the alerts of one rule have them), and names and short values are taken from
/// <see cref="SharedText"/>. A lookup scans the names, which for the few dozen labels an alert carries costs about what
/// hashing the name would. Immutable, so grain calls pass it on without copying.
/// </summary>
[Immutable]
public sealed class LabelSet : IReadOnlyDictionary<string, string>
{
    public static readonly LabelSet Empty = new([], []);

    /// <summary>Beyond this many names, sets seldom repeat each other's names and sharing them is not worth a slot.</summary>
    private const int MaxSharedNames = 64;
    /// <summary>Beyond this many comparisons, <see cref="SharingWith"/> leaves sets with different names unshared.</summary>
    private const int MaxSharingWork = 1024;

    private static readonly SharingPool<string[]> Names = new(1 << 12, NamesComparer.Instance);

    private readonly string[] _names;
    private readonly string[] _values;

    private LabelSet(string[] names, string[] values)
    {
        _names = names;
        _values = values;
    }

    /// <summary>The set holding <paramref name="map"/>'s entries, in its order; a set is returned as it is.</summary>
    public static LabelSet Of(IReadOnlyDictionary<string, string>? map)
    {
        if (map is LabelSet set) return set;
        if (map is null || map.Count == 0) return Empty;
        var names = new string[map.Count];
        var values = new string[map.Count];
        var count = 0;
        foreach (var (name, value) in map)
        {
            names[count] = name;
            values[count] = value;
            count++;
        }
        return Shared(names, values);
    }

    /// <summary>A set of these entries (names distinct), holding the shared instances of what other sets repeat.</summary>
    private static LabelSet Shared(string[] names, string[] values)
    {
        if (names.Length == 0) return Empty;
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = SharedText.Share(names[i]);
            values[i] = SharedText.Share(values[i]);
        }
        return new LabelSet(names.Length <= MaxSharedNames ? Names.Share(names) : names, values);
    }

    /// <summary>
    /// This set, holding <paramref name="other"/>'s instances of the names and values it has in common with it (or
    /// <paramref name="other"/> itself when the two are equal): an incident's alerts repeat each other's texts (the alert
    /// name above all), too many of them for the bounded <see cref="SharedText"/> to keep. What the set holds does not
    /// change, only which copy of it.
    /// </summary>
    public LabelSet SharingWith(LabelSet other)
    {
        if (ReferenceEquals(this, other) || other._names.Length == 0 || _names.Length == 0) return this;
        var sameNames = ReferenceEquals(_names, other._names) || NamesComparer.Instance.Equals(_names, other._names);
        if (!sameNames && _names.Length * other._names.Length > MaxSharingWork) return this;
        string[]? values = null;
        var equal = sameNames;
        for (var i = 0; i < _values.Length; i++)
        {
            var at = sameNames ? i : Array.IndexOf(other._names, _names[i]);
            if (at < 0) continue;
            var theirs = other._values[at];
            if (ReferenceEquals(theirs, _values[i])) continue;
            if (string.Equals(theirs, _values[i], StringComparison.Ordinal)) (values ??= (string[])_values.Clone())[i] = theirs;
            else equal = false;
        }
        if (equal) return other;
        if (values is null && (!sameNames || ReferenceEquals(_names, other._names))) return this;
        return new LabelSet(sameNames ? other._names : _names, values ?? _values);
    }

    public int Count => _names.Length;

    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The label '{key}' is not in the set.");

    public IEnumerable<string> Keys => _names;

    public IEnumerable<string> Values => _values;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value)
    {
        var index = IndexOf(key);
        value = index >= 0 ? _values[index] : null;
        return index >= 0;
    }

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Array.IndexOf(_names, key);
    }

    /// <summary>Enumerates without allocating, where the caller knows it holds a set.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<string, string>> IEnumerable<KeyValuePair<string, string>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(LabelSet set) : IEnumerator<KeyValuePair<string, string>>
    {
        private int _index = -1;

        public readonly KeyValuePair<string, string> Current => new(set._names[_index], set._values[_index]);

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < set._names.Length;

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }

    /// <summary>Names arrays compared by content, for the pool that shares them.</summary>
    private sealed class NamesComparer : IEqualityComparer<string[]>
    {
        public static readonly NamesComparer Instance = new();

        public bool Equals(string[]? x, string[]? y) => ReferenceEquals(x, y) || x is not null && y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] names)
        {
            var hash = new HashCode();
            foreach (var name in names) hash.Add(name, StringComparer.Ordinal);
            return hash.ToHashCode();
        }
    }

    /// <summary>How a set travels: names and values as two arrays, shared again as they are read back.</summary>
    [GenerateSerializer]
    public struct Surrogate
    {
        [Id(0)] public string[] Names;
        [Id(1)] public string[] Values;
    }

    [RegisterConverter]
    public sealed class Converter : IConverter<LabelSet, Surrogate>
    {
        public LabelSet ConvertFromSurrogate(in Surrogate surrogate)
        {
            var names = surrogate.Names ?? [];
            var values = surrogate.Values ?? [];
            if (names.Length != values.Length) throw new InvalidDataException($"A label set read back has {names.Length} names but {values.Length} values.");
            return Shared(names, values);
        }

        public Surrogate ConvertToSurrogate(in LabelSet value) => new() { Names = value._names, Values = value._values };
    }
}
