namespace OrleansOps.Abstractions;

/// <summary>
/// Who may reach what, asked the same way by the HTTP API and by opsctl: a token's grant, and whether it covers an
/// account or an incident. What a grant does not cover answers exactly as what does not exist.
/// </summary>
public static class Access
{
    /// <summary>The grant of an issued API token's text; null when it is not one, or not a working one.</summary>
    public static Task<TokenGrant?> AdmitAsync(IGrainFactory grains, string? presented) =>
        TokenText.TryRead(presented, out var tokenId, out var secretSha256)
            ? grains.GetGrain<IAccessTokenGrain>(tokenId).Admit(secretSha256)
            : Task.FromResult<TokenGrant?>(null);

    /// <summary>Whether <paramref name="grant"/> reaches the incident: always for admins, else when it belongs to the grant's account.</summary>
    public static async Task<bool> CoversIncidentAsync(this TokenGrant grant, IGrainFactory grains, string incidentId) =>
        grant.IsAdmin || (Ids.IsIncidentId(incidentId) && grant.Covers(await grains.GetGrain<IIncidentGrain>(incidentId).Owner()));
}

/// <summary>
/// How the API and opsctl say that something is not there — also when it is there but beyond the caller's token, so
/// that the two read alike, word for word.
/// </summary>
public static class Missing
{
    public static string Account(string accountId) => $"No account '{accountId}'.";
    public static string Incident(string incidentId) => $"No incident '{incidentId}'.";
}

/// <summary>An API token as it is shown: never its secrets, only when each was issued and retires.</summary>
public sealed record TokenView(
    string Id, string Name, string Scope, string? Account, string Status, DateTimeOffset CreatedAt, string CreatedBy,
    DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedBy, IReadOnlyList<TokenSecretView> Secrets)
{
    public static TokenView Of(AccessToken token, DateTimeOffset now) => new(
        token.Id, token.Name, token.Scope == TokenScope.Admin ? "admin" : "account", token.AccountId,
        token.Status(now).ToString().ToLowerInvariant(), token.CreatedAt, token.CreatedBy, token.ExpiresAt, token.RevokedAt, token.RevokedBy,
        token.Secrets.Where(s => s.RetiresAt is null || s.RetiresAt > now).Select(s => new TokenSecretView(s.IssuedAt, s.RetiresAt)).ToList());
}

public sealed record TokenSecretView(DateTimeOffset IssuedAt, DateTimeOffset? RetiresAt);

/// <summary>A token just issued or rotated: its text, shown this once, and the token.</summary>
public sealed record IssuedToken(string Token, TokenView Details);

/// <summary>Issuing, listing, rotating and revoking API tokens, for the HTTP API and opsctl alike.</summary>
public static class TokenAdministration
{
    /// <summary>Stores <paramref name="token"/> (built by <see cref="TokenRequest"/> for the text's secret) once its account exists.</summary>
    public static async Task<(IssuedToken? Issued, List<string> Errors)> IssueAsync(this IGrainFactory grains, AccessToken token, string text, DateTimeOffset now)
    {
        if (token.AccountId is { } account && await grains.GetGrain<IAccountGrain>(account).Describe() is null)
            return (null, [$"account: no account '{account}'"]);
        return await grains.GetGrain<IAccessTokenGrain>(token.Id).Issue(token)
            ? (new IssuedToken(text, TokenView.Of(token, now)), [])
            : (null, ["id: taken; ask again"]);
    }

    /// <summary>Every token, or those of one account, by id.</summary>
    public static async Task<IReadOnlyList<TokenView>> ListTokensAsync(this IGrainFactory grains, string? accountId, DateTimeOffset now)
    {
        var ids = await grains.GetGrain<ITokenDirectoryGrain>(GrainKeys.Tokens).List();
        var tokens = await Task.WhenAll(ids.Select(id => grains.GetGrain<IAccessTokenGrain>(id).Describe()));
        return tokens.OfType<AccessToken>().Where(t => accountId is null || t.AccountId == accountId).Select(t => TokenView.Of(t, now)).ToList();
    }

    public static async Task<Lookup<TokenView>> DescribeTokenAsync(this IGrainFactory grains, string tokenId, DateTimeOffset now) =>
        TokenText.IsTokenId(tokenId) && await grains.GetGrain<IAccessTokenGrain>(tokenId).Describe() is { } token
            ? Lookup<TokenView>.Found(TokenView.Of(token, now))
            : NoToken<TokenView>(tokenId);

    /// <summary>A new secret for the token; the old ones keep working for <paramref name="overlap"/>.</summary>
    public static async Task<Lookup<IssuedToken>> RotateTokenAsync(this IGrainFactory grains, string tokenId, TimeSpan overlap, DateTimeOffset now)
    {
        if (!TokenText.IsTokenId(tokenId)) return NoToken<IssuedToken>(tokenId);
        var (text, secretSha256) = TokenText.New(tokenId);
        return await grains.GetGrain<IAccessTokenGrain>(tokenId).Rotate(secretSha256, overlap) is { } rotated
            ? Lookup<IssuedToken>.Found(new IssuedToken(text, TokenView.Of(rotated, now)))
            : NoToken<IssuedToken>(tokenId, "that works (it may be revoked or expired)");
    }

    public static async Task<Lookup<TokenView>> RevokeTokenAsync(this IGrainFactory grains, string tokenId, string actor, DateTimeOffset now) =>
        TokenText.IsTokenId(tokenId) && await grains.GetGrain<IAccessTokenGrain>(tokenId).Revoke(actor) is { } revoked
            ? Lookup<TokenView>.Found(TokenView.Of(revoked, now))
            : NoToken<TokenView>(tokenId);

    private static Lookup<T> NoToken<T>(string tokenId, string? qualifier = null) where T : class =>
        Lookup<T>.NotFound($"No token '{tokenId}'{(qualifier is null ? "" : " " + qualifier)}.");
}
