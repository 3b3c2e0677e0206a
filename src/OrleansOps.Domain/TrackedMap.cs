using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace OrleansOps.Domain;

/// <summary>
/// A map keyed by text that remembers which keys changed since its changes were last taken, so that a journal entry
/// holds the new values of the changed entries only, however large the map. A value changed in place (not set
/// again) must be <see cref="Touch"/>ed.
/// </summary>
[GenerateSerializer]
public sealed class TrackedMap<TValue> : IEnumerable<KeyValuePair<string, TValue>>
{
    [Id(0)] private readonly Dictionary<string, TValue> _items = new(StringComparer.Ordinal);
    [NonSerialized] private HashSet<string>? _dirty;

    public int Count => _items.Count;
    public IEnumerable<string> Keys => _items.Keys;
    public IEnumerable<TValue> Values => _items.Values;

    public TValue this[string key]
    {
        get => _items[key];
        set
        {
            _items[key] = value;
            Touch(key);
        }
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) => _items.TryGetValue(key, out value);

    /// <summary>
    /// <see cref="TryGetValue"/>, giving also the key as the map holds it: a caller that keeps the key elsewhere too
    /// keeps this instance rather than a second copy of the text.
    /// </summary>
    public bool TryGetEntry(string key, [MaybeNullWhen(false)] out string heldKey, [MaybeNullWhen(false)] out TValue value) =>
        _items.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out heldKey, out value);

    public bool ContainsKey(string key) => _items.ContainsKey(key);

    public TValue? GetValueOrDefault(string key) => _items.GetValueOrDefault(key);

    public bool TryAdd(string key, TValue value)
    {
        if (!_items.TryAdd(key, value)) return false;
        Touch(key);
        return true;
    }

    public bool Remove(string key) => Remove(key, out _);

    public bool Remove(string key, [MaybeNullWhen(false)] out TValue value)
    {
        if (!_items.Remove(key, out value)) return false;
        Touch(key);
        return true;
    }

    /// <summary>Whether any entry changed since the changes were last taken.</summary>
    public bool HasChanges => _dirty is { Count: > 0 };

    /// <summary>The value of <paramref name="key"/> changed in place: it goes with the next changes taken.</summary>
    public void Touch(string key) => (_dirty ??= new HashSet<string>(StringComparer.Ordinal)).Add(key);

    /// <summary>The new values of the entries changed since the last call, and the keys removed; null when nothing changed.</summary>
    public MapChange<TValue>? TakeChanges()
    {
        if (_dirty is not { Count: > 0 } dirty) return null;
        var change = new MapChange<TValue>();
        foreach (var key in dirty)
        {
            if (_items.TryGetValue(key, out var value)) (change.Set ??= new Dictionary<string, TValue>(StringComparer.Ordinal))[key] = value;
            else (change.Removed ??= []).Add(key);
        }
        dirty.Clear();
        return change;
    }

    /// <summary>Replays a change taken by <see cref="TakeChanges"/>.</summary>
    public void Apply(MapChange<TValue>? change)
    {
        if (change is null) return;
        foreach (var key in change.Removed ?? []) _items.Remove(key);
        foreach (var (key, value) in change.Set ?? []) _items[key] = value;
    }

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>What changed in a <see cref="TrackedMap{TValue}"/>: entries set to new values, and keys removed.</summary>
[GenerateSerializer]
public sealed class MapChange<TValue>
{
    [Id(0)] public Dictionary<string, TValue>? Set { get; set; }
    [Id(1)] public List<string>? Removed { get; set; }
}
