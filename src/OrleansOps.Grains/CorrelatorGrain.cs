using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>
/// Suppression, dedup and grouping for one account and service. Its decisions are written before any incident
/// hears of them, so a retried request after a crash lands in the same incidents; incidents apply alerts as upserts.
/// What it learns from the incidents' answers (resolved alerts and incidents) and its counters are saved within
/// <see cref="LazySaveDelay"/>, or with its next decision, whichever comes first: the maps recover from a lost
/// lazy save anyway (a resolved incident rejects, a resolve already taken is ignored). Alerts held back by a
/// silence or maintenance window are evaluated again when it ends: a grain timer on time, a reminder as back-stop.
/// </summary>
public sealed class CorrelatorGrain(
    [PersistentState("correlator", StorageNames.Grains)] IPersistentState<CorrelatorState> state,
    TimeProvider time,
    IOptions<BackstopReminderOptions> backstop)
    : Grain, ICorrelatorGrain, IRemindable
{
    /// <summary>Each round forgets at least one resolved incident, so rounds are few; this only guards against a bug.</summary>
    private const int MaxRounds = 16;
    private const string ReleaseReminder = "suppression-end";
    public static readonly TimeSpan LazySaveDelay = TimeSpan.FromSeconds(5);
    /// <summary>Orleans timers cannot wait longer than about 49 days; a far-off end re-arms daily.</summary>
    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private IGrainTimer? _lazySave;
    private IGrainTimer? _releaseTimer;
    private DateTimeOffset? _releaseDueAt;
    private bool _reminderRegistered;

    private string AccountId => this.GetPrimaryKeyString().Split('/')[0];
    private string Service => this.GetPrimaryKeyString()[(AccountId.Length + 1)..];

    public override Task OnActivateAsync(CancellationToken cancellationToken) => ScheduleReleaseAsync();

    public async Task<IReadOnlyList<AlertReceipt>> Ingest(CorrelationBatch batch)
    {
        state.State.GroupBy = batch.GroupBy;
        state.State.Rules = batch.Suppression;
        state.State.Window = batch.Window;
        state.State.Upstream = batch.Upstream;
        state.State.Inhibit = batch.Inhibit;
        state.State.Flapping = batch.Flapping;
        state.State.StormPerMinute = batch.StormPerMinute;
        state.State.SymptomSeverity = batch.SymptomSeverity;
        state.State.SymptomWait = batch.SymptomWait;
        var receipts = await CorrelateAsync(batch, alreadyCounted: false);
        await ScheduleReleaseAsync();
        return receipts;
    }

    public Task<CorrelationCounters> GetCounters() => Task.FromResult(state.State.Counters);

    public Task<IReadOnlyList<SuppressedAlert>> ListSuppressed() =>
        Task.FromResult<IReadOnlyList<SuppressedAlert>>(state.State.Suppressed.Values.OrderBy(s => s.Since).ToList());

    public async Task Adopt(string incidentId, string groupKey, IReadOnlyList<string> firingFingerprints)
    {
        if (state.State.Adopt(incidentId, groupKey, firingFingerprints)) await SaveNowAsync();
    }

    public async Task Reconsider(SuppressionRules rules)
    {
        state.State.Rules = rules;
        if (state.State.Suppressed.Count == 0) return;
        state.State.LiftEnded(rules, time.GetUtcNow());
        await ReleaseDueAsync();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReleaseReminder) return Task.CompletedTask;
        _reminderRegistered = true;
        return ReleaseDueAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_lazySave is not null && reason.ReasonCode != DeactivationReasonCode.ApplicationError) await SaveNowAsync();
    }

    private async Task<IReadOnlyList<AlertReceipt>> CorrelateAsync(CorrelationBatch batch, bool alreadyCounted)
    {
        var receipts = new AlertReceipt?[batch.Alerts.Count];
        var countedBefore = state.State.Counters.Copy();
        var pending = Enumerable.Range(0, batch.Alerts.Count).ToList();
        var upstream = await UpstreamIncidentsAsync(batch);
        var signals = await AccountSignalsAsync(batch, alreadyCounted);

        // Another round happens only when an incident turned out to be resolved already: its new firings are a new occurrence.
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == MaxRounds) throw new InvalidOperationException($"Alerts for {batch.AccountId}/{batch.Service} kept landing on resolved incidents.");
            var (routes, changed) = state.State.Plan(
                batch.AccountId, batch.Service, pending.Select(i => batch.Alerts[i]).ToList(), batch.GroupBy, Ids.NewIncidentId,
                replanning: alreadyCounted || round > 0, batch.Suppression, batch.Window, upstream, signals, batch.Flapping, batch.SymptomSeverity, batch.SymptomWait);
            if (changed) await SaveNowAsync();

            foreach (var held in routes.Where(r => r.Kind == RouteKind.Suppressed))
                receipts[pending[held.Index]] = new AlertReceipt { Fingerprint = held.Alert.Fingerprint, Outcome = AlertOutcome.Suppressed, SuppressedBy = held.SuppressedBy };
            var answers = await Task.WhenAll(routes
                .Where(r => r.Kind != RouteKind.Suppressed)
                .GroupBy(route => route.IncidentId)
                .Select(incident => DeliverAsync(batch, incident.ToList())));

            var rejected = new List<int>();
            foreach (var (routed, status) in answers)
            {
                foreach (var (route, outcome) in routed)
                {
                    state.State.Settle(route, outcome);
                    var index = pending[route.Index];
                    if (outcome == AlertOutcome.Rejected) rejected.Add(index);
                    else receipts[index] = new AlertReceipt
                    {
                        Fingerprint = route.Alert.Fingerprint,
                        IncidentId = route.IncidentId,
                        Outcome = outcome,
                        OpenedIncident = route.Opens is not null,
                    };
                }
                if (status == IncidentStatus.Resolved) state.State.Forget(routed[0].Route.IncidentId);
            }
            pending = rejected.Order().ToList();
        }
        SaveSoon();
        OpsMetrics.Correlated(batch.AccountId, countedBefore, state.State.Counters);

        return receipts.Select((receipt, i) => receipt ?? new AlertReceipt
        {
            Fingerprint = batch.Alerts[i].Fingerprint,
            Outcome = AlertOutcome.Ignored,
        }).ToList();
    }

    /// <summary>
    /// The open incidents of the services this one depends on, asked of the account only when topology is on and
    /// the batch has an alert that may need a new incident.
    /// </summary>
    private async Task<IReadOnlyList<UpstreamIncident>> UpstreamIncidentsAsync(CorrelationBatch batch)
    {
        if (batch.Window <= TimeSpan.Zero || batch.Upstream.Count == 0) return [];
        var mayOpen = batch.Alerts.Any(a => a is { Action: AlertAction.Signal, Status: AlertStatus.Firing } && !state.State.FiringAlerts.ContainsKey(a.Fingerprint));
        return mayOpen ? await GrainFactory.GetGrain<IAccountGrain>(batch.AccountId).OpenIncidents(batch.Upstream) : [];
    }

    /// <summary>Inhibition and storm state from the account-wide view, asked only when the account configures either.</summary>
    private async Task<AccountSignals> AccountSignalsAsync(CorrelationBatch batch, bool alreadyCounted)
    {
        if (batch.Inhibit.Count == 0 && batch.StormPerMinute <= 0) return AccountSignals.None;
        var newAlerts = alreadyCounted ? 0 : batch.Alerts.Count(a => a is { Action: AlertAction.Signal, Status: AlertStatus.Firing }
            && !state.State.FiringAlerts.ContainsKey(a.Fingerprint) && !state.State.Suppressed.ContainsKey(a.Fingerprint));
        return await GrainFactory.GetGrain<IAccountSignalsGrain>(batch.AccountId).Observe(batch.Inhibit, batch.StormPerMinute, batch.Alerts, newAlerts);
    }

    /// <summary>Held alerts whose silence or window has ended and that still fire go through correlation again.</summary>
    private async Task ReleaseDueAsync()
    {
        _releaseDueAt = null;
        var due = state.State.ReleaseDue(time.GetUtcNow());
        if (due.Count > 0)
        {
            await SaveNowAsync();
            await CorrelateAsync(new CorrelationBatch
            {
                AccountId = AccountId,
                Service = Service,
                GroupBy = state.State.GroupBy,
                Suppression = state.State.Rules,
                Window = state.State.Window,
                Upstream = state.State.Upstream,
                Inhibit = state.State.Inhibit,
                Flapping = state.State.Flapping,
                StormPerMinute = state.State.StormPerMinute,
                SymptomSeverity = state.State.SymptomSeverity,
                SymptomWait = state.State.SymptomWait,
                Alerts = due,
            }, alreadyCounted: true);
        }
        await ScheduleReleaseAsync();
    }

    /// <summary>Arms the timer for the earliest end of a suppression; keeps a reminder while anything is held.</summary>
    private async Task ScheduleReleaseAsync()
    {
        var next = state.State.NextSuppressionEnd;
        if (next != _releaseDueAt)
        {
            _releaseTimer?.Dispose();
            _releaseTimer = next is { } due
                ? this.RegisterGrainTimer(ReleaseDueAsync, new GrainTimerCreationOptions
                {
                    DueTime = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow()).Ticks, 0, MaxTimerWait.Ticks)),
                    Period = Timeout.InfiniteTimeSpan,
                })
                : null;
            _releaseDueAt = next;
        }
        if (next is not null && !_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(ReleaseReminder, backstop.Value.Period, backstop.Value.Period);
            _reminderRegistered = true;
        }
        else if (next is null && _reminderRegistered)
        {
            if (await this.GetReminder(ReleaseReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderRegistered = false;
        }
    }

    private async Task SaveNowAsync()
    {
        _lazySave?.Dispose();
        _lazySave = null;
        await state.WriteOrDiscardAsync(this);
    }

    private void SaveSoon() => _lazySave ??= this.RegisterGrainTimer(SaveNowAsync, new GrainTimerCreationOptions
    {
        DueTime = LazySaveDelay,
        Period = Timeout.InfiniteTimeSpan,
    });

    private async Task<(List<(Route Route, AlertOutcome Outcome)> Routed, IncidentStatus Status)> DeliverAsync(CorrelationBatch batch, List<Route> routes)
    {
        var first = routes[0];
        var origin = first.Opens ?? new IncidentOrigin
        {
            AccountId = batch.AccountId,
            Service = batch.Service,
            ServiceDeclared = first.Alert.ServiceDeclared,
            GroupKey = GroupKey.Of(first.Alert.Labels, batch.GroupBy),
        };
        var result = await GrainFactory.GetGrain<IIncidentGrain>(first.IncidentId)
            .Deliver(new AlertDelivery { Origin = origin, Alerts = routes.Select(r => r.Alert).ToList(), Rules = routes.Select(r => r.Rule).ToList() });
        return (routes.Zip(result.Outcomes).ToList(), result.Status);
    }
}
