using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>
/// Dedup and grouping for one account and service. Its decisions are written before any incident hears of
/// them, so a retried request after a crash lands in the same incidents; incidents apply alerts as upserts.
/// What it learns from the incidents' answers (resolved alerts and incidents) and its counters are saved within
/// <see cref="LazySaveDelay"/>, or with its next decision, whichever comes first: the maps recover from a lost
/// lazy save anyway (a resolved incident rejects, a resolve already taken is ignored).
/// </summary>
public sealed class CorrelatorGrain(
    [PersistentState("correlator", StorageNames.Grains)] IPersistentState<CorrelatorState> state)
    : Grain, ICorrelatorGrain
{
    /// <summary>Each round forgets at least one resolved incident, so rounds are few; this only guards against a bug.</summary>
    private const int MaxRounds = 16;
    public static readonly TimeSpan LazySaveDelay = TimeSpan.FromSeconds(5);

    private IGrainTimer? _lazySave;

    public async Task<IReadOnlyList<AlertReceipt>> Ingest(CorrelationBatch batch)
    {
        var receipts = new AlertReceipt?[batch.Alerts.Count];
        var pending = Enumerable.Range(0, batch.Alerts.Count).ToList();

        // Another round happens only when an incident turned out to be resolved already: its new firings are a new occurrence.
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == MaxRounds) throw new InvalidOperationException($"Alerts for {batch.AccountId}/{batch.Service} kept landing on resolved incidents.");
            var (routes, changed) = state.State.Plan(
                batch.AccountId, batch.Service, pending.Select(i => batch.Alerts[i]).ToList(), batch.GroupBy, Ids.NewIncidentId, replanning: round > 0);
            if (changed) await SaveNowAsync();

            var answers = await Task.WhenAll(routes.GroupBy(route => route.IncidentId).Select(incident => DeliverAsync(batch, incident.ToList())));

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

        return receipts.Select((receipt, i) => receipt ?? new AlertReceipt
        {
            Fingerprint = batch.Alerts[i].Fingerprint,
            Outcome = AlertOutcome.Ignored,
        }).ToList();
    }

    public Task<CorrelationCounters> GetCounters() => Task.FromResult(state.State.Counters);

    public async Task Adopt(string incidentId, string groupKey, IReadOnlyList<string> firingFingerprints)
    {
        if (state.State.Adopt(incidentId, groupKey, firingFingerprints)) await SaveNowAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_lazySave is not null && reason.ReasonCode != DeactivationReasonCode.ApplicationError) await SaveNowAsync();
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
            .Deliver(new AlertDelivery { Origin = origin, Alerts = routes.Select(r => r.Alert).ToList() });
        return (routes.Zip(result.Outcomes).ToList(), result.Status);
    }
}
