using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace OrleansOps.Grains;

/// <summary>
/// Works through one incident's ticket outbox: asks the incident for the next write per system, carries it out, reports
/// how it went, until the incident has nothing due. Reentrant, so one slow ticket system never holds up other incidents.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class TicketSyncGrain(ITicketGateway gateway, ILogger<TicketSyncGrain> logger) : Grain, ITicketSyncGrain
{
    /// <summary>A runaway guard: an incident never owes this many writes in one go (each chronicle entry is one).</summary>
    private const int MaxWritesPerRun = 1000;

    public async Task Sync(string incidentId, string holder)
    {
        var incident = GrainFactory.GetGrain<IIncidentGrain>(incidentId);
        try
        {
            for (var writes = 0; writes < MaxWritesPerRun;)
            {
                var batch = await incident.NextTicketWork(holder);
                if (batch.Work.Count == 0) return;
                foreach (var work in batch.Work)
                {
                    await incident.RecordTicketOutcome(await ExecuteAsync(batch.Settings, work));
                    writes++;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The incident's lease runs out and its next change or wake hands the outbox over again.
            logger.LogWarning("Ticket sync of incident {IncidentId} stopped ({Exception}); it resumes with the incident's next change or wake", incidentId, e.GetType().Name);
        }
    }

    private async Task<TicketOutcome> ExecuteAsync(ItsmSettings settings, TicketWork work)
    {
        try
        {
            return await gateway.ExecuteAsync(settings, work, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new TicketOutcome { System = work.System, Kind = work.Kind, Seq = work.Seq, Succeeded = false, Error = e.GetType().Name, Retryable = true };
        }
    }
}
