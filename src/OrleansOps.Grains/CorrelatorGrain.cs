using Orleans.Runtime;

namespace OrleansOps.Grains;

/// <summary>
/// Dedup and grouping for one account and service. Its decisions are written before any incident hears of
/// them, so a retried request after a crash lands in the same incidents; incidents apply alerts as upserts.
/// </summary>
public sealed class CorrelatorGrain(
    [PersistentState("correlator", StorageNames.Grains)] IPersistentState<CorrelatorState> state)
    : Grain, ICorrelatorGrain
{
    public async Task<IReadOnlyList<AlertReceipt>> Ingest(CorrelationBatch batch)
    {
        var receipts = new AlertReceipt?[batch.Alerts.Count];
        var pending = Enumerable.Range(0, batch.Alerts.Count).ToList();

        // A second round only happens when an incident turned out to be resolved already: its new firings open a new occurrence.
        for (var round = 0; round < 2 && pending.Count > 0; round++)
        {
            var (routes, changed) = state.State.Plan(
                batch.AccountId, batch.Service, pending.Select(i => batch.Alerts[i]).ToList(), batch.GroupBy, Ids.NewIncidentId);
            if (changed) await state.WriteStateAsync();

            var results = await Task.WhenAll(routes
                .Select((route, position) => (route, index: pending[position]))
                .GroupBy(r => r.route.IncidentId)
                .Select(incident => DeliverAsync(batch, incident.Key, incident.ToList())));

            var rejected = new List<int>();
            var forgot = false;
            foreach (var (incidentId, status, delivered) in results)
            {
                foreach (var (route, index, outcome) in delivered)
                {
                    if (outcome == AlertOutcome.Rejected) rejected.Add(index);
                    else receipts[index] = new AlertReceipt
                    {
                        Fingerprint = route.Alert.Fingerprint,
                        IncidentId = incidentId,
                        Outcome = outcome,
                        OpenedIncident = route.Opens is not null,
                    };
                }
                if (status == IncidentStatus.Resolved) forgot |= state.State.Forget(incidentId);
            }
            pending = rejected.Order().ToList();
            if (forgot && pending.Count == 0) await state.WriteStateAsync();
        }

        return receipts.Select((receipt, i) => receipt ?? new AlertReceipt
        {
            Fingerprint = batch.Alerts[i].Fingerprint,
            Outcome = AlertOutcome.Ignored,
        }).ToList();
    }

    public Task<CorrelationCounters> GetCounters() => Task.FromResult(state.State.Counters);

    private async Task<(string IncidentId, IncidentStatus Status, List<(Route Route, int Index, AlertOutcome Outcome)> Delivered)> DeliverAsync(
        CorrelationBatch batch, string incidentId, List<(Route route, int index)> routes)
    {
        var first = routes[0].route;
        var origin = first.Opens ?? new IncidentOrigin
        {
            AccountId = batch.AccountId,
            Service = batch.Service,
            ServiceDeclared = first.Alert.ServiceDeclared,
            GroupKey = GroupKey.Of(first.Alert.Labels, batch.GroupBy),
        };
        var result = await GrainFactory.GetGrain<IIncidentGrain>(incidentId)
            .Deliver(new AlertDelivery { Origin = origin, Alerts = routes.Select(r => r.route.Alert).ToList() });
        return (incidentId, result.Status, routes.Select((r, i) => (r.route, r.index, result.Outcomes[i])).ToList());
    }
}
