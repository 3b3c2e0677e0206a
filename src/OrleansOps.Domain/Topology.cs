namespace OrleansOps.Domain;

/// <summary>The account's declared service dependencies, as ingest uses them.</summary>
public static class Topology
{
    /// <summary>For each service with dependencies, the services it depends on directly.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Upstreams(IReadOnlyList<ServiceDefinition> services) =>
        services.Where(s => s.DependsOn.Count > 0).ToDictionary(s => s.Id, s => s.DependsOn, StringComparer.Ordinal);

    /// <summary>
    /// Orders <paramref name="services"/> in waves so that a service comes after every upstream of it in the set:
    /// a cause and its symptom in one request are correlated cause first. When a dependency cycle blocks, every service
    /// still waiting goes in one wave (cycles are rare and the order among them is arbitrary anyway).
    /// </summary>
    public static List<List<string>> Waves(IEnumerable<string> services, IReadOnlyDictionary<string, IReadOnlyList<string>> upstreams)
    {
        var pending = services.Distinct(StringComparer.Ordinal).ToList();
        var waves = new List<List<string>>();
        while (pending.Count > 0)
        {
            var ready = pending.Where(s => !(upstreams.GetValueOrDefault(s) ?? []).Any(u => u != s && pending.Contains(u))).ToList();
            if (ready.Count == 0) ready = pending.ToList();
            waves.Add(ready);
            pending.RemoveAll(ready.Contains);
        }
        return waves;
    }
}
