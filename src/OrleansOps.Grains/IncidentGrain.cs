using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;
using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>
/// One incident: lifecycle, alerts, escalation and chronicle, journaled in its account's journal (see
/// <see cref="JournalStream"/>). Each change is appended in the turn that makes it and answered once it is durable (or,
/// to a correlator that shares its journal, at once with the flush to wait for); its summary goes to the account's index
/// with it. Whatever is due by itself (an alert's announced end, an escalation
/// level, an acknowledgement timeout, a delayed notification) is woken by a grain timer on time while the incident is
/// active, and through the journal's wake index after a deactivation or a crash; a page goes out only after the step
/// that made it is durable, so a step fires once.
/// </summary>
[Reentrant]
[RandomPlacement] // incidents are many and independent: spread them over the silos rather than crowd the correlator's
public sealed class IncidentGrain(
    IJournal journal,
    Serializer serializer,
    TimeProvider time,
    IOptions<NotificationDispatchOptions> dispatch,
    IOptions<TicketSyncOptions> tickets,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    ILogger<IncidentGrain> logger)
    : Grain, IIncidentGrain
{
    /// <summary>How long a sync worker holds the ticket outbox before another may take over.</summary>
    private static readonly TimeSpan TicketLease = TimeSpan.FromMinutes(2);
    /// <summary>Orleans timers cannot wait longer than about 49 days; a far-off wake re-arms daily.</summary>
    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);
    /// <summary>
    /// The longest a pure repeat (an alert firing again while it fires: its count, last-seen time, announced end and
    /// latest annotations) waits for its entry, together with the repeats after it (DESIGN §8). Anything else an alert
    /// changes is durable before the answer.
    /// </summary>
    public static readonly TimeSpan RepeatSaveDelay = TimeSpan.FromSeconds(5);
    /// <summary>The alerts a view carries; the rest are read a page at a time.</summary>
    public const int ViewAlerts = 500;

    private IncidentLog _log = null!;
    private IncidentState Incident => _log.Incident;
    private IGrainTimer? _wakeTimer;
    private DateTimeOffset? _timerDueAt;
    private IGrainTimer? _repeatSave;
    private readonly long _activation = Random.Shared.NextInt64();
    private long _changes;
    /// <summary>This silo as a notification's hand-over names it (see <see cref="DispatcherGone"/>).</summary>
    private readonly string _dispatcher = silo.SiloAddress.ToParsableString();

    private string IncidentId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _log = new IncidentLog(journal, serializer, IncidentId);
        await _log.LoadAsync(cancellationToken);
        if (!Incident.Exists) return;
        Incident.ReleaseTicketLeases(time.GetUtcNow(), tickets.Value.JiraSearchLag);
        try
        {
            // What fell due while the incident was not active is acted on before its first call.
            await WakeAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Incident {IncidentId} could not act on what is due on activation; trying again in a minute", IncidentId);
            ScheduleRetry();
        }
    }

    public async Task<DeliveryResult> Deliver(AlertDelivery delivery)
    {
        var now = time.GetUtcNow();
        // A new incident learns its policy and pages its first level in the change that opens it.
        var opens = !Incident.Exists && delivery.Alerts.Any(a => a is { Action: AlertAction.Signal, Status: AlertStatus.Firing });
        var config = opens || Incident.EscalationDue(now) ? await AccountConfigAsync(delivery.Origin.AccountId) : null;

        var before = (Incident.Status, Incident.Severity);
        var outcomes = new List<AlertOutcome>(delivery.Alerts.Count);
        for (var index = 0; index < delivery.Alerts.Count; index++)
        {
            var alert = delivery.Alerts[index];
            var rule = index < delivery.Rules.Count ? delivery.Rules[index] : null;
            var considered = index < delivery.Considered.Count ? delivery.Considered[index] : null;
            if (index < delivery.Reopens.Count && delivery.Reopens[index] && Incident is { Exists: true, Status: IncidentStatus.Resolved })
                Incident.Reopen("correlation", rule, now);
            if (!Incident.Exists)
            {
                if (alert is not { Action: AlertAction.Signal, Status: AlertStatus.Firing })
                {
                    outcomes.Add(AlertOutcome.Ignored);
                    continue;
                }
                Incident.Open(IncidentId, delivery.Origin, alert, now, rule);
            }
            outcomes.Add(Incident.Apply(alert, now, rule, considered));
        }
        if (outcomes.Any(o => o is AlertOutcome.Repeated)) _changes++;
        var escalated = config is not null && Incident.Exists && Incident.EscalationDue(now) && Incident.Escalate(config, now);
        if (!Incident.HasChanges && !escalated)
        {
            // Nothing but repeats: they are written within RepeatSaveDelay. What this answer relies on (the alerts'
            // place here) may still be on its way to disk from an earlier change, and is waited for.
            if (Incident.HasRepeats) SaveRepeatsSoon();
            var repeated = new DeliveryResult { Status = Incident.Status, Outcomes = outcomes };
            if (FlushForCaller(delivery, _log.Durable) is { } flushed) return repeated with { Flush = flushed };
            await JournalStream.WhenDurableAsync(_log.Durable);
            return repeated;
        }
        var (durable, toSend) = Commit(extrasMayHaveChanged: escalated || before != (Incident.Status, Incident.Severity));
        var result = new DeliveryResult { Status = Incident.Status, Outcomes = outcomes, Summary = _log.Summary };
        if (FlushForCaller(delivery, durable) is { } flush)
        {
            if (toSend.Count > 0 || Incident.TicketWorkDue(now)) AfterCommitAsync(durable, toSend).Ignore();
            return result with { Flush = flush };
        }
        await JournalStream.WhenDurableAsync(durable);
        AfterCommit(toSend);
        return result;
    }

    /// <summary>
    /// The flush of the caller's journal that makes <paramref name="durable"/> durable, when the caller shares this
    /// incident's journal and waits for it in the incident's stead; null when this incident waits itself.
    /// </summary>
    private long? FlushForCaller(AlertDelivery delivery, Task durable) =>
        delivery.Journal == journal.Instance ? journal.FlushOf(durable) : null;

    /// <summary>What a change sends and hands over, once it is durable, when its caller was answered before.</summary>
    private async Task AfterCommitAsync(Task durable, IReadOnlyList<Notification> toSend)
    {
        try
        {
            await durable;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never durable (the journal was abandoned as the process stops): nothing may go out for it.
            logger.LogWarning(e, "Incident {IncidentId}: a change was not made durable; its notifications are not sent", IncidentId);
            return;
        }
        AfterCommit(toSend);
    }

    public Task<IncidentView?> Describe() =>
        Task.FromResult(Incident.Exists ? IncidentView.Of(Incident, ViewAlerts) : null);

    public Task<IReadOnlyList<IncidentAlert>?> GetAlerts(int offset, int limit) =>
        Task.FromResult<IReadOnlyList<IncidentAlert>?>(Incident.Exists ? Incident.AlertsFrom(offset).Take(limit).ToList() : null);

    public Task<string> ChangeStamp() => Task.FromResult($"{_activation:x}.{Incident.ChronicleSeq}.{_changes}");

    public Task<string?> Owner() => Task.FromResult(Incident.Exists ? Incident.AccountId : null);

    public async Task<IReadOnlyList<ChronicleEntry>?> GetChronicle(long afterSeq, int limit)
    {
        if (!Incident.Exists) return null;
        return await ReadChronicleAsync(afterSeq, limit);
    }

    public async Task<ChronicleVerification?> VerifyChronicle()
    {
        if (!Incident.Exists) return null;
        var check = new ChronicleCheck();
        const int page = 1000;
        for (long after = 0; ;)
        {
            var entries = await ReadChronicleAsync(after, page);
            foreach (var entry in entries) check.Next(entry);
            if (entries.Count < page) break;
            after = entries[^1].Seq;
        }
        return check.Result;
    }

    private Task<IReadOnlyList<ChronicleEntry>> ReadChronicleAsync(long afterSeq, int limit) => _log.ReadChronicleAsync(afterSeq, limit);

    public Task<CommandResult> Acknowledge(string actor) => Command(now => Incident.Acknowledge(actor, now));

    public Task<CommandResult> Resolve(string actor, string? note) => Command(now => Incident.Resolve(actor, note, now));

    public async Task<CommandResult> Reopen(string actor, string? reason)
    {
        var result = await Command(now =>
        {
            Incident.Reopen(actor, reason, now);
            return true;
        });
        if (result.Outcome == CommandOutcome.Applied)
            GrainFactory.GetGrain<ICorrelatorGrain>(Incident.AccountId)
                .Adopt(IncidentId, Incident.Service, Incident.GroupKey, Incident.FiringFingerprints.ToList()).Ignore();
        return result;
    }

    public async Task<CommandResult> AddTicketNote(string actor, string text)
    {
        if (!Incident.Exists) return NoSuchIncident;
        // A ticket's later updates re-send a note among the last few steps (the incident's own steps follow it there).
        const int recent = 64;
        var tail = await ReadChronicleAsync(Math.Max(0, Incident.ChronicleSeq - recent), recent);
        // By text alone: the rule's work note names its own author and time, and the update that re-sends it may be another's.
        if (tail.Any(e => e.Kind == ChronicleKinds.Note && e.Actor.StartsWith("servicenow:", StringComparison.Ordinal) && e.Text == text))
            return new CommandResult { Outcome = CommandOutcome.Unchanged, Message = "the ticket sent this note before: it is on the chronicle already", Incident = View };
        return await AddNote(actor, text);
    }

    public Task<CommandResult> CorrectSla(string actor, string reason, SlaCorrection? correction) =>
        Command(now => Incident.CorrectSla(correction is null ? null : correction with { At = now }, actor, reason, now));

    public Task<CommandResult> AddNote(string actor, string text) => Command(now =>
    {
        Incident.AddNote(actor, text, now);
        return true;
    });

    public async Task<CommandResult> Escalate(string actor)
    {
        if (!Incident.Exists) return NoSuchIncident;
        var config = await AccountConfigAsync(Incident.AccountId);
        return await Command(now =>
        {
            Incident.EscalateNow(actor, config, now);
            return true;
        });
    }

    public async Task<CommandResult> Reassign(string actor, EscalationTarget target)
    {
        if (!Incident.Exists) return NoSuchIncident;
        var config = await AccountConfigAsync(Incident.AccountId);
        if (!config.Knows(target))
            return new CommandResult { Outcome = CommandOutcome.Conflict, Message = $"The account declares no {target.Kind.ToString().ToLowerInvariant()} '{target.Id}'.", Incident = View };
        return await Command(now =>
        {
            Incident.Reassign(actor, target, config, now);
            return true;
        });
    }

    public async Task<bool> Import(ImportedIncident past)
    {
        if (Incident.Exists) return false;
        Incident.Import(past, time.GetUtcNow());
        var (durable, _) = Commit(extrasMayHaveChanged: true);
        await JournalStream.WhenDurableAsync(durable);
        await TellAccountAsync();
        return true;
    }

    public async Task<IncidentHandOver> MergeInto(string survivor, string actor, string reason)
    {
        IReadOnlyList<IncidentAlert> alerts = [];
        var result = await Command(now =>
        {
            alerts = Incident.MergeInto(survivor, actor, reason, now);
            return Incident.HasChanges;
        });
        return new IncidentHandOver(result, result.Outcome is CommandOutcome.Applied or CommandOutcome.Unchanged ? alerts : []);
    }

    public Task<CommandResult> Absorb(string absorbed, IReadOnlyList<IncidentAlert> alerts, string actor, string reason) =>
        Command(now => Incident.Absorb(absorbed, alerts, actor, reason, now) > 0);

    public Task<IncidentHandOver> AlertsToSplit(IReadOnlyList<string> fingerprints, string? mergedFrom)
    {
        if (!Incident.Exists) return Task.FromResult(new IncidentHandOver(NoSuchIncident, []));
        try
        {
            var alerts = Incident.Splittable(fingerprints.ToHashSet(StringComparer.Ordinal), mergedFrom);
            return Task.FromResult(new IncidentHandOver(new CommandResult { Outcome = CommandOutcome.Unchanged }, alerts));
        }
        catch (IncidentTransitionException e)
        {
            return Task.FromResult(new IncidentHandOver(new CommandResult { Outcome = CommandOutcome.Conflict, Message = e.Message, Incident = View }, []));
        }
    }

    public Task<CommandResult> SplitOut(IReadOnlyList<string> fingerprints, string? mergedFrom, string into, string actor, string reason) =>
        Command(now => Incident.SplitOut(fingerprints.ToHashSet(StringComparer.Ordinal), mergedFrom, into, actor, reason, now).Count > 0);

    public async Task<CommandResult> OpenSplit(IncidentOrigin origin, IReadOnlyList<IncidentAlert> alerts, string from, string actor, string reason)
    {
        if (Incident.Exists) return new CommandResult { Outcome = CommandOutcome.Unchanged, Incident = View };
        var config = await AccountConfigAsync(origin.AccountId);
        if (Incident.Exists) return new CommandResult { Outcome = CommandOutcome.Unchanged, Incident = View };
        var now = time.GetUtcNow();
        Incident.OpenSplit(IncidentId, origin, alerts, from, actor, reason, now);
        if (Incident.EscalationDue(now)) Incident.Escalate(config, now);
        return await AppliedAsync();
    }

    public async Task<TicketBatch> NextTicketWork(string holder)
    {
        if (!Incident.Exists) return new TicketBatch(ItsmSettings.None, []);
        var config = await AccountConfigAsync(Incident.AccountId);
        var now = time.GetUtcNow();
        Incident.StartTicketSync(config.Itsm, now);
        var chronicle = Incident.TicketChronicleNeededAfter(holder, now) is { } after ? await TicketEntriesAsync(after) : [];
        now = time.GetUtcNow();
        var work = Incident.LeaseTicketWork(holder, now, now + TicketLease, chronicle).Where(w => Configured(config.Itsm, w.System)).ToList();
        var (durable, _) = Commit(extrasMayHaveChanged: true);
        await JournalStream.WhenDurableAsync(durable);
        return new TicketBatch(config.Itsm, work);
    }

    /// <summary>
    /// The chronicle entries after <paramref name="afterSeq"/> that belong on a ticket, up to the last one there is:
    /// all a ticket write needs, read from storage a page at a time.
    /// </summary>
    private async Task<List<ChronicleEntry>> TicketEntriesAsync(long afterSeq)
    {
        const int page = 500;
        var belonging = new List<ChronicleEntry>();
        var last = Incident.TicketEntrySeq;
        for (var after = afterSeq; after < last;)
        {
            var entries = await ReadChronicleAsync(after, page);
            belonging.AddRange(entries.Where(IncidentState.BelongsOnTicket));
            if (entries.Count < page) break;
            after = entries[^1].Seq;
        }
        return belonging;
    }

    public async Task RecordTicketOutcome(TicketOutcome outcome)
    {
        if (!Incident.Exists || Incident.Tickets.All(t => t.System != outcome.System)) return;
        var now = time.GetUtcNow();
        var failing = Incident.Summarize().TicketsFailing;
        if (!outcome.Succeeded)
            Incident.TicketFailed(outcome.System, outcome.Error ?? "failed", outcome.Retryable, outcome.RetryAfter, now, tickets.Value.JiraSearchLag);
        else if (outcome.Kind == TicketWorkKind.Create)
            Incident.TicketCreated(outcome.System, outcome.TicketId!, outcome.TicketKey ?? outcome.TicketId!, outcome.Found, now);
        else
            Incident.TicketWritten(outcome.System, outcome.Seq);
        OpsMetrics.TicketWrite(Incident.AccountId, outcome);
        var (durable, toSend) = Commit(extrasMayHaveChanged: true);
        await JournalStream.WhenDurableAsync(durable);
        AfterCommit(toSend);
        if (Incident.Summarize().TicketsFailing != failing) await TellAccountAsync();
    }

    private static bool Configured(ItsmSettings itsm, TicketSystem system) =>
        system == TicketSystem.ServiceNow ? itsm.ServiceNow is not null : itsm.Jira is not null;

    public async Task RecordDelivery(DeliveryReport report)
    {
        if (!Incident.Exists || !Incident.RecordDelivery(report, time.GetUtcNow())) return;
        var (durable, toSend) = Commit(extrasMayHaveChanged: true);
        await JournalStream.WhenDurableAsync(durable);
        AfterCommit(toSend);
    }

    public Task Wake()
    {
        ScheduleWake(immediately: true);
        return Task.CompletedTask;
    }

    private static CommandResult NoSuchIncident => new() { Outcome = CommandOutcome.NotFound, Message = "No such incident." };

    private IncidentView View => IncidentView.Of(Incident, ViewAlerts);

    private async Task<CommandResult> Command(Func<DateTimeOffset, bool> change)
    {
        if (!Incident.Exists) return NoSuchIncident;
        bool changed;
        try
        {
            changed = change(time.GetUtcNow());
        }
        catch (IncidentTransitionException e)
        {
            return new CommandResult { Outcome = CommandOutcome.Conflict, Message = e.Message, Incident = View };
        }
        if (!changed) return new CommandResult { Outcome = CommandOutcome.Unchanged, Incident = View };
        return await AppliedAsync();
    }

    /// <summary>A command's change: journaled, answered once durable, its pages sent and the account told.</summary>
    private async Task<CommandResult> AppliedAsync()
    {
        var (durable, toSend) = Commit(extrasMayHaveChanged: true);
        var view = View;
        await JournalStream.WhenDurableAsync(durable);
        AfterCommit(toSend);
        await TellAccountAsync();
        return new CommandResult { Outcome = CommandOutcome.Applied, Incident = view };
    }

    /// <summary>
    /// Journals what changed, within the turn that changed it (see <see cref="IncidentLog.Commit"/>). Notifications due
    /// now are marked handed over in the same entry, so they go out once it is durable and never again from a new
    /// activation.
    /// </summary>
    private (Task Durable, IReadOnlyList<Notification> ToSend) Commit(bool extrasMayHaveChanged)
    {
        var toSend = Incident.DispatchDue(time.GetUtcNow(), dispatch.Value.RedispatchAfter, _dispatcher);
        var durable = _log.Commit(extrasMayHaveChanged || toSend.Count > 0);
        CancelRepeatSave();
        _changes++;
        ScheduleWake();
        return (durable, toSend);
    }

    /// <summary>What follows a durable change: its pages go out, and a ticket sync starts if one is owed.</summary>
    private void AfterCommit(IReadOnlyList<Notification> toSend)
    {
        Send(toSend);
        KickTicketSync();
    }

    /// <summary>The account's index and SLA ledger take the incident's new summary (its copy of what is durable here).</summary>
    private async Task TellAccountAsync()
    {
        if (_log.Summary is not { } summary) return;
        try
        {
            await GrainFactory.GetGrain<IAccountGrain>(Incident.AccountId).Record([summary]);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The change is durable, and so is its index row: the account reads it at its next activation, and hears of
            // this incident again with its next change.
            logger.LogWarning(e, "Incident {IncidentId} could not tell account {AccountId} of its change", IncidentId, Incident.AccountId);
        }
    }

    private void SaveRepeatsSoon() => _repeatSave ??= this.RegisterGrainTimer(() =>
    {
        _repeatSave = null;
        if (Incident.HasRepeats || Incident.HasChanges) Commit(extrasMayHaveChanged: false);
        return Task.CompletedTask;
    }, new GrainTimerCreationOptions { DueTime = RepeatSaveDelay, Period = Timeout.InfiniteTimeSpan });

    private void CancelRepeatSave()
    {
        _repeatSave?.Dispose();
        _repeatSave = null;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Repeats still waiting for their entry go now, and a new activation (here or on another silo) reads the stream
        // only once everything appended is durable.
        if (Incident.Exists && (Incident.HasRepeats || Incident.HasChanges)) Commit(extrasMayHaveChanged: false);
        try
        {
            await _log.Durable.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Incident {IncidentId} deactivated before its last entry was durable", IncidentId);
        }
    }

    /// <summary>Acts on everything due: expired alerts, escalation, and notifications whose time came or whose report never did.</summary>
    private async Task WakeAsync()
    {
        if (!Incident.Exists) return;
        var config = Incident.EscalationDue(time.GetUtcNow()) ? await AccountConfigAsync(Incident.AccountId) : null;
        var now = time.GetUtcNow();
        var before = Incident.Summarize();
        Incident.ResendOrphaned(DispatcherGone, now);
        var changed = Incident.ExpireAlerts(now);
        if (config is not null && Incident.EscalationDue(now)) changed |= Incident.Escalate(config, now);
        if (!changed && !Incident.NotificationsDue(now) && !Incident.HasChanges)
        {
            ScheduleWake();
            KickTicketSync();
            return;
        }
        var (durable, toSend) = Commit(extrasMayHaveChanged: true);
        await JournalStream.WhenDurableAsync(durable);
        AfterCommit(toSend);
        if (LifecycleChanged(before, _log.Summary!)) await TellAccountAsync();
    }

    /// <summary>
    /// Whether the silo a notification was handed to (its notifier runs beside the incident) is gone: declared dead, or
    /// no longer known though older than this one. A silo newer than this one's view of the cluster counts as alive.
    /// </summary>
    private bool DispatcherGone(string dispatcherSilo)
    {
        var dispatcher = SiloAddress.FromParsableString(dispatcherSilo);
        var own = silo.SiloAddress;
        if (dispatcher.Equals(own)) return false;
        return membership.CurrentSnapshot.GetSiloStatus(dispatcher) switch
        {
            SiloStatus.Dead => true,
            SiloStatus.None => dispatcher.Generation < own.Generation,
            _ => false,
        };
    }

    private static bool LifecycleChanged(IncidentSummary before, IncidentSummary after) =>
        before.Status != after.Status || before.Severity != after.Severity || before.AcknowledgedAt != after.AcknowledgedAt
        || before.ResolvedAt != after.ResolvedAt || before.Escalations != after.Escalations || before.FiringAlertCount != after.FiringAlertCount;

    /// <summary>
    /// The account's configuration; an account that is gone pages nobody, and says so on the chronicle.
    /// </summary>
    private async Task<AccountConfig> AccountConfigAsync(string accountId) =>
        await GrainFactory.GetGrain<IAccountGrain>(accountId).GetConfig() ?? new AccountConfig { Id = accountId, Name = accountId };

    /// <summary>Hands notifications to the notifier (after the entry that marked them is durable); reports come back through <see cref="RecordDelivery"/>.</summary>
    private void Send(IReadOnlyList<Notification> notifications)
    {
        // The dashboard's page of the incident: a browser that follows the link gets a page, not the API's 401.
        var link = dispatch.Value.PublicUrl is { } baseUrl ? $"{baseUrl.TrimEnd('/')}/dashboard/incidents/{IncidentId}" : null;
        foreach (var notification in notifications)
            GrainFactory.GetGrain<INotifierGrain>(0).Send(notification with { IncidentUrl = link }).Ignore();
    }

    /// <summary>Hands the ticket outbox to a sync worker when it holds work and no worker has it.</summary>
    private void KickTicketSync()
    {
        // Leased in memory here and journaled by NextTicketWork; a worker lost before that leaves a lease that runs out.
        var now = time.GetUtcNow();
        // Most changes owe no ticket a write; a holder's id costs a read of the system's random source.
        if (!Incident.TicketWorkDue(now)) return;
        var holder = Guid.NewGuid().ToString("N");
        if (!Incident.LeaseToNewWorker(holder, now, now + TicketLease)) return;
        GrainFactory.GetGrain<ITicketSyncGrain>(0).Sync(IncidentId, holder).Ignore();
    }

    /// <summary>Arms the timer for the next thing due (at once when <paramref name="immediately"/>: a new activation acts on what became due meanwhile).</summary>
    private void ScheduleWake(bool immediately = false)
    {
        var next = immediately ? time.GetUtcNow() : Incident.NextWake;
        if (next == _timerDueAt && !immediately) return;
        _wakeTimer?.Dispose();
        _wakeTimer = next is { } due
            ? this.RegisterGrainTimer(async () =>
            {
                _timerDueAt = null;
                _wakeTimer = null;
                try
                {
                    await WakeAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Incident {IncidentId} could not act on what is due; trying again in a minute", IncidentId);
                    if (_wakeTimer is null) ScheduleRetry();
                }
            }, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow()).Ticks, 0, MaxTimerWait.Ticks)),
                Period = Timeout.InfiniteTimeSpan,
            })
            : null;
        _timerDueAt = next;
    }

    private void ScheduleRetry()
    {
        _timerDueAt = time.GetUtcNow() + TimeSpan.FromMinutes(1);
        _wakeTimer = this.RegisterGrainTimer(() =>
        {
            _timerDueAt = null;
            _wakeTimer = null;
            ScheduleWake(immediately: true);
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions { DueTime = TimeSpan.FromMinutes(1), Period = Timeout.InfiniteTimeSpan });
    }
}
