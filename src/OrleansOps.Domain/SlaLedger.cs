namespace OrleansOps.Domain;

/// <summary>What the SLA engine reads from an account: its incidents as impact records, and its maintenance as excluded time.</summary>
public static class SlaLedger
{
    /// <summary>
    /// One record per service an incident spans (a failure that spread to a dependant impacts both) until its
    /// resolution: the service it opened on from its first alert's start at the incident's severity, each other one from
    /// when its worst alert joined at that alert's severity; overlapping records of one scope count once in the maths.
    /// </summary>
    /// An operator's correction moves the impact window (each record keeps within it) or leaves the incident out of the
    /// SLOs it names (<see cref="ImpactRecord.CountsFor"/>).
    public static IReadOnlyList<ImpactRecord> From(IEnumerable<IncidentSummary> incidents) =>
        incidents.SelectMany(Records).ToList();

    private static IEnumerable<ImpactRecord> Records(IncidentSummary i)
    {
        var correction = i.SlaCorrection;
        var start = correction?.ImpactStart ?? i.StartedAt;
        var end = correction?.ImpactEnd ?? i.ResolvedAt;
        ImpactRecord Record(string service, Severity severity, DateTimeOffset since)
        {
            var from = since < start ? start : since;
            return new(i.Id, service, i.Nodes.Items, severity, from, end is { } e && e < from ? from : end, i.NodesTruncated, correction);
        }
        return i.Services.Items.Count == 0
            ? [Record(i.Service, i.Severity, start)]
            // A service the failure spread to is impacted from when its worst alert joined, at that alert's severity.
            : i.Services.Items.Select(span => Record(span.Service, span.Severity, span.Service == i.Service || span.Since < i.StartedAt ? start : span.Since));
    }

    /// <summary>
    /// The maintenance that applies to each record within <paramref name="range"/>: the occurrences of every window whose
    /// matchers hold for the record's service and one of its nodes (read as the labels <c>service</c> and <c>node</c>),
    /// so a window on one service never hides another's downtime.
    /// </summary>
    public static Func<ImpactRecord, IReadOnlyList<TimeRange>> MaintenanceOf(AccountConfig config, TimeRange range)
    {
        var occurrences = config.Maintenance.ToDictionary(
            window => window,
            window => window.OccurrencesBetween(range.Start, range.End, config.TimeZone).Select(o => new TimeRange(o.Start, o.End)).ToList());
        var cache = new Dictionary<string, IReadOnlyList<TimeRange>>(StringComparer.Ordinal);
        return record =>
        {
            var nodes = record.Nodes.Count > 0 ? record.Nodes : [""];
            var key = record.Service + "\u001f" + string.Join('\u001f', nodes);
            if (cache.TryGetValue(key, out var known)) return known;
            return cache[key] = config.Maintenance
                .Where(window => nodes.Any(node => window.Covers(new Dictionary<string, string> { ["service"] = record.Service, ["node"] = node })))
                .SelectMany(window => occurrences[window])
                .ToList();
        };
    }
}
