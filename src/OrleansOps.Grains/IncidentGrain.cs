using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>
/// One incident: lifecycle, alerts, escalation and chronicle. Lifecycle events wait in the persisted outbox until the
/// account confirms them, and are re-sent on the next activation or change. Whatever is due by itself — an alert's
/// announced end (Prometheus' endsAt), an escalation level, an acknowledgement timeout, a delayed notification — is
/// woken by a grain timer on time while the incident is active, and by a reminder if it was deactivated or its silo
/// died; an escalation step is saved before its notifications go out, so a step fires once even when both race.
/// </summary>
[RandomPlacement] // incidents are many and independent: spread them over the silos rather than crowd the correlator's
public sealed class IncidentGrain(
    [PersistentState("incident", StorageNames.Grains)] IPersistentState<IncidentState> state,
    TimeProvider time,
    IOptions<BackstopReminderOptions> timing,
    IOptions<NotificationDispatchOptions> dispatch,
    IOptions<TicketSyncOptions> tickets,
    ILogger<IncidentGrain> logger)
    : Grain, IIncidentGrain, IRemindable
{
    private const string WakeReminder = "incident-wake";
    /// <summary>The name the reminder had when it only expired alerts; one left by an older version is treated alike, and removed.</summary>
    private const string LegacyReminder = "alert-expiry";
    /// <summary>Orleans timers cannot wait longer than about 49 days; a far-off wake re-arms daily.</summary>
    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private IGrainTimer? _wakeTimer;
    private DateTimeOffset? _timerDueAt;
    private bool _reminderRegistered;
    /// <summary>How long a sync worker holds the ticket outbox before another may take over.</summary>
    private static readonly TimeSpan TicketLease = TimeSpan.FromMinutes(2);
    /// <summary>
    /// The longest a pure repeat (an alert firing again while it fires: its count, last-seen time, announced end and
    /// latest annotations) waits for its write, coalesced with the repeats after it (DESIGN §8). Anything else an
    /// alert changes is written before the answer.
    /// </summary>
    public static readonly TimeSpan RepeatSaveDelay = TimeSpan.FromSeconds(5);

    private IGrainTimer? _repeatSave;

    /// <summary>How soon an account that could not be told is asked again: doubling from the first wait up to the last.</summary>
    public static readonly TimeSpan FirstAccountRetry = TimeSpan.FromSeconds(1), LastAccountRetry = TimeSpan.FromMinutes(1);
    /// <summary>
    /// How long events the account took wait for its word that they are written (<see cref="Held"/>, within
    /// <see cref="AccountGrain.LedgerSaveDelay"/> normally) before they are sent again, in case the account died first.
    /// </summary>
    public static readonly TimeSpan HeldWait = TimeSpan.FromSeconds(10);
    private IGrainTimer? _accountRetry;
    private TimeSpan _accountRetryWait = FirstAccountRetry;
    /// <summary>The last attempt to tell the account failed; it is being asked again.</summary>
    private bool _accountBehind;

    private IncidentState Incident => state.State;

    /// <summary>The summary the account last confirmed; the index only hears of real changes.</summary>
    private IncidentSummary? _accountHas;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Incident.ReleaseTicketLeases(time.GetUtcNow(), tickets.Value.JiraSearchLag);
        try
        {
            await WakeAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Reading and acting on the incident must not depend on the reminder table or the account; the timer still runs.
            logger.LogWarning(e, "Incident {IncidentId} could not act on what is due on activation", Incident.Id);
            ScheduleWake();
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == LegacyReminder)
        {
            if (await this.GetReminder(LegacyReminder) is { } legacy) await this.UnregisterReminder(legacy);
        }
        else if (reminderName != WakeReminder) return;
        else _reminderRegistered = true; // it fired, so it exists; it is removed once nothing is left to wake for
        await WakeAsync();
    }

    public async Task<DeliveryResult> Deliver(AlertDelivery delivery)
    {
        var now = time.GetUtcNow();
        var outcomes = new List<AlertOutcome>(delivery.Alerts.Count);
        foreach (var (alert, index) in delivery.Alerts.Select((a, i) => (a, i)))
        {
            var rule = index < delivery.Rules.Count ? delivery.Rules[index] : null;
            if (!Incident.Exists)
            {
                if (alert is { Action: AlertAction.Signal, Status: AlertStatus.Firing })
                    Incident.Open(this.GetPrimaryKeyString(), delivery.Origin, alert, now, rule);
                else
                {
                    outcomes.Add(AlertOutcome.Ignored);
                    continue;
                }
            }
            outcomes.Add(Incident.Apply(alert, now, rule));
        }

        // A new incident learns its policy and pages its first level in the same write that opens it.
        var escalated = Incident.Exists && Incident.EscalationDue(now) && Incident.Escalate(await AccountConfigAsync(), now);
        if (escalated || outcomes.Any(o => o is AlertOutcome.Applied)) await SaveAsync();
        else if (outcomes.Any(o => o is AlertOutcome.Repeated)) SaveRepeatsSoon();
        return new DeliveryResult { Status = Incident.Status, Outcomes = outcomes };
    }

    public Task<IncidentView?> Describe() =>
        Task.FromResult(Incident.Exists ? IncidentView.Of(Incident) : null);

    public Task<string> ChangeStamp() =>
        Task.FromResult($"{Incident.Chronicle.Count}.{Incident.Alerts.Values.Sum(a => (long)a.Count)}");

    public Task<string?> Owner() => Task.FromResult(Incident.Exists ? Incident.AccountId : null);

    public async Task ReportToAccount()
    {
        if (!Incident.Exists) return;
        _accountHas = null;
        await TryUpdateAccountAsync();
    }

    public async Task Held(long seq)
    {
        if (!Incident.Exists) return;
        Incident.Confirmed(seq); // in memory: an outbox written with events already held costs a repeat the account ignores
        if (Incident.Outbox.Count > 0 || _accountBehind) return;
        StopAskingAccount();
        try
        {
            await RemoveIdleReminderAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Incident {IncidentId} could not remove its reminder; it removes itself when it fires", Incident.Id);
        }
    }

    public Task<IReadOnlyList<ChronicleEntry>?> GetChronicle() =>
        Task.FromResult<IReadOnlyList<ChronicleEntry>?>(Incident.Exists ? Incident.Chronicle.ToList() : null);

    public Task<ChronicleVerification?> VerifyChronicle() =>
        Task.FromResult(Incident.Exists ? Chronicle.Verify(Incident.Chronicle) : null);

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
        {
            var firing = Incident.Alerts.Values.Where(a => a.Status == AlertStatus.Firing).Select(a => a.Fingerprint).ToList();
            await GrainFactory.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(Incident.AccountId, Incident.Service))
                .Adopt(Incident.Id!, Incident.GroupKey, firing);
        }
        return result;
    }

    public Task<CommandResult> AddNote(string actor, string text) => Command(now =>
    {
        Incident.AddNote(actor, text, now);
        return true;
    });

    public async Task<CommandResult> Escalate(string actor)
    {
        if (!Incident.Exists) return await Command(_ => false);
        var config = await AccountConfigAsync();
        return await Command(now =>
        {
            Incident.EscalateNow(actor, config, now);
            return true;
        });
    }

    public async Task<CommandResult> Reassign(string actor, EscalationTarget target)
    {
        if (!Incident.Exists) return await Command(_ => false);
        var config = await AccountConfigAsync();
        if (!config.Knows(target))
            return new CommandResult { Outcome = CommandOutcome.Conflict, Message = $"The account declares no {target.Kind.ToString().ToLowerInvariant()} '{target.Id}'.", Incident = IncidentView.Of(Incident) };
        return await Command(now =>
        {
            Incident.Reassign(actor, target, config, now);
            return true;
        });
    }

    public async Task<TicketBatch> NextTicketWork(string holder)
    {
        var config = Incident.Exists ? await AccountConfigAsync() : null;
        var now = time.GetUtcNow();
        if (config is null) return new TicketBatch(ItsmSettings.None, []);
        Incident.StartTicketSync(config.Itsm, now);
        var work = Incident.LeaseTicketWork(holder, now, now + TicketLease).Where(w => Configured(config.Itsm, w.System)).ToList();
        await SaveAsync();
        return new TicketBatch(config.Itsm, work);
    }

    public async Task RecordTicketOutcome(TicketOutcome outcome)
    {
        if (!Incident.Exists || Incident.Tickets.All(t => t.System != outcome.System)) return;
        var now = time.GetUtcNow();
        if (!outcome.Succeeded)
            Incident.TicketFailed(outcome.System, outcome.Error ?? "failed", outcome.Retryable, outcome.RetryAfter, now, tickets.Value.JiraSearchLag);
        else if (outcome.Kind == TicketWorkKind.Create)
            Incident.TicketCreated(outcome.System, outcome.TicketId!, outcome.TicketKey ?? outcome.TicketId!, outcome.Found, now);
        else
            Incident.TicketWritten(outcome.System, outcome.Seq);
        OpsMetrics.TicketWrite(Incident.AccountId, outcome);
        await SaveAsync();
    }

    private static bool Configured(ItsmSettings itsm, TicketSystem system) =>
        system == TicketSystem.ServiceNow ? itsm.ServiceNow is not null : itsm.Jira is not null;

    /// <summary>Hands the ticket outbox to a sync worker when it holds work and no worker has it.</summary>
    private void KickTicketSync()
    {
        // Leased in memory here and saved by NextTicketWork; a worker lost before that leaves a lease that runs out.
        var now = time.GetUtcNow();
        var holder = Guid.NewGuid().ToString("N");
        if (!Incident.LeaseToNewWorker(holder, now, now + TicketLease)) return;
        GrainFactory.GetGrain<ITicketSyncGrain>(0).Sync(Incident.Id!, holder).Ignore();
    }

    public async Task<bool> Import(ImportedIncident past)
    {
        if (Incident.Exists) return false;
        Incident.Import(past, time.GetUtcNow());
        await SaveAsync();
        return true;
    }

    public async Task RecordDelivery(DeliveryReport report)
    {
        if (Incident.Exists && Incident.RecordDelivery(report, time.GetUtcNow())) await SaveAsync();
    }

    private async Task<CommandResult> Command(Func<DateTimeOffset, bool> change)
    {
        if (!Incident.Exists) return new CommandResult { Outcome = CommandOutcome.NotFound, Message = "No such incident." };
        bool changed;
        try
        {
            changed = change(time.GetUtcNow());
        }
        catch (IncidentTransitionException e)
        {
            return new CommandResult { Outcome = CommandOutcome.Conflict, Message = e.Message, Incident = IncidentView.Of(Incident) };
        }
        if (changed) await SaveAsync();
        return new CommandResult
        {
            Outcome = changed ? CommandOutcome.Applied : CommandOutcome.Unchanged,
            Incident = IncidentView.Of(Incident),
        };
    }

    /// <summary>
    /// Persist first; then hand over the notifications the write marked; then tell the account. The account is told
    /// again later if it cannot be told now.
    /// </summary>
    private async Task SaveAsync()
    {
        // The reminder exists before the state that needs it: a crash in between leaves a spare reminder, which
        // removes itself when it fires, never a missing one.
        // Notifications due now are marked handed over in the same write, so a new activation does not send them again.
        var toSend = Incident.DispatchDue(time.GetUtcNow(), dispatch.Value.RedispatchAfter);
        CancelRepeatSave(); // this write carries the repeats too
        try
        {
            await EnsureWakeReminderAsync();
        }
        catch
        {
            this.DeactivateOnIdle(); // the in-memory change was not saved; the next call must not see it
            throw;
        }
        await state.WriteOrDiscardAsync(this);
        // At once, before the account is told: from this write on, a page that has not gone out when this silo dies
        // waits RedispatchAfter (30 min by default) for its resend, and waiting on the account's write (during a
        // failover, a call held up to Orleans' 30 s response timeout) only widened that window.
        Send(toSend);
        if (Incident.Outbox.Count > 0 || _accountHas != Incident.Summarize()) await TryUpdateAccountAsync();
        KickTicketSync();
        ScheduleWake();
        await RemoveIdleReminderAsync();
    }

    private void SaveRepeatsSoon() => _repeatSave ??= this.RegisterGrainTimer(() =>
    {
        _repeatSave = null;
        return SaveAsync();
    }, new GrainTimerCreationOptions { DueTime = RepeatSaveDelay, Period = Timeout.InfiniteTimeSpan });

    private void CancelRepeatSave()
    {
        _repeatSave?.Dispose();
        _repeatSave = null;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Repeats still waiting for their write go now; only the write itself, as a deactivating grain should not
        // start conversations. (After a failed write there is nothing waiting: SaveAsync cancelled it.)
        if (_repeatSave is null || reason.ReasonCode == DeactivationReasonCode.ApplicationError) return;
        CancelRepeatSave();
        try
        {
            await EnsureWakeReminderAsync();
            await state.WriteOrDiscardAsync(this);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Incident {IncidentId} could not write its last repeats while deactivating", Incident.Id);
        }
    }

    /// <summary>Acts on everything due: expired alerts, escalation, and notifications whose time came or whose report never did.</summary>
    private async Task WakeAsync()
    {
        if (!Incident.Exists) return;
        var now = time.GetUtcNow();
        var changed = Incident.ExpireAlerts(now);
        if (Incident.EscalationDue(now)) changed |= Incident.Escalate(await AccountConfigAsync(), now);
        if (changed || Incident.NotificationsDue(now))
        {
            await SaveAsync();
            return;
        }
        if (Incident.Outbox.Count > 0 || _accountBehind) await TryUpdateAccountAsync();
        await EnsureWakeReminderAsync();
        KickTicketSync();
        ScheduleWake();
        await RemoveIdleReminderAsync();
    }

    /// <summary>
    /// The account's configuration; an account that is gone pages nobody, and says so on the chronicle. When the
    /// account cannot be reached, the activation is dropped: changes made in memory before the call were not saved.
    /// </summary>
    private async Task<AccountConfig> AccountConfigAsync()
    {
        try
        {
            return await GrainFactory.GetGrain<IAccountGrain>(Incident.AccountId).GetConfig()
                ?? new AccountConfig { Id = Incident.AccountId, Name = Incident.AccountId };
        }
        catch
        {
            this.DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Hands notifications to the notifier (after the write that marked them); reports come back through <see cref="RecordDelivery"/>.</summary>
    private void Send(IReadOnlyList<Notification> notifications)
    {
        var link = dispatch.Value.PublicUrl is { } baseUrl ? $"{baseUrl.TrimEnd('/')}/api/v1/incidents/{Incident.Id}" : null;
        foreach (var notification in notifications)
            GrainFactory.GetGrain<INotifierGrain>(0).Send(notification with { IncidentUrl = link }).Ignore();
    }

    private async Task EnsureWakeReminderAsync()
    {
        if (!NeedsWaking || _reminderRegistered) return;
        var period = timing.Value.Period;
        await this.RegisterOrUpdateReminder(WakeReminder, period, period);
        _reminderRegistered = true;
    }

    /// <summary>Arms the timer for the next thing due.</summary>
    private void ScheduleWake()
    {
        var next = Incident.NextWake;
        if (next == _timerDueAt) return;
        _wakeTimer?.Dispose();
        _wakeTimer = next is { } due
            ? this.RegisterGrainTimer(() =>
            {
                _timerDueAt = null;
                return WakeAsync();
            }, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow()).Ticks, 0, MaxTimerWait.Ticks)),
                Period = Timeout.InfiniteTimeSpan,
            })
            : null;
        _timerDueAt = next;
    }

    /// <summary>
    /// Something is due by itself, or the account has not written every lifecycle event or could not be told: the
    /// reminder brings the incident back for it when its activation or its silo is gone (the events wait in the
    /// persisted outbox). It is registered before the write that needs it.
    /// </summary>
    private bool NeedsWaking => Incident.NextWake is not null || Incident.Outbox.Count > 0 || _accountBehind;

    /// <summary>The reminder goes once nothing is due, no notification awaits its report and the account holds every event.</summary>
    private async Task RemoveIdleReminderAsync()
    {
        if (NeedsWaking || !_reminderRegistered) return;
        if (await this.GetReminder(WakeReminder) is { } reminder) await this.UnregisterReminder(reminder);
        _reminderRegistered = false;
    }

    /// <summary>
    /// Tells the account the incident's summary and unconfirmed lifecycle events. The account takes them at once and
    /// writes them shortly after; it says so with <see cref="Held"/>, and without that word they go again after
    /// <see cref="HeldWait"/>. When the account cannot be told (its silo is failing over, its write failed), it is asked
    /// again with doubling waits until it answers; the events stay in the persisted outbox meanwhile, and the reminder
    /// covers a lost activation.
    /// </summary>
    private async Task TryUpdateAccountAsync()
    {
        try
        {
            var summary = Incident.Summarize();
            var held = await GrainFactory.GetGrain<IAccountGrain>(Incident.AccountId).Record(summary, Incident.Outbox.ToList());
            Incident.Confirmed(held);
            _accountHas = summary;
            _accountBehind = false;
            _accountRetryWait = FirstAccountRetry;
            if (Incident.Outbox.Count == 0) StopAskingAccount();
            else if (_accountRetry is null) AskAccountAgainIn(HeldWait);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Incident {IncidentId} could not update account {AccountId}; will retry in {Wait}", Incident.Id, Incident.AccountId, _accountRetryWait);
            _accountBehind = true;
            if (_accountRetry is null) AskAccountAgainIn(_accountRetryWait);
        }
    }

    private void StopAskingAccount()
    {
        _accountRetry?.Dispose();
        _accountRetry = null;
    }

    private void AskAccountAgainIn(TimeSpan wait) => _accountRetry = this.RegisterGrainTimer(async () =>
    {
        _accountRetry = null;
        if (_accountBehind)
        {
            _accountRetryWait = TimeSpan.FromTicks(Math.Min(_accountRetryWait.Ticks * 2, LastAccountRetry.Ticks));
            try
            {
                await EnsureWakeReminderAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug(e, "Incident {IncidentId} could not register its reminder while the account is owed", Incident.Id);
            }
        }
        await TryUpdateAccountAsync();
    }, new GrainTimerCreationOptions { DueTime = wait, Period = Timeout.InfiniteTimeSpan, KeepAlive = true });
}
