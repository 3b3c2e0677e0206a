using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace OrleansOps.Domain;

public static partial class Ids
{
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>The base-32 characters in the order they sort, for a part of an id that must sort as its number does.</summary>
    private const string SortedBase32 = "234567abcdefghijklmnopqrstuvwxyz";
    private static readonly DateTimeOffset IncidentEpoch = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const long IncidentTick = 4 * TimeSpan.TicksPerMillisecond;
    private static readonly Lock IncidentIdLock = new();
    private static (long Tick, long Random) _lastIncidentId;

    /// <summary>
    /// A new incident id: "inc-", 8 base-32 characters of <paramref name="now"/> (4 ms steps since 2020, enough until
    /// 2159) and 8 of a random number (40 bits), one more than the last when minted in the same step, so that later ids
    /// sort after earlier ones. Storage keyed by incident then takes each new incident at the end of its indexes
    /// rather than on a random page; ids minted in one process never repeat. Starts with "inc-", never all digits.
    /// </summary>
    public static string NewIncidentId(DateTimeOffset now)
    {
        const long Mask = (1L << 40) - 1;
        var tick = Math.Clamp((now - IncidentEpoch).Ticks / IncidentTick, 0, Mask);
        long random;
        lock (IncidentIdLock)
        {
            random = tick <= _lastIncidentId.Tick
                ? (_lastIncidentId.Random + 1) & Mask
                : BitConverter.ToInt64([.. RandomNumberGenerator.GetBytes(5), 0, 0, 0]);
            tick = Math.Max(tick, _lastIncidentId.Tick);
            _lastIncidentId = (tick, random);
        }
        return string.Create(20, (tick, random), static (chars, parts) =>
        {
            "inc-".CopyTo(chars);
            for (var i = 0; i < 8; i++)
            {
                chars[4 + i] = SortedBase32[(int)(parts.tick >> (35 - 5 * i)) & 31];
                chars[12 + i] = SortedBase32[(int)(parts.random >> (35 - 5 * i)) & 31];
            }
        });
    }

    /// <summary>A new API token id: "tok-" and 16 base-32 characters.</summary>
    public static string NewTokenId() => Random("tok-");

    private static string Random(string prefix) => Base32Id(prefix, RandomNumberGenerator.GetBytes(16));

    private static string Base32Id(string prefix, byte[] bytes) =>
        string.Create(prefix.Length + 16, (prefix, bytes), static (chars, state) =>
        {
            state.prefix.CopyTo(chars);
            for (var i = 0; i < 16; i++) chars[state.prefix.Length + i] = Base32[state.bytes[i] & 31];
        });

    /// <summary>A new silence id: "sil-" and 16 hex digits (64 random bits).</summary>
    public static string NewSilenceId() => "sil-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>An incident id derived from <paramref name="parts"/>: the same parts, the same id.</summary>
    public static string Derived(params string[] parts) =>
        Base32Id("inc-", SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\u001f', parts))));

    public static bool IsIncidentId(string? id) => id is not null && IncidentIdPattern().IsMatch(id);

    /// <summary>Account ids are slugs that start with a letter: <c>[a-z][a-z0-9-]{0,62}</c>.</summary>
    public static bool IsAccountId(string? id) => id is not null && AccountIdPattern().IsMatch(id);

    [GeneratedRegex("^inc-[a-z2-7]{16}$")]
    private static partial Regex IncidentIdPattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex AccountIdPattern();
}
