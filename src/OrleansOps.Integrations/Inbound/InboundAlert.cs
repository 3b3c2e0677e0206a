namespace OrleansOps.Integrations.Inbound;

/// <summary>An alert as a sender described it, before it is given a service, a severity and a fingerprint.</summary>
public sealed record InboundAlert
{
    public required string Source { get; init; }
    public required Dictionary<string, string> Labels { get; init; }
    public Dictionary<string, string> Annotations { get; init; } = new(StringComparer.Ordinal);
    public AlertStatus Status { get; init; } = AlertStatus.Firing;
    public AlertAction Action { get; init; } = AlertAction.Signal;
    public DateTimeOffset? StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    /// <summary>The sender's own dedup key (PagerDuty dedup_key, canonical dedupKey); replaces the label fingerprint.</summary>
    public string? DedupKey { get; init; }
    /// <summary>A service named outside the labels (PagerDuty component, canonical service).</summary>
    public string? Service { get; init; }
    public Severity? Severity { get; init; }
    public List<AlertLink> Links { get; init; } = [];
}

/// <summary>A problem with one field of a request body; <see cref="Field"/> is a path such as <c>[2].startsAt</c>.</summary>
public sealed record FieldError(string Field, string Message);

public sealed record ParseResult(IReadOnlyList<InboundAlert> Alerts, IReadOnlyList<FieldError> Errors)
{
    public bool IsValid => Errors.Count == 0;

    /// <summary>For the PagerDuty route: the integration key travels in the body.</summary>
    public string? RoutingKey { get; init; }
}

/// <summary>What the server knows when it normalizes: the key's default service and the account's declared services.</summary>
public sealed record NormalizationContext(string? DefaultService, IReadOnlyCollection<string> DeclaredServices, DateTimeOffset ReceivedAt)
{
    /// <summary>The labels that name an alert's service, in order: the first whose value is a declared service wins, else the first present.</summary>
    public IReadOnlyList<string> ServiceLabels { get; init; } = AccountConfig.DefaultServiceLabels;
    /// <summary>The labels that name an alert's node, in order.</summary>
    public IReadOnlyList<string> NodeLabels { get; init; } = NodeLabel.Names;
}

public static class AlertNormalizer
{
    /// <summary>Where no label, field or key names a service.</summary>
    public const string FallbackService = "default";
    public const string ServiceLabel = "service";
    public const string SeverityLabel = "severity";

    public static NormalizedAlert Normalize(InboundAlert alert, NormalizationContext context)
    {
        var service = ServiceOf(alert.Labels, context) ?? (alert.Service is { Length: > 0 } named ? named : context.DefaultService ?? FallbackService);
        var severity = alert.Severity ?? SeverityMapping.FromWord(alert.Labels.GetValueOrDefault(SeverityLabel)) ?? SeverityMapping.Default;
        var startsAt = AlertClock.StartWithinBounds(alert.StartsAt, context.ReceivedAt);
        return new NormalizedAlert
        {
            Source = alert.Source,
            Service = service,
            ServiceDeclared = context.DeclaredServices.Contains(service),
            Labels = alert.Labels,
            Annotations = alert.Annotations,
            Severity = severity,
            Status = alert.Status,
            Action = alert.Action,
            StartsAt = startsAt,
            EndsAt = alert.EndsAt,
            Fingerprint = alert.DedupKey ?? AlertFingerprint.Of(alert.Labels),
            ExplicitDedupKey = alert.DedupKey is not null,
            // An array: the incident keeps what it is given, and a list adds an object and spare room to each alert.
            Links = alert.Links.Count == 0 ? [] : alert.Links.ToArray(),
            ReceivedAt = context.ReceivedAt,
            Node = NodeLabel.Of(alert.Labels, context.NodeLabels) ?? "",
        };
    }

    /// <summary>
    /// The service the labels name: the first service label whose value is a declared service, else the first service
    /// label present. An exporter labels its alerts with its own service (<c>service="kube-state-metrics"</c>) and names
    /// the subject in another label; the account declares the subject, not the exporter, so the subject wins.
    /// </summary>
    private static string? ServiceOf(IReadOnlyDictionary<string, string> labels, NormalizationContext context)
    {
        string? first = null;
        foreach (var name in context.ServiceLabels)
        {
            if (!labels.TryGetValue(name, out var value) || value.Length == 0) continue;
            if (context.ServiceLabels.Count == 1 || context.DeclaredServices.Contains(value)) return value;
            first ??= value;
        }
        return first;
    }
}
