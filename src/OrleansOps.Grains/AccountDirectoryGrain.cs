using Orleans.Runtime;

namespace OrleansOps.Grains;

[GenerateSerializer]
public sealed class AccountDirectoryState
{
    [Id(0)] public SortedSet<string> AccountIds { get; set; } = new(StringComparer.Ordinal);
}

public sealed class AccountDirectoryGrain(
    [PersistentState("account-directory", StorageNames.Grains)] IPersistentState<AccountDirectoryState> state)
    : Grain, IAccountDirectoryGrain
{
    public async Task Register(string accountId)
    {
        if (state.State.AccountIds.Add(accountId)) await state.WriteOrDiscardAsync(this);
    }

    public Task<IReadOnlyList<string>> List() => Task.FromResult<IReadOnlyList<string>>(state.State.AccountIds.ToList());
}
