using Orleans.Runtime;

namespace OrleansOps.Grains;

[GenerateSerializer]
public sealed class IntegrationKeyState
{
    [Id(0)] public KeyBinding? Binding { get; set; }
}

public sealed class IntegrationKeyGrain(
    [PersistentState("integration-key", StorageNames.Grains)] IPersistentState<IntegrationKeyState> state)
    : Grain, IIntegrationKeyGrain
{
    public Task<KeyBinding?> Resolve() => Task.FromResult(state.State.Binding);

    public async Task Bind(KeyBinding binding)
    {
        if (state.State.Binding == binding) return;
        state.State.Binding = binding;
        await state.WriteOrDiscardAsync(this);
    }

    public async Task Unbind(string accountId)
    {
        if (state.State.Binding?.AccountId != accountId) return;
        state.State.Binding = null;
        await state.WriteOrDiscardAsync(this);
    }
}
