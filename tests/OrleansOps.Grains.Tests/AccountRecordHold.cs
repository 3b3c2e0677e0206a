using System.Collections.Concurrent;

namespace OrleansOps.Grains.Tests;

/// <summary>
/// Holds <see cref="IAccountGrain.Record"/> calls to chosen accounts until released, as a failover holds a call to an
/// account whose silo just died; every other call passes untouched.
/// </summary>
public sealed class AccountRecordHold : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new(StringComparer.Ordinal);

    /// <summary>Holds the account's Record calls until the returned source is completed.</summary>
    public TaskCompletionSource Hold(string accountId) =>
        _held[accountId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IAccountGrain) && context.InterfaceMethod.Name == nameof(IAccountGrain.Record)
            && _held.TryGetValue(context.TargetId.Key.ToString()!, out var gate))
            await gate.Task;
        await context.Invoke();
    }
}
