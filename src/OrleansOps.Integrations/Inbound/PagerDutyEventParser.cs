using System.Text.Json;

namespace OrleansOps.Integrations.Inbound;

/// <summary>
/// <c>POST /v2/enqueue</c>: the PagerDuty Events API v2 shape. The routing_key is the integration key;
/// dedup_key is the alert's identity. The service is, in order: <c>custom_details.service</c>,
/// <c>payload.component</c>, the key's default service. <c>source</c>, <c>component</c>, <c>group</c> and
/// <c>class</c> become labels; the alert name is <c>class</c>, else the summary. Custom details that say where the failure
/// is (<see cref="PlaceDetails"/>: <c>node</c>, <c>zone</c>, …) become labels too, so that a sender can name the node a
/// per-node SLA counts the incident against; the details stay whole in an annotation.
/// </summary>
public static class PagerDutyEventParser
{
    public const string Source = "pagerduty";
    public const int MaxSummaryLength = 1024;
    public const int MaxDedupKeyLength = 255;
    /// <summary>A custom detail longer than this is no label (it stays in the details' annotation).</summary>
    private const int MaxDetailLabelLength = 1024;

    /// <summary>
    /// The custom details that become labels: where the failure is, for per-node SLAs and correlation by node. Only these,
    /// so that a sender's other details (env, cluster, …) change neither grouping nor silences of existing senders.
    /// </summary>
    public static readonly IReadOnlyList<string> PlaceDetails = ["node", "instance", "host", "zone", "region"];

    public static ParseResult Parse(JsonElement root, DateTimeOffset now)
    {
        var fields = new JsonFields();
        if (!fields.IsObject(root, "$")) return new ParseResult([], fields.Errors);

        var routingKey = fields.String(root, "routing_key", "", required: true, maxLength: 512);
        var action = fields.String(root, "event_action", "", required: true);
        var dedupKey = fields.String(root, "dedup_key", "", maxLength: MaxDedupKeyLength);
        if (action is not (null or "trigger" or "acknowledge" or "resolve"))
            fields.Fail("event_action", $"'{action}' is not one of trigger, acknowledge, resolve");
        if (action is "acknowledge" or "resolve" && string.IsNullOrEmpty(dedupKey) && fields.Errors.All(e => e.Field != "dedup_key"))
            fields.Fail("dedup_key", $"is required to {action} an alert");

        InboundAlert? alert = null;
        if (action == "trigger") alert = ReadTrigger(fields, root, dedupKey ?? Guid.NewGuid().ToString("N"), now);
        else if (action is "acknowledge" or "resolve" && fields.Errors.Count == 0)
        {
            alert = new InboundAlert
            {
                Source = Source,
                Labels = new Dictionary<string, string>(StringComparer.Ordinal),
                DedupKey = dedupKey,
                Action = action == "acknowledge" ? AlertAction.Acknowledge : AlertAction.Signal,
                Status = action == "resolve" ? AlertStatus.Resolved : AlertStatus.Firing,
                EndsAt = action == "resolve" ? now : null,
            };
        }
        return new ParseResult(alert is null || fields.Errors.Count > 0 ? [] : [alert], fields.Errors) { RoutingKey = routingKey };
    }

    private static InboundAlert? ReadTrigger(JsonFields fields, JsonElement root, string dedupKey, DateTimeOffset now)
    {
        if (!root.TryGetProperty("payload", out var payload) || payload.ValueKind == JsonValueKind.Null)
        {
            fields.Fail("payload", "is required for a trigger");
            return null;
        }
        if (!fields.IsObject(payload, "payload")) return null;
        var summary = fields.String(payload, "summary", "payload", required: true, maxLength: MaxSummaryLength);
        var source = fields.String(payload, "source", "payload", required: true, maxLength: 1024);
        var severityWord = fields.String(payload, "severity", "payload", required: true);
        var severity = SeverityMapping.FromPagerDuty(severityWord);
        if (severityWord is not null && severity is null)
            fields.Fail("payload.severity", $"'{severityWord}' is not one of critical, error, warning, info");
        var timestamp = fields.Timestamp(payload, "timestamp", "payload");
        var component = fields.String(payload, "component", "payload", maxLength: 1024);
        var group = fields.String(payload, "group", "payload", maxLength: 1024);
        var @class = fields.String(payload, "class", "payload", maxLength: 1024);
        string? detailService = null;
        var detailLabels = new Dictionary<string, string>(StringComparer.Ordinal);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (payload.TryGetProperty("custom_details", out var details) && details.ValueKind != JsonValueKind.Null)
        {
            if (details.ValueKind == JsonValueKind.Object)
            {
                if (details.TryGetProperty("service", out var named) && named.ValueKind == JsonValueKind.String) detailService = named.GetString();
                foreach (var name in PlaceDetails)
                    if (details.TryGetProperty(name, out var place) && place.ValueKind == JsonValueKind.String
                        && place.GetString() is { Length: > 0 and <= MaxDetailLabelLength } text)
                        detailLabels[name] = text;
                annotations["custom_details"] = details.GetRawText();
            }
            else annotations["custom_details"] = details.ValueKind == JsonValueKind.String ? details.GetString()! : details.GetRawText();
        }
        var links = fields.Links(root, "links", "");
        var clientUrl = fields.String(root, "client_url", "", maxLength: 4096);
        if (fields.Errors.Count > 0) return null;

        annotations["summary"] = summary!;
        // The details first: the event's own fields below name alertname, source, severity and the rest.
        var labels = new Dictionary<string, string>(detailLabels, StringComparer.Ordinal)
        {
            ["alertname"] = @class ?? summary!,
            ["source"] = source!,
            ["severity"] = severityWord!,
        };
        if (component is { Length: > 0 }) labels["component"] = component;
        if (group is { Length: > 0 }) labels["group"] = group;
        if (@class is { Length: > 0 }) labels["class"] = @class;
        if (detailService is { Length: > 0 }) labels["service"] = detailService;
        if (clientUrl is { Length: > 0 }) links.Add(new AlertLink(clientUrl, fields.String(root, "client", "") ?? "Client"));

        return new InboundAlert
        {
            Source = Source,
            Labels = labels,
            Annotations = annotations,
            DedupKey = dedupKey,
            Service = component,
            Severity = severity,
            StartsAt = timestamp ?? now,
            Links = links,
        };
    }
}
