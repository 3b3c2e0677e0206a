namespace OrleansOps.Domain;

/// <summary>
/// A bounded pool of values seen lately, so that what thousands of open alerts repeat is held once instead of once per
/// alert. Unlike <see cref="string.Intern"/>, which never lets go, it holds a fixed number of slots and a new value
/// evicts an old one, so values of unbounded cardinality cost churn, never growth. A value evicted while something
/// still holds it stays correct: the next equal one is merely not shared. Lock-free: two threads racing for a slot
/// at worst both keep their own copy.
/// </summary>
public sealed class SharingPool<T>(int sets, IEqualityComparer<T> comparer) where T : class
{
    /// <summary>Two slots per hash, so that two frequent values whose hashes collide do not keep evicting each other.</summary>
    private const int Ways = 2;

    private readonly T?[] _slots = new T?[sets * Ways];

    /// <summary>An equal value held in the pool, or <paramref name="value"/> itself, which the pool then holds.</summary>
    public T Share(T value)
    {
        var first = (int)((uint)comparer.GetHashCode(value) % (uint)sets) * Ways;
        var recent = Volatile.Read(ref _slots[first]);
        if (recent is not null && comparer.Equals(recent, value)) return recent;
        var older = Volatile.Read(ref _slots[first + 1]);
        if (older is not null && comparer.Equals(older, value))
        {
            // The one found moves to the front, so that what is used keeps its place and what is not goes first.
            _slots[first + 1] = recent;
            _slots[first] = older;
            return older;
        }
        _slots[first + 1] = recent;
        _slots[first] = value;
        return value;
    }
}

/// <summary>
/// The texts that open alerts repeat (label names, and values such as <c>warning</c>, a service or a host), held once:
/// JSON parsing and deserialization make a fresh copy of every one of them, per alert.
/// </summary>
public static class SharedText
{
    /// <summary>Longer texts (descriptions, URLs) are seldom repeated verbatim across alerts and would crowd out the rest.</summary>
    public const int MaxLength = 128;

    private static readonly SharingPool<string> Pool = new(1 << 14, StringComparer.Ordinal);

    /// <summary>An equal text held in the pool, or <paramref name="text"/> itself.</summary>
    public static string Share(string text) =>
        text.Length == 0 ? string.Empty : text.Length > MaxLength ? text : Pool.Share(text);

    /// <summary><see cref="Share"/>, passing null through.</summary>
    public static string? ShareOrNull(string? text) => text is null ? null : Share(text);
}
