namespace OrleansOps.Grains;

/// <summary>
/// The open incidents by the services they span, per service and severity in time order: what topology asks of the
/// account's correlation on every new alert (the latest failure of a service it depends on, the incidents a dependant
/// opened), answered from the newest entries rather than by reading every open incident. Entries are checked against
/// the spans themselves when read, so a resolved or merged incident, or a span that grew more severe, drops out then.
/// </summary>
public sealed class OpenSpans(TrackedMap<List<ServiceSpan>> spans)
{
    private readonly Dictionary<(string Service, Severity Severity), List<(string IncidentId, DateTimeOffset Since)>> _spanning = [];
    private readonly Dictionary<(string Service, Severity Severity), List<(string IncidentId, DateTimeOffset Since)>> _opened = [];

    /// <summary>The account's time window: what is older than that behind the newest entry is never asked for again.</summary>
    public TimeSpan Window { get; set; }

    /// <summary>Every open incident's spans, as an activation finds them.</summary>
    public static OpenSpans Of(TrackedMap<List<ServiceSpan>> spans)
    {
        var index = new OpenSpans(spans);
        foreach (var (incidentId, list) in spans.OrderBy(p => p.Value.Count == 0 ? DateTimeOffset.MinValue : p.Value.Min(s => s.Since)))
            index.Added(incidentId);
        return index;
    }

    /// <summary>The incident's spans changed all at once (it took a merged incident's), or were loaded.</summary>
    public void Added(string incidentId)
    {
        if (!spans.TryGetValue(incidentId, out var list)) return;
        for (var i = 0; i < list.Count; i++) Added(incidentId, list[i], first: i == 0);
    }

    /// <summary>The incident spans a service now, or at a new severity; <paramref name="first"/> when it is the span it opened with.</summary>
    public void Added(string incidentId, ServiceSpan span, bool first)
    {
        Add(_spanning, span, incidentId);
        if (first) Add(_opened, span, incidentId);
    }

    /// <summary>The latest failure (at least as severe as <paramref name="severity"/>) since <paramref name="since"/> of each incident spanning <paramref name="services"/>, at most one per service and severity.</summary>
    public IReadOnlyList<UpstreamIncident> Spanning(IEnumerable<string> services, Severity severity, DateTimeOffset since) =>
        Read(_spanning, services, severity, since, first: false, all: false);

    /// <summary>The incidents that <paramref name="services"/> opened with a failure since <paramref name="since"/>, as their first span says.</summary>
    public IReadOnlyList<UpstreamIncident> OpenedBy(IEnumerable<string> services, Severity severity, DateTimeOffset since) =>
        Read(_opened, services, severity, since, first: true, all: true);

    private void Add(Dictionary<(string, Severity), List<(string, DateTimeOffset)>> index, ServiceSpan span, string incidentId)
    {
        if (!index.TryGetValue((span.Service, span.Severity), out var entries)) index[(span.Service, span.Severity)] = entries = [];
        if (entries.Count > 0 && entries[^1] == (incidentId, span.Since)) return;
        var at = entries.Count;
        while (at > 0 && entries[at - 1].Item2 > span.Since) at--;
        entries.Insert(at, (incidentId, span.Since));
        if (Window <= TimeSpan.Zero) return;
        var stale = 0;
        while (stale < entries.Count && entries[stale].Item2 < entries[^1].Item2 - Window) stale++;
        if (stale > 0) entries.RemoveRange(0, stale);
    }

    /// <summary>Of each service, at each severity at least <paramref name="severity"/>: the latest entry since <paramref name="since"/>, or all of them.</summary>
    private List<UpstreamIncident> Read(Dictionary<(string, Severity), List<(string, DateTimeOffset)>> index, IEnumerable<string> services, Severity severity,
        DateTimeOffset since, bool first, bool all)
    {
        var found = new List<UpstreamIncident>();
        foreach (var service in services)
            foreach (var level in SeverityMapping.All)
                if (level <= severity) Read(index, service, level, since, first, all, found);
        return found;
    }

    /// <summary>Newest first, the entries still true of their incident; stale ones met on the way are dropped.</summary>
    private void Read(Dictionary<(string, Severity), List<(string, DateTimeOffset)>> index, string service, Severity severity,
        DateTimeOffset since, bool first, bool all, List<UpstreamIncident> found)
    {
        if (!index.TryGetValue((service, severity), out var entries)) return;
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var (incidentId, at) = entries[i];
            if (!Current(incidentId, service, severity, at, first))
            {
                entries.RemoveAt(i);
                continue;
            }
            if (at < since) break;
            found.Add(new UpstreamIncident(incidentId, service, at, severity));
            if (!all) break;
        }
    }

    private bool Current(string incidentId, string service, Severity severity, DateTimeOffset since, bool first)
    {
        if (!spans.TryGetValue(incidentId, out var list) || list.Count == 0) return false;
        if (first) return list[0] == new ServiceSpan(service, since, severity);
        foreach (var span in list)
            if (span.Service == service) return span.Severity == severity && span.Since == since;
        return false;
    }
}
