using Microsoft.Extensions.Logging;

namespace OrleansOps.Grains;

/// <summary>
/// Every account's SLA standing, kept ordered by risk: breached first, then at-risk, then by the least budget left.
/// Accounts report only when their status or whole minutes of budget change, so the index costs nothing while the
/// fleet is quiet, and a page of the riskiest accounts is read off the ordered set. It lives in memory: when it
/// activates it asks every account of the directory for its standing, in the background.
/// </summary>
public sealed class FleetGrain(ILogger<FleetGrain> logger) : Grain, IFleetGrain
{
    private const int RebuildConcurrency = 16;

    private readonly Dictionary<string, FleetEntry> _byAccount = new(StringComparer.Ordinal);
    private Task _rebuilt = Task.CompletedTask;
    private readonly SortedSet<FleetEntry> _byRisk = new(RiskOrder.Instance);
    /// <summary>A new activation's stamps never repeat an old one's.</summary>
    private readonly long _activation = Random.Shared.NextInt64();
    private long _changes;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Not awaited: reports that arrive meanwhile are newer than what the rebuild would learn, and win.
        _rebuilt = RebuildAsync();
        return Task.CompletedTask;
    }

    public Task Update(FleetEntry entry)
    {
        Put(entry);
        return Task.CompletedTask;
    }

    public async Task<FleetPage> List(int limit, FleetEntry? after)
    {
        await _rebuilt; // the first answer after a restart is the whole fleet, not the part rebuilt so far
        // By the order, not by the entry: the account may have moved since, and the page goes on from where it was.
        IEnumerable<FleetEntry> following = _byRisk;
        if (after is not null)
            following = _byRisk.Max is { } last && RiskOrder.Instance.Compare(after, last) < 0
                ? _byRisk.GetViewBetween(after, last).Where(e => RiskOrder.Instance.Compare(e, after) > 0)
                : [];
        var page = following.Take(limit + 1).ToList();
        return new FleetPage(page.Take(limit).ToList(), _byRisk.Count, page.Count > limit);
    }

    public Task<string> ChangeStamp() => Task.FromResult($"{_activation:x}.{_changes}");

    private void Put(FleetEntry entry)
    {
        _changes++;
        if (_byAccount.TryGetValue(entry.AccountId, out var old)) _byRisk.Remove(old);
        _byAccount[entry.AccountId] = entry;
        _byRisk.Add(entry);
    }

    private async Task RebuildAsync()
    {
        try
        {
            var ids = await GrainFactory.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
            foreach (var batch in ids.Chunk(RebuildConcurrency))
            {
                var standings = await Task.WhenAll(batch.Select(StandingOrNothingAsync));
                foreach (var standing in standings.OfType<FleetEntry>())
                {
                    if (!_byAccount.ContainsKey(standing.AccountId)) Put(standing);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The fleet index could not be rebuilt from the accounts; it fills as accounts report");
        }
    }

    /// <summary>One account that cannot answer does not stop the rebuild; it reports at its next review.</summary>
    private async Task<FleetEntry?> StandingOrNothingAsync(string accountId)
    {
        try
        {
            return await GrainFactory.GetGrain<IAccountGrain>(accountId).FleetStanding();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The fleet index could not read account {AccountId}", accountId);
            return null;
        }
    }

    private sealed class RiskOrder : IComparer<FleetEntry>
    {
        public static readonly RiskOrder Instance = new();

        public int Compare(FleetEntry? x, FleetEntry? y)
        {
            if (ReferenceEquals(x, y)) return 0;
            if (x is null) return -1;
            if (y is null) return 1;
            var byStatus = y.Status.CompareTo(x.Status);
            if (byStatus != 0) return byStatus;
            var byBudget = (x.RemainingMinutes ?? double.MaxValue).CompareTo(y.RemainingMinutes ?? double.MaxValue);
            return byBudget != 0 ? byBudget : string.CompareOrdinal(x.AccountId, y.AccountId);
        }
    }
}
