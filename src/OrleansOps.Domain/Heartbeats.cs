using System.Text.RegularExpressions;

namespace OrleansOps.Domain;

/// <summary>
/// A dead man's switch: something that must check in every <see cref="Interval"/>. When no ping has come for the
/// interval and then <see cref="Grace"/> more, its silence is an incident (an alert <c>HeartbeatMissed</c> fires, and
/// the next ping resolves it). The ping is <c>POST /api/v1/heartbeats/{name}</c>, or with <see cref="Alert"/> set, each
/// arrival of that always-firing alert (Prometheus' <c>Watchdog</c>), which then opens no incident of its own.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HeartbeatDefinition
{
    public static readonly TimeSpan ShortestInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan LongestInterval = TimeSpan.FromDays(31);
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromMinutes(1);

    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required TimeSpan Interval { get; init; }
    [Id(2)] public TimeSpan Grace { get; init; } = DefaultGrace;
    [Id(3)] public Severity Severity { get; init; } = Severity.Sev2;
    /// <summary>The service its incident is about; absent: a service named after the heartbeat.</summary>
    [Id(4)] public string? Service { get; init; }
    /// <summary>An always-firing alert whose every arrival is a ping (e.g. <c>Watchdog</c>), if any.</summary>
    [Id(5)] public string? Alert { get; init; }

    /// <summary>How long a silence may last before it is an incident.</summary>
    public TimeSpan Allowed => Interval + Grace;

    public string ServiceOrName => Service ?? Name;

    private static readonly Regex NamePattern = new("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant);

    public IEnumerable<string> Problems(string path)
    {
        if (!NamePattern.IsMatch(Name))
            yield return $"{path}.name: '{Name}' must be 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";
        if (Interval < ShortestInterval || Interval > LongestInterval)
            yield return $"{path}.interval: must be between {Durations.Format(ShortestInterval)} and {Durations.Format(LongestInterval)}";
        if (Grace < TimeSpan.Zero || Grace > LongestInterval)
            yield return $"{path}.grace: must be between 0 and {Durations.Format(LongestInterval)}";
        if (Service is { } service && string.IsNullOrWhiteSpace(service)) yield return $"{path}.service: must not be empty when given";
        if (Alert is { } alert && string.IsNullOrWhiteSpace(alert)) yield return $"{path}.alert: must not be empty when given";
    }
}

/// <summary>Where one heartbeat stands: when its silence began to count, its last ping, and since when it is missed.</summary>
[GenerateSerializer]
public sealed record HeartbeatStatus
{
    /// <summary>When the heartbeat was first configured: a heartbeat that never pinged is missed an allowance after that.</summary>
    [Id(0)] public required DateTimeOffset Since { get; init; }
    [Id(1)] public DateTimeOffset? LastPing { get; init; }
    /// <summary>When its allowance ran out without a ping, while it is missed (its alert fires); null while it is up.</summary>
    [Id(2)] public DateTimeOffset? MissedAt { get; init; }
    [Id(3)] public long Pings { get; init; }

    /// <summary>When the heartbeat is missed unless a ping comes first.</summary>
    public DateTimeOffset DeadlineFor(HeartbeatDefinition definition) => (LastPing ?? Since) + definition.Allowed;
}

/// <summary>The account's heartbeats: what pings, silences and configuration changes do to them, and the alerts that follow.</summary>
public static class Heartbeats
{
    public const string MissedAlertName = "HeartbeatMissed";
    public const string HeartbeatLabel = "heartbeat";
    public const string Source = "heartbeat";

    /// <summary>The status of every configured heartbeat: new ones start counting at <paramref name="now"/>, dropped ones go.</summary>
    public static Dictionary<string, HeartbeatStatus> Reconcile(
        IReadOnlyDictionary<string, HeartbeatStatus> current, IReadOnlyList<HeartbeatDefinition> configured, DateTimeOffset now) =>
        configured.ToDictionary(d => d.Name, d => current.GetValueOrDefault(d.Name) ?? new HeartbeatStatus { Since = now }, StringComparer.Ordinal);

    /// <summary>The heartbeats whose allowance has run out by <paramref name="now"/> and that are not missed yet.</summary>
    public static IEnumerable<HeartbeatDefinition> DueToMiss(IReadOnlyList<HeartbeatDefinition> configured, IReadOnlyDictionary<string, HeartbeatStatus> statuses, DateTimeOffset now) =>
        configured.Where(d => statuses.TryGetValue(d.Name, out var s) && s.MissedAt is null && s.DeadlineFor(d) <= now);

    /// <summary>The earliest deadline of the heartbeats that are up, if any.</summary>
    public static DateTimeOffset? NextDeadline(IReadOnlyList<HeartbeatDefinition> configured, IReadOnlyDictionary<string, HeartbeatStatus> statuses) =>
        configured.Where(d => statuses.TryGetValue(d.Name, out var s) && s.MissedAt is null)
            .Select(d => (DateTimeOffset?)statuses[d.Name].DeadlineFor(d)).Min();

    /// <summary>
    /// The alert a missed heartbeat fires (or, <paramref name="resolvedAt"/> set, the resolve its next ping sends): one
    /// fingerprint per heartbeat, so a miss raised twice is one alert.
    /// </summary>
    public static NormalizedAlert Alert(HeartbeatDefinition definition, HeartbeatStatus status, AccountConfig config, DateTimeOffset now, DateTimeOffset? resolvedAt = null)
    {
        var service = definition.ServiceOrName;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertname"] = MissedAlertName,
            [HeartbeatLabel] = definition.Name,
            ["service"] = service,
            ["severity"] = definition.Severity.ToWire(),
        };
        var missedAt = status.MissedAt ?? status.DeadlineFor(definition);
        var silentSince = status.LastPing is { } last ? $"its last ping was at {last:u}" : $"it has not pinged since it was configured at {status.Since:u}";
        return new NormalizedAlert
        {
            Source = Source,
            Service = service,
            ServiceDeclared = config.Declares(service),
            Labels = labels,
            Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["summary"] = $"Heartbeat {definition.Name} missed: no ping within {Durations.Format(definition.Interval)} and a grace of {Durations.Format(definition.Grace)}",
                ["description"] = definition.Alert is { } alert
                    ? $"The always-firing alert {alert} stopped arriving; {silentSince}."
                    : $"Nothing called POST /api/v1/heartbeats/{definition.Name}; {silentSince}.",
            },
            Severity = definition.Severity,
            Status = resolvedAt is null ? AlertStatus.Firing : AlertStatus.Resolved,
            StartsAt = missedAt,
            EndsAt = resolvedAt,
            Fingerprint = AlertFingerprint.Of(labels),
            ReceivedAt = now,
            Node = "",
        };
    }
}
