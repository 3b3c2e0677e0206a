using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>An SLO's status as of the last review, and its burn-rate episode if one is in progress.</summary>
[GenerateSerializer]
public sealed class SloMemory
{
    [Id(0)] public SloHealth Status { get; set; }
    [Id(1)] public DateTimeOffset Since { get; set; }
    /// <summary>When the current burn-rate episode began (any pair of windows firing), null outside one.</summary>
    [Id(2)] public DateTimeOffset? BurningSince { get; set; }
}

/// <summary>
/// The live SLA: the account evaluates its commitments from its incidents whenever they change (shortly after, so a
/// burst of reports costs one evaluation), at the instant the current burn changes a status, and every minute while
/// an open incident burns budget (a reminder keeps that going if the account is deactivated). Transitions and burn
/// episodes are recorded once each, and the fleet index hears of the account only when its status or rank changes.
/// </summary>
public sealed partial class AccountGrain : IRemindable
{
    private const string SlaReminder = "sla-review";
    private static readonly TimeSpan SlaReviewDebounce = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan BurningReviewPeriod = TimeSpan.FromMinutes(1);

    private readonly EarliestTimer _slaReview;
    private FleetEntry? _fleetHas;

    private static bool HasSla(AccountConfig config) => config.Sla.Availability.Count + config.Sla.Response.Count + config.Sla.Resolution.Count > 0;

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == SlaReminder) ScheduleSlaReview(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public Task<SlaSnapshot?> GetSla() =>
        Task.FromResult(_own.Config is { } config ? SlaEvaluation.Evaluate(config, _incidents.Values, _time.GetUtcNow()) : null);

    public Task<SlaSnapshot?> GetSlaForPeriod(TimeRange period)
    {
        if (_own.Config is not { } config) return Task.FromResult<SlaSnapshot?>(null);
        var now = _time.GetUtcNow();
        var at = period.End <= now ? period.End - TimeSpan.FromTicks(1) : now;
        var monthly = config with
        {
            Sla = config.Sla with { Availability = config.Sla.Availability.Select(slo => slo with { Window = AvailabilityMath.CalendarMonth }).ToList() },
        };
        var incidents = _incidents.Values.Where(i => i.OpenedAt < period.End).ToList();
        return Task.FromResult<SlaSnapshot?>(SlaEvaluation.Evaluate(monthly, incidents, at, clockPeriod: period));
    }

    public Task<IReadOnlyList<SlaEvent>> GetSlaEvents() => Task.FromResult<IReadOnlyList<SlaEvent>>(_own.SlaEvents.ToList());

    public Task<IReadOnlyList<IncidentTimes>> GetIncidentTimes() => Task.FromResult<IReadOnlyList<IncidentTimes>>(IncidentTimes());

    private List<IncidentTimes> IncidentTimes() => _incidents.Values.Select(i => new IncidentTimes(
        i.Id, i.Severity, i.StartedAt, i.OpenedAt, i.FirstAcknowledgedAt ?? i.AcknowledgedAt, i.ResolvedAt, i.Escalations, i.Title, i.Service)).ToList();

    public Task<FleetEntry?> FleetStanding() =>
        Task.FromResult(_own.Config is { } config ? Standing(config, SlaEvaluation.Evaluate(config, _incidents.Values, _time.GetUtcNow())) : null);

    public Task<AccountGauges?> Gauges()
    {
        if (_own.Config is not { } config) return Task.FromResult<AccountGauges?>(null);
        var incidents = _incidents.Values;
        var budgets = config.Sla.Availability.Count == 0 ? []
            : SlaEvaluation.Evaluate(config, incidents, _time.GetUtcNow()).Availability
                .Select(a => new BudgetGauge(a.Slo, a.RemainingMinutes, a.BudgetMinutes > 0 ? a.RemainingMinutes / a.BudgetMinutes : 0))
                .ToList();
        return Task.FromResult<AccountGauges?>(new AccountGauges(
            Enum.GetValues<IncidentStatus>().ToDictionary(status => status, status => incidents.Count(i => i.Status == status)),
            incidents.Sum(i => i.TicketsFailing),
            budgets));
    }

    public Task<IReadOnlyList<BurnDownSeries>?> GetBurnDown(int points) =>
        Task.FromResult(_own.Config is { } config
            ? SlaEvaluation.BurnDown(config, _incidents.Values, _time.GetUtcNow(), points)
            : null);

    private void ScheduleSlaReview(TimeSpan after) => _slaReview.Within(after);

    /// <summary>Records what changed since the last review, tells the fleet index, and plans the next review.</summary>
    private async Task ReviewSlaAsync()
    {
        try
        {
            await ReviewSlaOnceAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A failed write (the database away) must not end the reviews: try again in a minute.
            _logger.LogWarning(e, "Account {AccountId} could not review its SLA; trying again in a minute", AccountId);
            ScheduleSlaReview(BurningReviewPeriod);
        }
    }

    private async Task ReviewSlaOnceAsync()
    {
        if (_own.Config is not { } config) return;
        var now = _time.GetUtcNow();
        var snapshot = SlaEvaluation.Evaluate(config, _incidents.Values, now);
        var recorded = RecordTransitions(snapshot, now);
        if (recorded.Changed)
        {
            // The events and whom they go to are durable before anything is sent: a notice goes out once.
            var notices = NoticesFor(config, recorded.Events);
            var events = recorded.Events.Select(e => _own.SlaEvents.LastOrDefault(kept => kept.At == e.At && kept.Slo == e.Slo && kept.Kind == e.Kind) ?? e).ToList();
            await JournalStream.WhenDurableAsync(Commit(new AccountChange
            {
                Slos = _own.Slos,
                SlaEvents = events,
            }));
            foreach (var notice in notices) GrainFactory.GetGrain<INotifierGrain>(0).Send(notice).Ignore();
        }

        var standing = Standing(config, snapshot);
        if (standing != _fleetHas)
        {
            try
            {
                await GrainFactory.GetGrain<IFleetGrain>(GrainKeys.Fleet).Update(standing);
                _fleetHas = standing;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Account {AccountId} could not update the fleet index; will retry at the next review", AccountId);
            }
        }

        // The exact instant the current burn changes a status, and every minute while anything can change by itself:
        // an open incident (burning, or about to once its maintenance ends), an SLO not healthy (a rolling window
        // recovers, a burn pair stops), a burn episode in progress. All healthy and nothing open, only an incident can
        // change anything, and incidents report.
        var watching = HasSla(config) && (snapshot.Status != SloHealth.Healthy
            || _incidents.Values.Any(i => i.Status != IncidentStatus.Resolved)
            || _own.Slos.Values.Any(m => m.BurningSince is not null));
        var next = snapshot.NextTransitionAt;
        if (watching && (next is null || next > now + BurningReviewPeriod)) next = now + BurningReviewPeriod;
        if (next is { } at) _slaReview.At(at);
        await KeepReminderWhileWatchingAsync(watching);
    }

    /// <returns>Whether the state changed, and the events added.</returns>
    private (bool Changed, List<SlaEvent> Events) RecordTransitions(SlaSnapshot snapshot, DateTimeOffset now)
    {
        var changed = false;
        var added = new List<SlaEvent>();
        void AddSlaEvent(SlaEvent e)
        {
            added.Add(e);
            this.AddSlaEvent(e);
        }
        var reports = snapshot.Availability.Select(a => (a.Slo, a.Status, Detail: Describe(a), BurnAlerts: a.FiringBurnAlerts, a.NextTransitionAt))
            .Concat(snapshot.Clocks.Select(c => (c.Slo, c.Status, Detail: Describe(c), BurnAlerts: (IReadOnlyList<BurnAlert>)[], NextTransitionAt: (DateTimeOffset?)null)));
        foreach (var report in reports)
        {
            if (!_own.Slos.TryGetValue(report.Slo, out var memory))
                _own.Slos[report.Slo] = memory = new SloMemory { Status = SloHealth.Healthy, Since = now };
            if (memory.Status != report.Status)
            {
                AddSlaEvent(new SlaEvent { At = now, Slo = report.Slo, Kind = SlaEventKind.Status, From = memory.Status, To = report.Status, Detail = report.Detail });
                memory.Status = report.Status;
                memory.Since = now;
                changed = true;
            }
            // One event per burn episode: when the first pair of windows fires, and when the last one stops.
            if (report.BurnAlerts.Count > 0 && memory.BurningSince is null)
            {
                memory.BurningSince = now;
                AddSlaEvent(new SlaEvent
                {
                    At = now, Slo = report.Slo, Kind = SlaEventKind.BurnStarted, To = report.Status,
                    Detail = "burn rate above " + string.Join(", ", report.BurnAlerts.Select(b => $"{b.Threshold}× over {Durations.Format(b.Long)} and {Durations.Format(b.Short)} ({b.Name})")),
                });
                changed = true;
            }
            else if (report.BurnAlerts.Count == 0 && memory.BurningSince is { } since)
            {
                memory.BurningSince = null;
                AddSlaEvent(new SlaEvent { At = now, Slo = report.Slo, Kind = SlaEventKind.BurnEnded, To = report.Status, Detail = $"burning since {since:u}" });
                changed = true;
            }
        }
        return (changed, added);
    }

    /// <summary>A notice for each new burn episode and each SLO turning at-risk or breached, recorded on its event.</summary>
    private List<Notification> NoticesFor(AccountConfig config, IReadOnlyList<SlaEvent> events)
    {
        var notices = new List<Notification>();
        if (config.Sla.Notify.Count == 0) return notices;
        foreach (var e in events.Where(e => e.Kind == SlaEventKind.BurnStarted || e.Kind == SlaEventKind.Status && e.To != SloHealth.Healthy))
        {
            var what = e.Kind == SlaEventKind.BurnStarted ? "is burning its error budget fast" : e.To == SloHealth.Breached ? "is breached" : "is at risk";
            var sent = AccountNotices.For(config, config.Sla.Notify, $"sla/{e.Slo}/{e.Kind.ToString().ToLowerInvariant()}",
                $"[SLA] {config.Name}: {e.Slo} {what}", $"{config.Name}: SLO {e.Slo} {what}: {e.Detail}.",
                e.To == SloHealth.Breached ? Severity.Sev1 : Severity.Sev2, e.At);
            notices.AddRange(sent);
            var index = _own.SlaEvents.IndexOf(e);
            if (index >= 0) _own.SlaEvents[index] = e with { Notified = sent.Select(n => $"{n.Recipient} by {n.Channel.ToWire()}").ToList() };
        }
        return notices;
    }

    private void AddSlaEvent(SlaEvent e)
    {
        _own.SlaEvents.Add(e);
        if (_own.SlaEvents.Count > AccountState.MaxSlaEvents) _own.SlaEvents.RemoveRange(0, _own.SlaEvents.Count - AccountState.MaxSlaEvents);
        _logger.LogInformation("Account {AccountId} SLO {Slo}: {Kind} {To} ({Detail})", AccountId, e.Slo, e.Kind, e.To, e.Detail);
    }

    private static string Describe(AvailabilityReport a) =>
        $"SLI {a.SliPercent:0.0000} % of {a.Target} %, {a.RemainingMinutes:0.0} of {a.BudgetMinutes:0.0} budget minutes left";

    private static string Describe(ClockSloReport c) =>
        $"{c.Met} met, {c.Breached} breached in 30 days" + (c.Drift.Drifting ? $"; trending to {c.Drift.ProjectedMinutes:0} min against {c.Limit.TotalMinutes:0}" : "");

    private FleetEntry Standing(AccountConfig config, SlaSnapshot snapshot)
    {
        var lastMonth = new TimeRange(snapshot.At - KpiPeriod, snapshot.At);
        // Only the month's incidents count, and this runs at every review: the rest are left out once, not five times.
        var times = IncidentTimes().Where(t => t.OpenedAt >= lastMonth.Start).ToList();
        var kpis = Kpis.Compute(times, severity: null, lastMonth);
        var bySeverity = Enum.GetValues<Severity>().Select(severity => KpiView.Of(config, times, severity, lastMonth)).ToList();
        return new()
        {
            AccountId = AccountId,
            Name = config.Name,
            Status = snapshot.Status,
            // Whole minutes: the rank moves when the budget does, not at every evaluation.
            RemainingMinutes = snapshot.LowestRemainingMinutes is { } remaining ? Math.Floor(remaining) : null,
            TightestSlo = snapshot.Tightest?.Slo,
            BudgetMinutes = snapshot.Tightest?.BudgetMinutes,
            // To the minute, like the budget: the forecast at each review otherwise differs in its last ticks.
            ExhaustedAt = snapshot.Tightest?.ExhaustedAt is { } at ? new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero) : null,
            Open = SeverityCounts.Of(_incidents.Values.Where(i => i.Status != IncidentStatus.Resolved).Select(i => i.Severity)),
            CreditPercent = snapshot.Availability.Select(a => a.CreditPercent).DefaultIfEmpty(0).Max(),
            MttaMinutes = kpis.Mtta.MedianMinutes,
            MttrMinutes = kpis.Mttr.MedianMinutes,
            MttaOverTarget = bySeverity.Any(k => k.Kpis.Mtta.MedianMinutes > k.Targets.MttaMinutes),
            MttrOverTarget = bySeverity.Any(k => k.Kpis.Mttr.MedianMinutes > k.Targets.MttrMinutes),
        };
    }

    /// <summary>The fleet's KPIs look back as far as the account page's.</summary>
    private static readonly TimeSpan KpiPeriod = TimeSpan.FromDays(30);

    private async Task KeepReminderWhileWatchingAsync(bool burning)
    {
        try
        {
            var reminder = await this.GetReminder(SlaReminder);
            if (burning && reminder is null) await this.RegisterOrUpdateReminder(SlaReminder, BurningReviewPeriod, BurningReviewPeriod);
            else if (!burning && reminder is not null) await this.UnregisterReminder(reminder);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Account {AccountId} could not update its SLA reminder", AccountId);
        }
    }
}
