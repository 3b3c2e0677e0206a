using System.Text.Json;

namespace OrleansOps.Integrations.Inbound;

/// <summary>
/// <c>POST /api/v1/alerts</c>: OrleansOps' own format (docs/api.md) —
/// <c>{"alerts": [{"labels": {...}, "annotations": {...}, "status": "firing|resolved", "severity": "...",
/// "service": "...", "summary": "...", "dedupKey": "...", "startsAt": "...", "endsAt": "...", "links": [...]}]}</c>.
/// </summary>
public static class CanonicalAlertParser
{
    public const string Source = "api";

    public static ParseResult Parse(JsonElement root, DateTimeOffset now)
    {
        var fields = new JsonFields();
        var alerts = new List<InboundAlert>();
        if (!fields.IsObject(root, "$")) return new ParseResult(alerts, fields.Errors);
        if (!root.TryGetProperty("alerts", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            fields.Fail("alerts", "is required and must be an array");
            return new ParseResult(alerts, fields.Errors);
        }
        if (list.GetArrayLength() == 0) fields.Fail("alerts", "must hold at least one alert");
        if (list.GetArrayLength() > AlertmanagerAlertsParser.MaxAlerts) fields.Fail("alerts", $"holds more than {AlertmanagerAlertsParser.MaxAlerts} alerts");
        if (fields.Errors.Count > 0) return new ParseResult(alerts, fields.Errors);

        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (Read(fields, item, $"alerts[{index++}]", now) is { } alert) alerts.Add(alert);
        }
        return new ParseResult(alerts, fields.Errors);
    }

    private static InboundAlert? Read(JsonFields fields, JsonElement item, string path, DateTimeOffset now)
    {
        if (!fields.IsObject(item, path)) return null;
        var before = fields.Errors.Count;
        var labels = fields.StringMap(item, "labels", path, required: true);
        var annotations = fields.StringMap(item, "annotations", path);
        var summary = fields.String(item, "summary", path, maxLength: 1024);
        var service = fields.String(item, "service", path, maxLength: 256);
        var dedupKey = fields.String(item, "dedupKey", path, maxLength: 255);
        var startsAt = fields.Timestamp(item, "startsAt", path);
        var endsAt = fields.Timestamp(item, "endsAt", path);
        var links = fields.Links(item, "links", path);
        var severityWord = fields.String(item, "severity", path);
        var severity = SeverityMapping.FromWord(severityWord);
        if (severityWord is not null && severity is null)
            fields.Fail(JsonFields.Join(path, "severity"), $"'{severityWord}' is not a known severity (sev1–sev4, P1–P5, critical, error, warning, info)");
        var status = fields.Status(item, path, AlertClock.StatusAt(endsAt, now));
        if (labels.Count == 0 && dedupKey is null && fields.Errors.Count == before)
            fields.Fail(JsonFields.Join(path, "labels"), "must hold at least one non-empty label (or give a dedupKey)");
        if (fields.Errors.Count > before) return null;
        if (summary is not null) annotations["summary"] = summary;
        return new InboundAlert
        {
            Source = Source,
            Labels = labels,
            Annotations = annotations,
            Status = status,
            StartsAt = startsAt,
            EndsAt = status == AlertStatus.Resolved ? endsAt ?? now : endsAt,
            DedupKey = dedupKey,
            Service = service,
            Severity = severity,
            Links = links,
        };
    }
}
