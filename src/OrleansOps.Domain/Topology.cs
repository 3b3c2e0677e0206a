namespace OrleansOps.Domain;

/// <summary>The account's declared service dependencies, as ingest uses them.</summary>
public static class Topology
{
    /// <summary>For each service with dependencies, the services it depends on directly.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Upstreams(IReadOnlyList<ServiceDefinition> services) =>
        services.Where(s => s.DependsOn.Count > 0).ToDictionary(s => s.Id, s => s.DependsOn, StringComparer.Ordinal);

    /// <summary>For each service others depend on, every service that depends on it, directly or through others.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Dependants(IReadOnlyDictionary<string, IReadOnlyList<string>> upstreams)
    {
        var dependants = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var service in upstreams.Keys)
        {
            // Walk up from each service: everything it reaches has it as a dependant.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var pending = new Stack<string>(upstreams[service]);
            while (pending.TryPop(out var upstream))
            {
                if (upstream == service || !seen.Add(upstream)) continue;
                if (!dependants.TryGetValue(upstream, out var set)) dependants[upstream] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(service);
                foreach (var next in upstreams.GetValueOrDefault(upstream) ?? []) pending.Push(next);
            }
        }
        return dependants.ToDictionary(d => d.Key, d => (IReadOnlySet<string>)d.Value, StringComparer.Ordinal);
    }

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
