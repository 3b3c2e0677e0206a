using System.Collections.Concurrent;

namespace OrleansOps.Grains.Tests;

/// <summary>
/// Holds <see cref="IAccountGrain.Record"/> calls to chosen accounts until released, as a failover holds a call to an
/// account whose silo just died, or fails them, as a call to a silo that died fails; every other call passes untouched.
/// </summary>
public sealed class AccountRecordHold : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failing = new(StringComparer.Ordinal);

    /// <summary>Holds the account's Record calls until the returned source is completed.</summary>
    public TaskCompletionSource Hold(string accountId) =>
        _held[accountId] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Fails the account's next <paramref name="times"/> Record calls.</summary>
    public void Fail(string accountId, int times) => _failing[accountId] = times;

    /// <summary>How many of the failures asked for are still to come.</summary>
    public int FailuresLeft(string accountId) => _failing.GetValueOrDefault(accountId);

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IAccountGrain) && context.InterfaceMethod.Name == nameof(IAccountGrain.Record))
        {
            var account = context.TargetId.Key.ToString()!;
            if (_held.TryGetValue(account, out var gate)) await gate.Task;
            if (_failing.TryGetValue(account, out var left) && left > 0)
            {
                _failing[account] = left - 1;
                throw new InvalidOperationException($"Record of account {account} failed on purpose");
            }
        }
        await context.Invoke();
    }
}
