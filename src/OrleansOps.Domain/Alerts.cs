namespace OrleansOps.Domain;

[GenerateSerializer]
public enum AlertStatus
{
    Firing = 0,
    Resolved = 1,
}

/// <summary>What a sender asks for: a trigger (firing or resolved is in the status) or an acknowledgement.</summary>
[GenerateSerializer]
public enum AlertAction
{
    Signal = 0,
    Acknowledge = 1,
}

[GenerateSerializer, Immutable]
public sealed record AlertLink([property: Id(0)] string Href, [property: Id(1)] string? Text);

/// <summary>An alert after parsing and normalization, whatever its sender.</summary>
[GenerateSerializer, Immutable]
public sealed record NormalizedAlert
{
    [Id(0)] public required string Source { get; init; }
    [Id(1)] public required string Service { get; init; }
    // Held as label sets whatever the sender's map: the incident keeps them, and they are far smaller than dictionaries.
    [Id(2)] private LabelSet _labels = LabelSet.Empty;
    [Id(3)] private LabelSet _annotations = LabelSet.Empty;

    public required IReadOnlyDictionary<string, string> Labels { get => _labels; init => _labels = LabelSet.Of(value); }
    public IReadOnlyDictionary<string, string> Annotations { get => _annotations; init => _annotations = LabelSet.Of(value); }
    [Id(4)] public required Severity Severity { get; init; }
    [Id(5)] public required AlertStatus Status { get; init; }
    [Id(6)] public required DateTimeOffset StartsAt { get; init; }
    [Id(7)] public DateTimeOffset? EndsAt { get; init; }
    [Id(8)] public required string Fingerprint { get; init; }
    /// <summary>True when the fingerprint is the sender's own dedup key rather than the label hash.</summary>
    [Id(9)] public bool ExplicitDedupKey { get; init; }
    [Id(10)] public IReadOnlyList<AlertLink> Links { get; init; } = [];
    [Id(11)] public required DateTimeOffset ReceivedAt { get; init; }
    [Id(12)] public AlertAction Action { get; init; } = AlertAction.Signal;
    [Id(13)] public bool ServiceDeclared { get; init; } = true;
    /// <summary>
    /// The machine the alert is about, as the account's node labels name it (see <see cref="NodeLabel"/>): empty when
    /// none of them is on the alert, null when it was normalized before nodes were named at ingest.
    /// </summary>
    [Id(14)] public string? Node { get; init; }

    /// <summary>
    /// The node, or null when the alert names none. An alert normalized before nodes were named at ingest is read by the
    /// default labels; one the account's labels found no node on has none, whatever else its labels say (an exporter's
    /// scrape address is not the machine its alert is about).
    /// </summary>
    public string? NodeName => Node switch
    {
        null => NodeLabel.Of(Labels),
        "" => null,
        _ => Node,
    };

    public string? Summary =>
        Annotations.TryGetValue("summary", out var summary) ? summary
        : Annotations.TryGetValue("description", out var description) ? description
        : null;

    public string Name => Labels.TryGetValue("alertname", out var name) ? name : Summary ?? Fingerprint;
}

/// <summary>
/// Sanity bounds on sender clocks: an alert cannot start after we received it, and an alert cannot end before
/// it started or after now. Everything within those bounds is the sender's truth (late and historical events
/// keep their real times).
/// </summary>
public static class AlertClock
{
    public static DateTimeOffset StartWithinBounds(DateTimeOffset? startsAt, DateTimeOffset receivedAt) =>
        startsAt is { } start && start <= receivedAt ? start : receivedAt;

    public static DateTimeOffset EndWithinBounds(DateTimeOffset? endsAt, DateTimeOffset startsAt, DateTimeOffset now)
    {
        var end = endsAt ?? now;
        if (end > now) end = now;
        return end < startsAt ? startsAt : end;
    }

    /// <summary>Alertmanager's rule: an alert whose endsAt has passed is resolved.</summary>
    public static AlertStatus StatusAt(DateTimeOffset? endsAt, DateTimeOffset now) =>
        endsAt is { } end && end <= now ? AlertStatus.Resolved : AlertStatus.Firing;
}
