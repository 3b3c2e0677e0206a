using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>
/// One incident: lifecycle, alerts and chronicle. Lifecycle events wait in the persisted outbox until the
/// account confirms them, and are re-sent on the next activation or change. Alerts that announced an end
/// (Prometheus' endsAt) expire then unless refreshed: a grain timer fires on time while the incident is active,
/// and a reminder brings it back if it was deactivated or its silo died.
/// </summary>
public sealed class IncidentGrain(
    [PersistentState("incident", StorageNames.Grains)] IPersistentState<IncidentState> state,
    TimeProvider time,
    ILogger<IncidentGrain> logger)
    : Grain, IIncidentGrain, IRemindable
{
    private const string ExpiryReminder = "alert-expiry";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private IGrainTimer? _expiryTimer;
    private DateTimeOffset? _timerDueAt;
    private bool _reminderRegistered;

    private IncidentState Incident => state.State;

    /// <summary>The summary the account last confirmed; the index only hears of real changes.</summary>
    private IncidentSummary? _accountHas;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Incident.Outbox.Count > 0) await TryUpdateAccountAsync();
        _reminderRegistered = Incident.NextExpiry is not null;
        await ExpireDueAlertsAsync();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == ExpiryReminder ? ExpireDueAlertsAsync() : Task.CompletedTask;

    public async Task<DeliveryResult> Deliver(AlertDelivery delivery)
    {
        var now = time.GetUtcNow();
        var outcomes = new List<AlertOutcome>(delivery.Alerts.Count);
        foreach (var alert in delivery.Alerts)
        {
            if (!Incident.Exists)
            {
                if (alert is { Action: AlertAction.Signal, Status: AlertStatus.Firing })
                    Incident.Open(this.GetPrimaryKeyString(), delivery.Origin, alert, now);
                else
                {
                    outcomes.Add(AlertOutcome.Ignored);
                    continue;
                }
            }
            outcomes.Add(Incident.Apply(alert, now));
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

    public Task<CommandResult> Reopen(string actor, string? reason) => Command(now =>
    {
        Incident.Reopen(actor, reason, now);
        return true;
    });

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
        await state.WriteStateAsync();
        if (Incident.Outbox.Count > 0 || _accountHas != Incident.Summarize()) await TryUpdateAccountAsync();
        await ScheduleExpiryAsync();
    }

    private async Task ExpireDueAlertsAsync()
    {
        if (Incident.Exists && Incident.ExpireAlerts(time.GetUtcNow())) await SaveAsync();
        else await ScheduleExpiryAsync();
    }

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
                    DueTime = Max(due - time.GetUtcNow(), TimeSpan.Zero),
                    Period = Timeout.InfiniteTimeSpan,
                })
                : null;
            _timerDueAt = next;
        }
        if (next is not null && !_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(ExpiryReminder, ReminderPeriod, ReminderPeriod);
            _reminderRegistered = true;
        }
        else if (next is null && _reminderRegistered)
        {
            if (await this.GetReminder(ExpiryReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderRegistered = false;
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

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
