using System.Text;

namespace OrleansOps.Domain;

[GenerateSerializer]
public sealed class CorrelationCounters
{
    [Id(0)] public long Received { get; set; }
    [Id(1)] public long Deduplicated { get; set; }
    [Id(2)] public long Grouped { get; set; }
    [Id(3)] public long IncidentsOpened { get; set; }
    [Id(4)] public long Resolved { get; set; }
    /// <summary>Resolves and acknowledgements for alerts that are not open here (late, out of order, or unknown).</summary>
    [Id(5)] public long Unmatched { get; set; }
    [Id(6)] public long FiringEvents { get; set; }
}

/// <summary>Where one alert goes: an existing incident, or a new one with its origin.</summary>
public sealed record Route(string IncidentId, NormalizedAlert Alert, IncidentOrigin? Opens);

/// <summary>
/// The dedup-and-group state of one account/service: which open incident holds each firing alert, and which
/// open incident holds each group. The incident stays the authority on its own status: a resolved incident
/// rejects new firings, and <see cref="Forget"/> drops it here.
/// </summary>
[GenerateSerializer]
public sealed class CorrelatorState
{
    [Id(0)] public Dictionary<string, string> FiringAlerts { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public Dictionary<string, string> OpenGroups { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public long DeliverySeq { get; set; }
    [Id(3)] public CorrelationCounters Counters { get; set; } = new();

    /// <summary>Decides where each alert goes, in order, updating the maps. Returns the routes and whether the maps changed.</summary>
    public (List<Route> Routes, bool Changed) Plan(
        string accountId, string service, IReadOnlyList<NormalizedAlert> alerts, IReadOnlyList<string> groupBy,
        Func<string> newIncidentId)
    {
        var routes = new List<Route>(alerts.Count);
        var changed = false;
        foreach (var alert in alerts)
        {
            Counters.Received++;
            if (alert.Action == AlertAction.Acknowledge)
            {
                if (FiringAlerts.TryGetValue(alert.Fingerprint, out var acked)) routes.Add(new Route(acked, alert, null));
                else Counters.Unmatched++;
                continue;
            }
            if (alert.Status == AlertStatus.Resolved)
            {
                if (FiringAlerts.Remove(alert.Fingerprint, out var holder))
                {
                    Counters.Resolved++;
                    routes.Add(new Route(holder, alert, null));
                    changed = true;
                }
                else
                {
                    Counters.Unmatched++;
                }
                continue;
            }

            Counters.FiringEvents++;
            if (FiringAlerts.TryGetValue(alert.Fingerprint, out var existing))
            {
                Counters.Deduplicated++;
                routes.Add(new Route(existing, alert, null));
                continue;
            }
            var groupKey = GroupKey.Of(alert.Labels, groupBy);
            changed = true;
            if (OpenGroups.TryGetValue(groupKey, out var grouped))
            {
                Counters.Grouped++;
                FiringAlerts[alert.Fingerprint] = grouped;
                routes.Add(new Route(grouped, alert, null));
                continue;
            }
            var id = newIncidentId();
            Counters.IncidentsOpened++;
            OpenGroups[groupKey] = id;
            FiringAlerts[alert.Fingerprint] = id;
            var origin = new IncidentOrigin
            {
                AccountId = accountId,
                Service = service,
                ServiceDeclared = alert.ServiceDeclared,
                GroupKey = groupKey,
            };
            routes.Add(new Route(id, alert, origin));
        }
        return (routes, changed);
    }

    /// <summary>The incident is resolved: its alerts and group no longer attract anything.</summary>
    public bool Forget(string incidentId)
    {
        var removed = RemoveValues(FiringAlerts, incidentId);
        removed |= RemoveValues(OpenGroups, incidentId);
        return removed;
    }

    private static bool RemoveValues(Dictionary<string, string> map, string value)
    {
        var keys = map.Where(pair => pair.Value == value).Select(pair => pair.Key).ToList();
        foreach (var key in keys) map.Remove(key);
        return keys.Count > 0;
    }
}

/// <summary>
/// The group an alert belongs to within its service: the values of the account's <c>group_by</c> labels
/// (a missing label counts as empty). No labels means one group per service; <c>...</c> means every label,
/// as in Alertmanager.
/// </summary>
public static class GroupKey
{
    public const string AllLabels = "...";

    public static string Of(IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> groupBy)
    {
        if (groupBy.Contains(AllLabels)) return "{" + Join(labels.Keys, labels) + "}";
        return "{" + Join(groupBy, labels) + "}";
    }

    private static string Join(IEnumerable<string> names, IReadOnlyDictionary<string, string> labels)
    {
        var key = new StringBuilder();
        foreach (var name in names.Distinct().Order(StringComparer.Ordinal))
        {
            if (key.Length > 0) key.Append(',');
            key.Append(name).Append("=\"").Append(Escape(labels.GetValueOrDefault(name, ""))).Append('"');
        }
        return key.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
