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
    [NonSerialized] private readonly Dictionary<string, TValue> _items = new(StringComparer.Ordinal);
    [NonSerialized] private HashSet<string>? _dirty;
    /// <summary>How many touched keys a change may hold and its set still be kept for the next (see <see cref="TakeChanges"/>).</summary>
    private const int SmallChange = 64;
    /// <summary>The keys read with <see cref="PackedKeys"/>, until <see cref="PackedValues"/> pairs them with their values.</summary>
    [NonSerialized] private string[]? _readKeys;

    /// <summary>How the map was written before <see cref="PackedKeys"/>: read from older snapshots, never written.</summary>
    [Id(0)]
    internal Dictionary<string, TValue>? Entries
    {
        get => null;
        set
        {
            foreach (var (key, entry) in value ?? []) _items[key] = entry;
        }
    }

    /// <summary>
    /// The keys, as one block of UTF-8 text: the serializer tracks every object it writes so as to write a repeated one
    /// as a reference, and that table, keyed by object, grows with every key of a map of an account's firing alerts, so
    /// that a snapshot's cost per byte grew with its size. Keys occur once in a map; written as text they are not tracked.
    /// </summary>
    [Id(1)]
    internal byte[]? PackedKeys
    {
        get => _items.Count == 0 ? null : KeyBlock.Write(_items.Keys, _items.Count);
        set => _readKeys = value is null ? null : KeyBlock.Read(value);
    }

    /// <summary>The values, in the order of <see cref="PackedKeys"/> (a map's values repeat: incident ids, group keys).</summary>
    [Id(2)]
    internal List<TValue>? PackedValues
    {
        get => _items.Count == 0 ? null : [.. _items.Values];
        set
        {
            if (value is null || _readKeys is null) return;
            if (value.Count != _readKeys.Length) throw new InvalidDataException($"A map holds {_readKeys.Length} keys and {value.Count} values.");
            for (var i = 0; i < value.Count; i++) _items[_readKeys[i]] = value[i];
            _readKeys = null;
        }
    }

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
        // A set that once held many keys (a storm's batch, a state built at once) is dropped rather than cleared:
        // clearing wipes its whole capacity, every time, however few keys the next change touches.
        if (dirty.Count > SmallChange) _dirty = null;
        else dirty.Clear();
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

/// <summary>Texts written as one block: a count, then each text's UTF-8 length and bytes (lengths as 7-bit varints).</summary>
internal static class KeyBlock
{
    public static byte[] Write(IEnumerable<string> keys, int count)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16 + count * 48);
        WriteLength(buffer, count);
        foreach (var key in keys)
        {
            var length = System.Text.Encoding.UTF8.GetByteCount(key);
            WriteLength(buffer, length);
            System.Text.Encoding.UTF8.GetBytes(key, buffer.GetSpan(length));
            buffer.Advance(length);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string[] Read(byte[] block)
    {
        var at = 0;
        var keys = new string[ReadLength(block, ref at)];
        for (var i = 0; i < keys.Length; i++)
        {
            var length = ReadLength(block, ref at);
            keys[i] = System.Text.Encoding.UTF8.GetString(block, at, length);
            at += length;
        }
        return keys;
    }

    private static void WriteLength(System.Buffers.ArrayBufferWriter<byte> buffer, int value)
    {
        var span = buffer.GetSpan(5);
        var written = 0;
        var rest = (uint)value;
        for (; rest >= 0x80; rest >>= 7) span[written++] = (byte)(rest | 0x80);
        span[written++] = (byte)rest;
        buffer.Advance(written);
    }

    private static int ReadLength(byte[] block, ref int at)
    {
        uint value = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (shift > 28 || at >= block.Length) throw new InvalidDataException("A block of keys ends early or holds a length too long.");
            var b = block[at++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return checked((int)value);
        }
    }
}

/// <summary>What changed in a <see cref="TrackedMap{TValue}"/>: entries set to new values, and keys removed.</summary>
[GenerateSerializer]
public sealed class MapChange<TValue>
{
    [Id(0)] public Dictionary<string, TValue>? Set { get; set; }
    [Id(1)] public List<string>? Removed { get; set; }
}
