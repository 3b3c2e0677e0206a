using System.Text.Json;

namespace OrleansOps.Integrations.Inbound;

/// <summary>
/// <c>POST /api/v2/alerts</c>: what Prometheus and amtool send to an Alertmanager — a JSON array of
/// {labels, annotations, startsAt, endsAt, generatorURL}. An alert whose endsAt has passed is resolved.
/// </summary>
public static class AlertmanagerAlertsParser
{
    public const string Source = "alertmanager-api";
    public const int MaxAlerts = 10_000;

    public static ParseResult Parse(JsonElement root, DateTimeOffset now)
    {
        var fields = new JsonFields();
        var alerts = new List<InboundAlert>();
        if (root.ValueKind != JsonValueKind.Array)
        {
            fields.Fail("$", $"must be a JSON array of alerts, not {JsonFields.Describe(root)}");
            return new ParseResult(alerts, fields.Errors);
        }
        if (root.GetArrayLength() > MaxAlerts) fields.Fail("$", $"holds more than {MaxAlerts} alerts; send smaller batches");
        else
        {
            var index = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (AlertmanagerAlert.Read(fields, item, $"[{index++}]", Source, statusField: false, now) is { } alert) alerts.Add(alert);
            }
        }
        return new ParseResult(alerts, fields.Errors);
    }
}

/// <summary><c>POST /api/v1/integrations/alertmanager</c>: the Alertmanager webhook receiver payload, version "4".</summary>
public static class AlertmanagerWebhookParser
{
    public const string Source = "alertmanager";
    public const string SupportedVersion = "4";

    public static ParseResult Parse(JsonElement root, DateTimeOffset now)
    {
        var fields = new JsonFields();
        var alerts = new List<InboundAlert>();
        if (!fields.IsObject(root, "$")) return new ParseResult(alerts, fields.Errors);

        var version = fields.String(root, "version", "", required: true);
        if (version is not null && version != SupportedVersion)
            fields.Fail("version", $"'{version}' is not supported; Alertmanager webhooks send version \"{SupportedVersion}\"");
        if (!root.TryGetProperty("alerts", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            fields.Fail("alerts", "is required and must be an array");
            return new ParseResult(alerts, fields.Errors);
        }
        if (list.GetArrayLength() > AlertmanagerAlertsParser.MaxAlerts)
        {
            fields.Fail("alerts", $"holds more than {AlertmanagerAlertsParser.MaxAlerts} alerts");
            return new ParseResult(alerts, fields.Errors);
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (AlertmanagerAlert.Read(fields, item, $"alerts[{index++}]", Source, statusField: true, now) is { } alert) alerts.Add(alert);
        }
        return new ParseResult(alerts, fields.Errors);
    }
}

internal static class AlertmanagerAlert
{
    public static InboundAlert? Read(JsonFields fields, JsonElement item, string path, string source, bool statusField, DateTimeOffset now)
    {
        if (!fields.IsObject(item, path)) return null;
        var before = fields.Errors.Count;
        var labels = fields.StringMap(item, "labels", path, required: true);
        if (labels.Count == 0 && fields.Errors.Count == before) fields.Fail(JsonFields.Join(path, "labels"), "must hold at least one non-empty label");
        var annotations = fields.StringMap(item, "annotations", path);
        var startsAt = fields.Timestamp(item, "startsAt", path);
        var endsAt = fields.Timestamp(item, "endsAt", path);
        var generatorUrl = fields.String(item, "generatorURL", path, maxLength: 4096);
        if (startsAt is { } s && endsAt is { } e && e < s)
            fields.Fail(JsonFields.Join(path, "endsAt"), "is before startsAt");

        var fromEndsAt = AlertClock.StatusAt(endsAt, now);
        var status = statusField ? fields.Status(item, path, fromEndsAt, required: true) : fromEndsAt;
        if (fields.Errors.Count > before) return null;
        return new InboundAlert
        {
            Source = source,
            Labels = labels,
            Annotations = annotations,
            Status = status,
            StartsAt = startsAt,
            EndsAt = endsAt,
            Links = string.IsNullOrEmpty(generatorUrl) ? [] : [new AlertLink(generatorUrl, "Source")],
        };
    }
}
