using Microsoft.Extensions.Logging;

namespace OrleansOps.Grains;

/// <summary>
/// How incidents' reports reach the account's state. A report is taken into memory at once, so lists and the SLA see
/// it, and written shortly after, coalesced with every other report meanwhile, instead of each report waiting for a
/// write of the whole account:
/// <list type="bullet">
/// <item>Lifecycle events (the SLA ledger) are written within <see cref="LedgerSaveDelay"/>. An incident keeps them in
/// its persisted outbox, with its reminder, until the account says they are written (<see cref="IIncidentGrain.Held"/>),
/// and sends them again if that does not come: the account applies them idempotently by sequence.</item>
/// <item>A summary that changed without an event (an alert joined: counts, nodes, services spanned) is written within
/// <see cref="IndexSaveDelay"/>. Before the first change an activation holds unwritten, its state says so
/// (<see cref="AccountState.IndexMayLag"/>); a clean deactivation writes everything and clears it, and an account that
/// activates with it set (its silo died) asks its open incidents to report again.</item>
/// </list>
/// </summary>
public sealed partial class AccountGrain
{
    /// <summary>The longest lifecycle events wait for their write once taken.</summary>
    public static readonly TimeSpan LedgerSaveDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest a summary changed without an event waits for its write once taken.</summary>
    public static readonly TimeSpan IndexSaveDelay = TimeSpan.FromSeconds(1);

    /// <summary>How many open incidents the activation after a crash asks again per turn.</summary>
    private const int CatchUpChunk = 500;

    /// <summary>
    /// Per incident with events taken and not yet in a write: the highest sequence written before them, and the highest
    /// taken. <see cref="_inWrite"/> holds the same for the write under way (the writer runs one write at a time).
    /// </summary>
    private Dictionary<string, (long Written, long Taken)> _unwritten = new(StringComparer.Ordinal);
    private Dictionary<string, (long Written, long Taken)> _inWrite = new(StringComparer.Ordinal);

    private readonly EarliestTimer _pendingSave;
    /// <summary>A write failed: the activation is being dropped, and what it holds in memory is not to be written.</summary>
    private bool _discarding;

    public async Task<long> Record(IncidentSummary current, IReadOnlyList<IncidentLifecycleEvent> events)
    {
        var writtenBefore = Held(current.Id);
        var recorded = _state.State.Record(current, events);
        if (recorded == Recorded.Nothing) return Held(current.Id);
        _changes++;
        ScheduleSlaReview(SlaReviewDebounce);
        if (recorded.HasFlag(Recorded.Events)) _unwritten[current.Id] = (writtenBefore, _state.State.LastEventSeq[current.Id]);
        if (!_state.State.IndexMayLag)
        {
            // The first change this activation holds unwritten: the state says so first, for the activation after a crash.
            _state.State.IndexMayLag = true;
            await _writer.SaveAsync();
        }
        else _pendingSave.Within(recorded.HasFlag(Recorded.Events) ? LedgerSaveDelay : IndexSaveDelay);
        return Held(current.Id);
    }

    /// <summary>The highest sequence of the incident's events that is written.</summary>
    private long Held(string incidentId) =>
        _unwritten.TryGetValue(incidentId, out var taken) || _inWrite.TryGetValue(incidentId, out taken)
            ? taken.Written
            : _state.State.LastEventSeq.GetValueOrDefault(incidentId);

    /// <summary>One write of the whole state; afterwards, the incidents whose events it carried hear they are written.</summary>
    private async Task WriteAsync()
    {
        _changes++;
        _pendingSave.Cancel(); // this write carries everything taken so far
        (_inWrite, _unwritten) = (_unwritten, _inWrite);
        try
        {
            await _state.WriteOrDiscardAsync(this);
        }
        catch
        {
            _discarding = true;
            throw;
        }
        foreach (var (incidentId, taken) in _inWrite) GrainFactory.GetGrain<IIncidentGrain>(incidentId).Held(taken.Taken).Ignore();
        _inWrite.Clear();
    }

    private async Task SaveTakenAsync()
    {
        try
        {
            await _writer.SaveAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Account {AccountId} could not write the incident reports it took; the incidents send them again", AccountId);
        }
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_state.State.IndexMayLag) CatchUpIndex([.. _state.State.Incidents.Values.Where(i => i.Status != IncidentStatus.Resolved).Select(i => i.Id)]);
        if (_state.State.Config is { } config && HasSla(config)) ScheduleSlaReview(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The last activation may have died with summaries it had not written: each open incident is asked to report
    /// again (one-way, in chunks, so the account keeps answering meanwhile). Events it had not written come back by
    /// themselves: their incidents still hold them.
    /// </summary>
    private void CatchUpIndex(IReadOnlyList<string> incidentIds, int from = 0)
    {
        if (from >= incidentIds.Count) return;
        if (from == 0) _logger.LogInformation("Account {AccountId} asks its {Count} open incidents to report again: its last activation did not close cleanly", AccountId, incidentIds.Count);
        this.RegisterGrainTimer(() =>
        {
            foreach (var id in incidentIds.Skip(from).Take(CatchUpChunk)) GrainFactory.GetGrain<IIncidentGrain>(id).ReportToAccount().Ignore();
            CatchUpIndex(incidentIds, from + CatchUpChunk);
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions { DueTime = TimeSpan.Zero, Period = Timeout.InfiniteTimeSpan });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // What is still waiting for its write goes now, and the state says this activation closed cleanly. (The incidents
        // whose events it carries are not told from here: they ask again, and hear the events are held.)
        if (_discarding || !_state.State.IndexMayLag || _state.State.Config is null) return;
        _pendingSave.Cancel();
        _state.State.IndexMayLag = false;
        try
        {
            await _state.WriteStateAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Account {AccountId} could not write its incident reports while deactivating; the next activation asks the open incidents again", AccountId);
        }
    }
}
