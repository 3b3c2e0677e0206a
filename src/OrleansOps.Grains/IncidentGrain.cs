using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>
/// One incident: lifecycle, alerts and chronicle. Lifecycle events wait in the persisted outbox until the
/// account confirms them, and are re-sent on the next activation or change. Alerts that announced an end
/// (Prometheus' endsAt) expire then unless refreshed: a grain timer fires on time while the incident is active,
/// and a reminder brings it back if it was deactivated or its silo died.
/// </summary>
[RandomPlacement] // incidents are many and independent: spread them over the silos rather than crowd the correlator's
public sealed class IncidentGrain(
    [PersistentState("incident", StorageNames.Grains)] IPersistentState<IncidentState> state,
    TimeProvider time,
    IOptions<BackstopReminderOptions> timing,
    ILogger<IncidentGrain> logger)
    : Grain, IIncidentGrain, IRemindable
{
    private const string ExpiryReminder = "alert-expiry";
    /// <summary>Orleans timers cannot wait longer than about 49 days; a far-off expiry re-arms daily.</summary>
    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private IGrainTimer? _expiryTimer;
    private DateTimeOffset? _timerDueAt;
    private bool _reminderRegistered;

    private IncidentState Incident => state.State;

    /// <summary>The summary the account last confirmed; the index only hears of real changes.</summary>
    private IncidentSummary? _accountHas;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Incident.Outbox.Count > 0) await TryUpdateAccountAsync();
        try
        {
            await ExpireDueAlertsAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Reading and acting on the incident must not depend on the reminder table; the timer still runs.
            logger.LogWarning(e, "Incident {IncidentId} could not arm its expiry reminder on activation", Incident.Id);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ExpiryReminder) return;
        _reminderRegistered = true; // it fired, so it exists; it is removed below once nothing is left to expire
        await ExpireDueAlertsAsync();
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

        if (outcomes.Any(o => o is AlertOutcome.Applied or AlertOutcome.Repeated)) await SaveAsync();
        return new DeliveryResult { Status = Incident.Status, Outcomes = outcomes };
    }

    public Task<IncidentView?> Describe() =>
        Task.FromResult(Incident.Exists ? IncidentView.Of(Incident) : null);

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

    /// <summary>Persist first; then tell the account. The account is told again later if it cannot be told now.</summary>
    private async Task SaveAsync()
    {
        // The reminder exists before the state that needs it: a crash in between leaves a spare reminder, which
        // removes itself when it fires, never a missing one.
        try
        {
            await EnsureExpiryReminderAsync();
        }
        catch
        {
            this.DeactivateOnIdle(); // the in-memory change was not saved; the next call must not see it
            throw;
        }
        await state.WriteOrDiscardAsync(this);
        if (Incident.Outbox.Count > 0 || _accountHas != Incident.Summarize()) await TryUpdateAccountAsync();
        await ScheduleExpiryAsync();
    }

    private async Task ExpireDueAlertsAsync()
    {
        if (Incident.Exists && Incident.ExpireAlerts(time.GetUtcNow()))
        {
            await SaveAsync();
            return;
        }
        await EnsureExpiryReminderAsync();
        await ScheduleExpiryAsync();
    }

    private async Task EnsureExpiryReminderAsync()
    {
        if (Incident.NextExpiry is null || _reminderRegistered) return;
        var period = timing.Value.Period;
        await this.RegisterOrUpdateReminder(ExpiryReminder, period, period);
        _reminderRegistered = true;
    }

    /// <summary>Arms the timer for the next expiry, and removes the reminder once nothing is left to expire.</summary>
    private async Task ScheduleExpiryAsync()
    {
        var next = Incident.NextExpiry;
        if (next != _timerDueAt)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = next is { } due
                ? this.RegisterGrainTimer(() =>
                {
                    _timerDueAt = null;
                    return ExpireDueAlertsAsync();
                }, new GrainTimerCreationOptions
                {
                    DueTime = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow()).Ticks, 0, MaxTimerWait.Ticks)),
                    Period = Timeout.InfiniteTimeSpan,
                })
                : null;
            _timerDueAt = next;
        }
        if (next is null && _reminderRegistered)
        {
            if (await this.GetReminder(ExpiryReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderRegistered = false;
        }
    }

    private async Task TryUpdateAccountAsync()
    {
        try
        {
            var summary = Incident.Summarize();
            var held = await GrainFactory.GetGrain<IAccountGrain>(Incident.AccountId).Record(summary, Incident.Outbox.ToList());
            Incident.Confirmed(held);
            _accountHas = summary;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The events stay in the persisted outbox and go out with the next change or activation.
            logger.LogWarning(e, "Incident {IncidentId} could not update account {AccountId}; will retry", Incident.Id, Incident.AccountId);
        }
    }
}
