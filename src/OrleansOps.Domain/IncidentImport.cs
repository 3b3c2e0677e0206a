using System.Globalization;
using System.Text.Json;

namespace OrleansOps.Domain;

/// <summary>
/// Reads a backfill document, <c>{"incidents":[{service, severity, title, startedAt, acknowledgedAt, resolvedAt, nodes}]}</c>,
/// for the HTTP API and opsctl alike: every past incident, or every problem as "incidents[i].field: message".
/// </summary>
public static class IncidentImport
{
    public const int MaxIncidents = 10_000;
    private const int MaxTitleLength = 500;
    /// <summary>As many nodes as an incident's summary lists.</summary>
    public const int MaxNodes = IncidentState.SummaryNodes;

    /// <summary>Every incident of the body, or the problems with it as "incidents[i].field: message".</summary>
    public static List<ImportedIncident> Read(JsonElement root, AccountConfig config, DateTimeOffset now, List<string> errors)
    {
        var result = new List<ImportedIncident>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("incidents", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            errors.Add("incidents: required, an array of {service, severity, title, startedAt, acknowledgedAt, resolvedAt}");
            return result;
        }
        if (list.GetArrayLength() > MaxIncidents)
        {
            errors.Add($"incidents: at most {MaxIncidents} per request");
            return result;
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var path = $"incidents[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path}: must be an object");
                continue;
            }
            var fieldErrors = new List<string>();
            var service = JsonText.OptionalString(item, "service", 200, fieldErrors);
            var severityWord = JsonText.OptionalString(item, "severity", 50, fieldErrors);
            var title = JsonText.OptionalString(item, "title", MaxTitleLength, fieldErrors);
            var startedAt = Instant(item, "startedAt", fieldErrors);
            var acknowledgedAt = Instant(item, "acknowledgedAt", fieldErrors);
            var resolvedAt = Instant(item, "resolvedAt", fieldErrors);
            var nodes = Nodes(item, fieldErrors);
            if (service is null) fieldErrors.Add("service: required");
            else if (!config.Declares(service)) fieldErrors.Add($"service: '{service}' is not a declared service of the account");
            var severity = SeverityMapping.FromWord(severityWord);
            if (severity is null) fieldErrors.Add(severityWord is null ? "severity: required" : $"severity: '{severityWord}' is not a severity (sev1–sev4, critical, error, warning, info)");
            if (string.IsNullOrWhiteSpace(title)) fieldErrors.Add("title: required");
            if (startedAt is null && !fieldErrors.Any(e => e.StartsWith("startedAt", StringComparison.Ordinal))) fieldErrors.Add("startedAt: required");
            if (resolvedAt is null && !fieldErrors.Any(e => e.StartsWith("resolvedAt", StringComparison.Ordinal))) fieldErrors.Add("resolvedAt: required (only past, resolved incidents are imported)");
            if (startedAt is { } start && resolvedAt is { } end)
            {
                if (end < start) fieldErrors.Add("resolvedAt: before startedAt");
                if (end > now) fieldErrors.Add("resolvedAt: in the future");
                if (acknowledgedAt is { } ack && (ack < start || ack > end)) fieldErrors.Add("acknowledgedAt: must lie between startedAt and resolvedAt");
            }
            errors.AddRange(fieldErrors.Select(e => $"{path}.{e}"));
            if (fieldErrors.Count == 0)
                result.Add(new ImportedIncident
                {
                    AccountId = config.Id,
                    Service = service!,
                    Severity = severity!.Value,
                    Title = title!,
                    StartedAt = startedAt!.Value,
                    AcknowledgedAt = acknowledgedAt,
                    ResolvedAt = resolvedAt!.Value,
                    Nodes = nodes,
                });
        }
        return result;
    }

    /// <summary>The optional <c>nodes</c>: the nodes the incident took down (per-node SLAs count it against each).</summary>
    private static IReadOnlyList<string> Nodes(JsonElement item, List<string> errors)
    {
        if (!item.TryGetProperty("nodes", out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(n => n.ValueKind != JsonValueKind.String || n.GetString()!.Trim().Length == 0 || n.GetString()!.Length > 200))
        {
            errors.Add("nodes: must be an array of node names (non-empty strings of at most 200 characters)");
            return [];
        }
        var nodes = value.EnumerateArray().Select(n => n.GetString()!).Distinct(StringComparer.Ordinal).ToList();
        if (nodes.Count > MaxNodes) errors.Add($"nodes: at most {MaxNodes}");
        return nodes;
    }

    private static DateTimeOffset? Instant(JsonElement item, string name, List<string> errors) => JsonText.OptionalInstant(item, name, errors);
}
