namespace OrleansOps.Domain;

/// <summary>What the SLA engine reads from an account: its incidents as impact records, and its maintenance as excluded time.</summary>
public static class SlaLedger
{
    /// <summary>
    /// One record per service an incident spans (a failure that spread to a dependant impacts both), from its first
    /// alert's start to its resolution; overlapping records of one scope count once in the maths.
    /// </summary>
    public static IReadOnlyList<ImpactRecord> From(IEnumerable<IncidentSummary> incidents) =>
        incidents.SelectMany(i => (i.Services.Items.Count > 0 ? i.Services.Items.Select(s => s.Service) : [i.Service])
                .Distinct(StringComparer.Ordinal)
                .Select(service => new ImpactRecord(i.Id, service, i.Nodes.Items, i.Severity, i.StartedAt, i.ResolvedAt)))
            .ToList();

    /// <summary>
    /// The maintenance time of <paramref name="config"/> within <paramref name="range"/> that applies to the SLO: the
    /// occurrences of every window whose matchers hold for one of its services (and nodes), read as the labels
    /// <c>service</c> and <c>node</c>; an SLO over every service takes every window.
    /// </summary>
    public static IReadOnlyList<TimeRange> Maintenance(AccountConfig config, AvailabilitySlo slo, TimeRange range)
    {
        if (!slo.ExcludeMaintenance) return [];
        var services = slo.Services.Count > 0 ? slo.Services : config.Services.Select(s => s.Id).ToList();
        var nodes = slo.Nodes.Count > 0 ? slo.Nodes : [""];
        return config.Maintenance
            .Where(window => slo.Services.Count == 0 && slo.Nodes.Count == 0
                || services.Any(service => nodes.Any(node => window.Covers(new Dictionary<string, string> { ["service"] = service, ["node"] = node }))))
            .SelectMany(window => window.OccurrencesBetween(range.Start, range.End, config.TimeZone))
            .Select(o => new TimeRange(o.Start, o.End))
            .ToList();
    }
}
