using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace OrleansOps.Domain;

public static partial class Ids
{
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>A new incident id: "inc-" and 16 base-32 characters (80 random bits). Starts with a letter, never all digits.</summary>
    public static string NewIncidentId() => Random("inc-");

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
