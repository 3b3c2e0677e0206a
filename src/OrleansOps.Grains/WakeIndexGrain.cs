using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansOps.Grains;

/// <summary>
/// Keyed by <see cref="GrainKeys.Wakes"/>: the back-stop for everything due by itself. Active incidents, correlators and heartbeats
/// wake on time by their own grain timers; their journal entries also keep the journal's wake index (when each next
/// needs waking), and this grain's one reminder looks there every period and wakes whatever is due by the next look,
/// so an incident whose activation or silo is gone still escalates, expires its alerts and pages. One reminder for the
/// whole cluster, instead of one per incident.
/// </summary>
public sealed class WakeIndexGrain(IJournal journal, TimeProvider time, IOptions<BackstopReminderOptions> backstop, ILogger<WakeIndexGrain> logger)
    : Grain, IWakeIndexGrain, IRemindable
{
    private const string Reminder = "wake-index";
    /// <summary>How many streams one look wakes before it looks again.</summary>
    private const int Batch = 1000;

    public async Task Start()
    {
        await this.RegisterOrUpdateReminder(Reminder, backstop.Value.Period, backstop.Value.Period);
        await WakeDueAsync();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == Reminder ? WakeDueAsync() : Task.CompletedTask;

    private async Task WakeDueAsync()
    {
        var until = time.GetUtcNow() + backstop.Value.Period;
        var woken = 0;
        StreamWake? after = null;
        while (true)
        {
            var due = await journal.DueWakesAsync(until, after, Batch);
            foreach (var wake in due)
            {
                if (wake.Stream.StartsWith(IncidentLog.StreamPrefix, StringComparison.Ordinal))
                    GrainFactory.GetGrain<IIncidentGrain>(wake.Stream[IncidentLog.StreamPrefix.Length..]).Wake().Ignore();
                else if (wake.Stream.StartsWith(CorrelatorGrain.StreamPrefix, StringComparison.Ordinal))
                    GrainFactory.GetGrain<ICorrelatorGrain>(wake.Stream[CorrelatorGrain.StreamPrefix.Length..]).Wake().Ignore();
                else if (wake.Stream.StartsWith(HeartbeatGrain.StreamPrefix, StringComparison.Ordinal))
                    GrainFactory.GetGrain<IHeartbeatGrain>(wake.Stream[HeartbeatGrain.StreamPrefix.Length..]).Wake().Ignore();
            }
            woken += due.Count;
            if (due.Count < Batch) break;
            after = due[^1];
        }
        if (woken > 0) logger.LogDebug("The wake index woke {Count} grains with something due by {Until:O}", woken, until);
    }
}
