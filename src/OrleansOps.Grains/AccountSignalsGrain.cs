namespace OrleansOps.Grains;

/// <summary>
/// The account-wide view for inhibition and storm mode. Inhibition sources are persisted (a restart must not
/// un-inhibit targets until the sources are sent again); the storm rate is a one-minute measure kept in memory.
/// </summary>
public sealed class AccountSignalsGrain(
    [PersistentState("account-signals", StorageNames.Grains)] IPersistentState<InhibitionSources> sources,
    TimeProvider time)
    : Grain, IAccountSignalsGrain
{
    private readonly StormDetector _storm = new();

    public async Task<AccountSignals> Observe(IReadOnlyList<InhibitionRule> rules, int stormPerMinute, IReadOnlyList<NormalizedAlert> alerts, int newAlerts)
    {
        var now = time.GetUtcNow();
        var changed = false;
        foreach (var alert in alerts) changed |= sources.State.Observe(alert, rules);
        if (changed) await sources.WriteOrDiscardAsync(this);

        var inhibited = new Dictionary<string, string>(StringComparer.Ordinal);
        if (rules.Count > 0)
            foreach (var alert in alerts.Where(a => a is { Action: AlertAction.Signal, Status: AlertStatus.Firing }))
                if (sources.State.InhibitedBy(alert, rules, now) is { } reason) inhibited[alert.Fingerprint] = reason;
        var storming = _storm.Observe(newAlerts, now, stormPerMinute);
        return new AccountSignals { Inhibited = inhibited, StormRate = storming ? _storm.Rate : null };
    }
}
