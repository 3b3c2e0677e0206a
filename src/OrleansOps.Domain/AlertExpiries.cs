namespace OrleansOps.Domain;

/// <summary>
/// When an incident's firing alerts end by themselves (their announced end passes without a refresh), earliest first.
/// A binary heap in one array rather than a balanced tree: an alert costs no object of its own (an incident may hold
/// 100,000, each of which the collector would trace), and a new alert, whose end is nearly always the latest, settles
/// at the bottom without walking a tree's cold nodes. An entry whose alert has since moved or lost its end stays where
/// it is and is dropped once it reaches the top; the heap is rebuilt when such entries are over half of it.
/// </summary>
internal sealed class AlertExpiries
{
    private static readonly Comparer<(DateTimeOffset At, string Fingerprint)> ByTime = Comparer<(DateTimeOffset At, string Fingerprint)>.Create(
        static (a, b) => a.At != b.At ? a.At.CompareTo(b.At) : string.CompareOrdinal(a.Fingerprint, b.Fingerprint));

    private readonly PriorityQueue<IncidentAlert, (DateTimeOffset At, string Fingerprint)> _heap = new(ByTime);
    /// <summary>Entries no longer their alert's end (at most: an alert given an end while not firing had none).</summary>
    private int _stale;

    /// <summary>The only way a firing alert's announced end changes, so that the earliest one is always at the top.</summary>
    public void Set(IncidentAlert alert, DateTimeOffset? expiresAt, IEnumerable<IncidentAlert> allAlerts)
    {
        if (alert.ExpiresAt == expiresAt) return; // a refresh that kept its end: its entry stands
        if (alert.ExpiresAt is not null) _stale++;
        alert.ExpiresAt = expiresAt;
        if (expiresAt is { } at && alert.Status == AlertStatus.Firing) _heap.Enqueue(alert, (at, alert.Fingerprint));
        if (_stale > 32 && _stale > _heap.Count / 2) Rebuild(allAlerts);
        else DropStaleTop();
    }

    /// <summary>The alert that ends first and when, if any firing alert has an end.</summary>
    public bool TryPeek(out IncidentAlert alert, out DateTimeOffset at)
    {
        var found = _heap.TryPeek(out alert!, out var top);
        at = top.At;
        return found;
    }

    /// <summary>Starts again from the alerts as they are (after a load, or when stale entries have piled up).</summary>
    public void Rebuild(IEnumerable<IncidentAlert> alerts)
    {
        _heap.Clear();
        _stale = 0;
        _heap.EnqueueRange(alerts
            .Where(a => a is { Status: AlertStatus.Firing, ExpiresAt: not null })
            .Select(a => (a, (a.ExpiresAt!.Value, a.Fingerprint))));
    }

    private void DropStaleTop()
    {
        while (_heap.TryPeek(out var alert, out var top) && alert.ExpiresAt != top.At)
        {
            _heap.Dequeue();
            if (_stale > 0) _stale--;
        }
    }
}
