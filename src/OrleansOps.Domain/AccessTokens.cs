using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrleansOps.Domain;

/// <summary>What a token opens: everything (admin), or reading and acting on one account.</summary>
public enum TokenScope
{
    Admin,
    Account,
}

/// <summary>Who presented a token that was admitted: the token, and what it may reach.</summary>
[GenerateSerializer, Immutable]
public sealed record TokenGrant(
    [property: Id(0)] string TokenId,
    [property: Id(1)] string Name,
    [property: Id(2)] TokenScope Scope,
    [property: Id(3)] string? AccountId)
{
    /// <summary>The token of the server's configuration (<c>OrleansOps:AdminToken</c>), which the grains never hold.</summary>
    public static readonly TokenGrant ConfiguredAdmin = new("configured", "OrleansOps:AdminToken", TokenScope.Admin, null);

    public bool IsAdmin => Scope == TokenScope.Admin;

    /// <summary>May read and act on <paramref name="accountId"/>.</summary>
    public bool Covers(string? accountId) => IsAdmin || (accountId is not null && AccountId == accountId);
}

/// <summary>One secret of a token: its SHA-256, and when it stops working once a newer one replaced it.</summary>
[GenerateSerializer, Immutable]
public sealed record TokenSecret(
    [property: Id(0)] string Sha256,
    [property: Id(1)] DateTimeOffset IssuedAt,
    [property: Id(2)] DateTimeOffset? RetiresAt);

public enum TokenStatus
{
    Active,
    Expired,
    Revoked,
}

/// <summary>
/// A bearer token for the query and admin API. It keeps only hashes of its secrets; rotating it issues a new secret
/// and lets the old one work for an overlap, so callers can move over without an outage.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AccessToken
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required TokenScope Scope { get; init; }
    [Id(3)] public string? AccountId { get; init; }
    [Id(4)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(5)] public required string CreatedBy { get; init; }
    [Id(6)] public DateTimeOffset? ExpiresAt { get; init; }
    [Id(7)] public IReadOnlyList<TokenSecret> Secrets { get; init; } = [];
    [Id(8)] public DateTimeOffset? RevokedAt { get; init; }
    [Id(9)] public string? RevokedBy { get; init; }

    public TokenGrant Grant => new(Id, Name, Scope, AccountId);

    public TokenStatus Status(DateTimeOffset now) =>
        RevokedAt is not null ? TokenStatus.Revoked
        : ExpiresAt <= now ? TokenStatus.Expired
        : TokenStatus.Active;

    /// <summary>The grant when <paramref name="secretSha256"/> is one of the token's working secrets; null otherwise.</summary>
    public TokenGrant? Admit(string secretSha256, DateTimeOffset now)
    {
        if (Status(now) != TokenStatus.Active) return null;
        var offered = Encoding.ASCII.GetBytes(secretSha256);
        var admitted = false;
        // Every secret is compared, in constant time, so the answer's timing says nothing about which one matched.
        foreach (var secret in Secrets)
            admitted |= CryptographicOperations.FixedTimeEquals(offered, Encoding.ASCII.GetBytes(secret.Sha256))
                        && (secret.RetiresAt is null || secret.RetiresAt > now);
        return admitted ? Grant : null;
    }

    /// <summary>A new secret, with the working ones retiring after <paramref name="overlap"/> (at once when zero); retired ones are dropped.</summary>
    public AccessToken Rotate(string newSecretSha256, TimeSpan overlap, DateTimeOffset now)
    {
        var retireAt = now + overlap;
        var kept = Secrets
            .Where(s => s.RetiresAt is null || s.RetiresAt > now)
            .Select(s => s with { RetiresAt = s.RetiresAt is { } earlier && earlier < retireAt ? earlier : retireAt })
            .Where(s => s.RetiresAt > now);
        return this with { Secrets = [.. kept, new TokenSecret(newSecretSha256, now, null)] };
    }

    public AccessToken Revoke(string actor, DateTimeOffset now) =>
        RevokedAt is null ? this with { RevokedAt = now, RevokedBy = actor } : this;
}

/// <summary>
/// The text of a token: <c>tok-&lt;16 base-32&gt;.&lt;secret&gt;</c>. The id before the dot finds the token (it is
/// shown in lists and logs); only the secret's SHA-256 is stored.
/// </summary>
public static partial class TokenText
{
    private const int MaxSecretLength = 256;

    public static bool IsTokenId(string? id) => id is not null && TokenIdPattern().IsMatch(id);

    /// <summary>A new secret for the token <paramref name="tokenId"/>: the whole text, shown once to whoever asked for it, and the hash to keep.</summary>
    public static (string Text, string SecretSha256) New(string tokenId)
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        return ($"{tokenId}.{secret}", IntegrationKey.Hash(secret));
    }

    /// <summary>The token id and the secret's SHA-256 of a presented text; false when it is not shaped like a token.</summary>
    public static bool TryRead(string? text, out string tokenId, out string secretSha256)
    {
        (tokenId, secretSha256) = ("", "");
        var dot = text?.IndexOf('.') ?? -1;
        if (dot <= 0 || text!.Length - dot - 1 is < 1 or > MaxSecretLength || !IsTokenId(text[..dot])) return false;
        tokenId = text[..dot];
        secretSha256 = IntegrationKey.Hash(text[(dot + 1)..]);
        return true;
    }

    [GeneratedRegex("^tok-[a-z2-7]{16}$")]
    private static partial Regex TokenIdPattern();
}

/// <summary>A request for a new token, over HTTP (JSON) or from opsctl (its options), checked by one set of rules.</summary>
public static class TokenRequest
{
    public const int MaxNameLength = 100;
    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromHours(24), MaxOverlap = TimeSpan.FromDays(30);

    /// <summary><c>{"name", "scope": "admin"|"account", "account", "expiresAt"}</c>; the account must be given exactly for account scope.</summary>
    public static (AccessToken? Token, List<string> Errors) Read(JsonElement body, string tokenId, string secretSha256, string createdBy, DateTimeOffset now)
    {
        if (body.ValueKind != JsonValueKind.Object) return (null, ["$: must be a JSON object"]);
        var errors = new List<string>();
        var name = JsonText.OptionalString(body, "name", MaxNameLength, errors);
        var scope = JsonText.OptionalString(body, "scope", 20, errors);
        var account = JsonText.OptionalString(body, "account", 63, errors);
        var expires = JsonText.OptionalString(body, "expiresAt", 40, errors);
        DateTimeOffset? expiresAt = null;
        if (expires is not null)
        {
            if (DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) expiresAt = at;
            else errors.Add($"expiresAt: '{expires}' is not an ISO 8601 instant");
        }
        return Create(name, scope, account, expiresAt, tokenId, secretSha256, createdBy, now, errors);
    }

    public static (AccessToken? Token, List<string> Errors) Create(string? name, string? scope, string? account, DateTimeOffset? expiresAt,
        string tokenId, string secretSha256, string createdBy, DateTimeOffset now, List<string>? errors = null)
    {
        errors ??= [];
        if (string.IsNullOrWhiteSpace(name)) errors.Add("name: required, who or what will use the token (e.g. \"acme-noc\")");
        else if (name.Length > MaxNameLength || name.Any(char.IsControl)) errors.Add($"name: at most {MaxNameLength} characters, no control characters");
        TokenScope? parsed = scope switch
        {
            "admin" => TokenScope.Admin,
            "account" => TokenScope.Account,
            _ => null,
        };
        if (parsed is null) errors.Add("scope: must be \"admin\" or \"account\"");
        if (parsed == TokenScope.Account && !Ids.IsAccountId(account)) errors.Add("account: an account scope needs the account's id");
        if (parsed == TokenScope.Admin && account is not null) errors.Add("account: an admin token reaches every account; leave account out");
        if (expiresAt <= now) errors.Add("expiresAt: must be in the future");
        if (errors.Count > 0) return (null, errors);
        return (new AccessToken
        {
            Id = tokenId,
            Name = name!.Trim(),
            Scope = parsed!.Value,
            AccountId = parsed == TokenScope.Account ? account : null,
            CreatedAt = now,
            CreatedBy = createdBy,
            ExpiresAt = expiresAt,
            Secrets = [new TokenSecret(secretSha256, now, null)],
        }, errors);
    }

    /// <summary>How long the replaced secret keeps working: "24h" by default, "0s" for not at all, at most 30 days.</summary>
    public static (TimeSpan Overlap, string? Error) Overlap(string? text)
    {
        if (text is null) return (DefaultOverlap, null);
        if (Regex.IsMatch(text.Trim(), "^0[smhdw]?$")) return (TimeSpan.Zero, null);
        if (!Durations.TryParse(text, out var overlap)) return (default, $"overlap: '{text}' is not a duration like 0s, 30m or 24h");
        return overlap > MaxOverlap ? (default, "overlap: at most 30d") : (overlap, null);
    }
}
