using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>When a one-click link was used: the whole of an action link grain's state, and its one journal entry.</summary>
[GenerateSerializer, Alias("orleansops.action-link.v1")]
public sealed class ActionLinkUse
{
    [Id(0)] public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>
/// Keyed by <see cref="GrainKeys.ActionLink"/>: makes a one-click link work once. Not reentrant, so two clicks racing
/// are one use and one refusal; the use is durable before the action it allows is taken.
/// </summary>
public sealed class ActionLinkGrain(IJournal journal, Serializer serializer, TimeProvider time) : Grain, IActionLinkGrain
{
    public const string StreamPrefix = "links/";
    private JournalStream _stream = null!;
    private ActionLinkUse _use = new();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = new JournalStream(journal, serializer, StreamPrefix + this.GetPrimaryKeyString());
        var (snapshot, entries) = await _stream.LoadAsync<ActionLinkUse>(cancellationToken);
        _use = snapshot ?? new ActionLinkUse();
        _stream.Replay<ActionLinkUse>(entries, latest => _use = latest);
    }

    public async Task<DateTimeOffset?> Use(string accountId)
    {
        if (_use.UsedAt is { } before) return before;
        _use.UsedAt = time.GetUtcNow();
        await JournalStream.WhenDurableAsync(_stream.Append(accountId, _stream.Write(_use)));
        return null;
    }

    public Task<DateTimeOffset?> UsedAt() => Task.FromResult(_use.UsedAt);
}
