using Microsoft.Extensions.Logging;
using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>
/// Where each of an account's heartbeats stands, and the definitions it stands by, by name: the whole of a heartbeat
/// grain's state, and each of its journal entries. The definitions are kept so that an alert raised under one that has
/// since changed or gone can still be resolved: its labels are the old definition's.
/// </summary>
[GenerateSerializer, Alias("orleansops.heartbeats.v1")]
public sealed class HeartbeatsState
{
    [Id(0)] public Dictionary<string, HeartbeatStatus> Statuses { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public List<HeartbeatDefinition> Definitions { get; set; } = [];
}

/// <summary>
/// Keyed by account id: the account's dead man's switches. A ping moves a heartbeat's deadline; a grain timer at the
/// earliest deadline raises <c>HeartbeatMissed</c> through the account's correlator (an incident that escalates and pages
/// as any other), and the next ping resolves it. The journal's wake index wakes the grain for a deadline after a
/// restart. An alert is raised before the change that records it is journaled: after a crash in between it is raised
/// again, and the correlator takes the same fingerprint as a repeat.
/// </summary>
public sealed class HeartbeatGrain(IJournal journal, Serializer serializer, TimeProvider time, ILogger<HeartbeatGrain> logger)
    : Grain, IHeartbeatGrain
{
    public const string StreamPrefix = "heartbeats/";
    /// <summary>Orleans timers cannot wait longer than about 49 days; a far-off deadline re-arms daily.</summary>
    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private JournalStream _stream = null!;
    private HeartbeatsState _state = new();
    private AccountConfig? _config;
    private IGrainTimer? _timer;
    private DateTimeOffset? _wakeJournaled;

    private string AccountId => this.GetPrimaryKeyString();
    private ICorrelatorGrain Correlator => GrainFactory.GetGrain<ICorrelatorGrain>(AccountId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = new JournalStream(journal, serializer, StreamPrefix + AccountId);
        var (snapshot, entries) = await _stream.LoadAsync<HeartbeatsState>(cancellationToken);
        _state = snapshot ?? new HeartbeatsState();
        _stream.Replay<HeartbeatsState>(entries, latest => _state = latest);
        _wakeJournaled = Heartbeats.NextDeadline(_state.Definitions, _state.Statuses);
        await FollowConfigAsync();
    }

    public async Task<HeartbeatView?> Ping(string name)
    {
        if (_state.Definitions.FirstOrDefault(h => h.Name == name) is not { } definition) return null;
        var now = time.GetUtcNow();
        var status = _state.Statuses[name];
        // The incident first: a ping that is lost after it resolved the alert is only a ping lost.
        if (status.MissedAt is not null && _config is { } config)
            await Correlator.Raise([Heartbeats.Alert(definition, status, config, now, resolvedAt: now)]);
        status = _state.Statuses[name] with { LastPing = now, MissedAt = null, Pings = _state.Statuses[name].Pings + 1 };
        _state.Statuses[name] = status;
        await CommitAsync();
        return HeartbeatView.Of(definition, status);
    }

    public Task<IReadOnlyList<HeartbeatView>> List() => Task.FromResult<IReadOnlyList<HeartbeatView>>(
        _state.Definitions.Select(h => HeartbeatView.Of(h, _state.Statuses[h.Name])).ToList());

    public Task Configure() => FollowConfigAsync();

    public Task Wake() => MissDueAsync();

    /// <summary>
    /// Takes the account's heartbeats as its configuration says now. A missed heartbeat that is gone, or whose definition
    /// changed, resolves the alert it raised (a changed one is judged again by its new allowance at once).
    /// </summary>
    private async Task FollowConfigAsync()
    {
        _config = await GrainFactory.GetGrain<IAccountGrain>(AccountId).GetConfig();
        var configured = _config?.Heartbeats ?? [];
        var now = time.GetUtcNow();
        var statuses = new Dictionary<string, HeartbeatStatus>(_state.Statuses, StringComparer.Ordinal);
        foreach (var raised in _state.Definitions.Where(h => statuses.GetValueOrDefault(h.Name)?.MissedAt is not null && !configured.Contains(h)))
        {
            if (_config is not null) await Correlator.Raise([Heartbeats.Alert(raised, statuses[raised.Name], _config, now, resolvedAt: now)]);
            statuses[raised.Name] = statuses[raised.Name] with { MissedAt = null };
        }
        var reconciled = Heartbeats.Reconcile(statuses, configured, now);
        var changed = !_state.Definitions.SequenceEqual(configured) || reconciled.Count != _state.Statuses.Count
            || reconciled.Any(r => !_state.Statuses.TryGetValue(r.Key, out var s) || s != r.Value);
        _state.Statuses = reconciled;
        _state.Definitions = configured.ToList();
        if (changed) await CommitAsync();
        await MissDueAsync();
    }

    /// <summary>Raises the alert of every heartbeat whose allowance has run out, then arms the timer for the next deadline.</summary>
    private async Task MissDueAsync()
    {
        var now = time.GetUtcNow();
        var due = _config is { } config ? Heartbeats.DueToMiss(_state.Definitions, _state.Statuses, now).ToList() : [];
        if (due.Count > 0)
        {
            foreach (var definition in due)
                _state.Statuses[definition.Name] = _state.Statuses[definition.Name] with { MissedAt = _state.Statuses[definition.Name].DeadlineFor(definition) };
            var receipts = await Correlator.Raise(due.Select(d => Heartbeats.Alert(d, _state.Statuses[d.Name], _config!, now)).ToList());
            foreach (var (definition, receipt) in due.Zip(receipts))
                logger.LogInformation("Account {AccountId}: heartbeat {Heartbeat} missed (no ping within {Allowed}), alert {Outcome} in {IncidentId}",
                    AccountId, definition.Name, definition.Allowed, receipt.Outcome, receipt.IncidentId);
            await CommitAsync(); // arms the timer for the next deadline
        }
        else Arm();
    }

    private void Arm()
    {
        _timer?.Dispose();
        _timer = null;
        if (Heartbeats.NextDeadline(_state.Definitions, _state.Statuses) is not { } next) return;
        var wait = next - time.GetUtcNow();
        _timer = this.RegisterGrainTimer(MissDueAsync, new GrainTimerCreationOptions
        {
            DueTime = wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < MaxTimerWait ? wait : MaxTimerWait,
            Period = Timeout.InfiniteTimeSpan,
        });
    }

    /// <summary>Journals the state as it is now, with the next deadline for the wake index, and waits until it is durable.</summary>
    private async Task CommitAsync()
    {
        var next = Heartbeats.NextDeadline(_state.Definitions, _state.Statuses);
        var wake = next != _wakeJournaled ? new StreamWake(_stream.Name, AccountId, next) : null;
        _wakeJournaled = next;
        await JournalStream.WhenDurableAsync(_stream.Append(AccountId, _stream.Write(_state), wake: wake));
        Arm();
    }
}
