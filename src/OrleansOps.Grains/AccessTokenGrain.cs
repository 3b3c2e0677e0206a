using Orleans.Runtime;

namespace OrleansOps.Grains;

[GenerateSerializer]
public sealed class AccessTokenState
{
    [Id(0)] public AccessToken? Token { get; set; }
}

public sealed class AccessTokenGrain(
    [PersistentState("access-token", StorageNames.Grains)] IPersistentState<AccessTokenState> state,
    TimeProvider time)
    : Grain, IAccessTokenGrain
{
    private AccessToken? Token => state.State.Token;

    public async Task<bool> Issue(AccessToken token)
    {
        if (Token is not null || token.Id != this.GetPrimaryKeyString()) return false;
        state.State.Token = token;
        await state.WriteOrDiscardAsync(this);
        await GrainFactory.GetGrain<ITokenDirectoryGrain>(GrainKeys.Tokens).Register(token.Id);
        return true;
    }

    public Task<TokenGrant?> Admit(string secretSha256) => Task.FromResult(Token?.Admit(secretSha256, time.GetUtcNow()));

    public Task<AccessToken?> Describe() => Task.FromResult(Token);

    public async Task<AccessToken?> Rotate(string newSecretSha256, TimeSpan overlap)
    {
        var now = time.GetUtcNow();
        if (Token is null || Token.Status(now) != TokenStatus.Active) return null;
        return await SaveAsync(Token.Rotate(newSecretSha256, overlap, now));
    }

    public async Task<AccessToken?> Revoke(string actor) =>
        Token is null ? null : await SaveAsync(Token.Revoke(actor, time.GetUtcNow()));

    private async Task<AccessToken> SaveAsync(AccessToken token)
    {
        if (token == Token) return token;
        state.State.Token = token;
        await state.WriteOrDiscardAsync(this);
        return token;
    }
}

[GenerateSerializer]
public sealed class TokenDirectoryState
{
    [Id(0)] public SortedSet<string> TokenIds { get; set; } = new(StringComparer.Ordinal);
}

public sealed class TokenDirectoryGrain(
    [PersistentState("token-directory", StorageNames.Grains)] IPersistentState<TokenDirectoryState> state)
    : Grain, ITokenDirectoryGrain
{
    public async Task Register(string tokenId)
    {
        if (state.State.TokenIds.Add(tokenId)) await state.WriteOrDiscardAsync(this);
    }

    public Task<IReadOnlyList<string>> List() => Task.FromResult<IReadOnlyList<string>>(state.State.TokenIds.ToList());
}
