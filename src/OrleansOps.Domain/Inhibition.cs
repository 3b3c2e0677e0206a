namespace OrleansOps.Domain;

/// <summary>
/// An Alertmanager inhibition rule: while an alert matching <see cref="Source"/> fires, alerts matching
/// <see cref="Target"/> with the same values of the <see cref="Equal"/> labels are held back. An alert never
/// inhibits itself.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InhibitionRule
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public IReadOnlyList<LabelMatcher> Source { get; init; } = [];
    [Id(2)] public IReadOnlyList<LabelMatcher> Target { get; init; } = [];
    [Id(3)] public IReadOnlyList<string> Equal { get; init; } = [];

    public bool IsSource(IReadOnlyDictionary<string, string> labels) => Source.All(m => m.Matches(labels));

    public bool IsTarget(IReadOnlyDictionary<string, string> labels) => Target.All(m => m.Matches(labels));

    public bool SameEqualLabels(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        Equal.All(name => a.GetValueOrDefault(name, "") == b.GetValueOrDefault(name, ""));

    public IEnumerable<string> Problems(string path)
    {
        if (string.IsNullOrWhiteSpace(Name)) yield return $"{path}.name: required";
        if (Source.Count == 0) yield return $"{path}.source: at least one matcher (an empty source would inhibit everything)";
        if (Target.Count == 0) yield return $"{path}.target: at least one matcher";
    }
}

/// <summary>
/// The firing alerts of one account that are sources of its inhibition rules, across all its services, and the
/// question the correlators ask: is this alert inhibited now?
/// </summary>
[GenerateSerializer]
public sealed class InhibitionSources
{
    [GenerateSerializer]
    public sealed class Source
    {
        [Id(0)] public required IReadOnlyDictionary<string, string> Labels { get; set; }
        [Id(1)] public DateTimeOffset? EndsAt { get; set; }
        [Id(2)] public required string Name { get; set; }
    }

    [Id(0)] public TrackedMap<Source> Firing { get; set; } = new();

    /// <summary>Learns from an alert event: a firing source is held, a resolved one dropped. Returns whether anything changed.</summary>
    public bool Observe(NormalizedAlert alert, IReadOnlyList<InhibitionRule> rules)
    {
        if (alert.Action != AlertAction.Signal) return false;
        if (alert.Status == AlertStatus.Resolved) return Firing.Remove(alert.Fingerprint);
        var labels = LabelMatcher.LabelsOf(alert);
        if (!rules.Any(r => r.IsSource(labels))) return false;
        var known = Firing.TryGetValue(alert.Fingerprint, out var held) && held.EndsAt == alert.EndsAt;
        Firing[alert.Fingerprint] = new Source { Labels = labels, EndsAt = alert.EndsAt, Name = alert.Name };
        return !known;
    }

    /// <summary>"rule: source alert" when a firing source inhibits <paramref name="alert"/> at <paramref name="now"/>, else null.</summary>
    public string? InhibitedBy(NormalizedAlert alert, IReadOnlyList<InhibitionRule> rules, DateTimeOffset now)
    {
        var labels = LabelMatcher.LabelsOf(alert);
        foreach (var rule in rules.Where(r => r.IsTarget(labels)))
            foreach (var (fingerprint, source) in Firing)
                if (fingerprint != alert.Fingerprint
                    && AlertClock.StatusAt(source.EndsAt, now) == AlertStatus.Firing
                    && rule.IsSource(source.Labels)
                    && rule.SameEqualLabels(source.Labels, labels))
                    return $"{rule.Name}: {source.Name} is firing";
        return null;
    }
}

/// <summary>
/// Storm detection for one account: more new alerts within a minute than the threshold turns storm mode on, and
/// it stays on until a full minute passes below it.
/// </summary>
public sealed class StormDetector
{
    private readonly Queue<DateTimeOffset> _recent = new();

    public int Rate => _recent.Count;

    /// <summary>
    /// Counts <paramref name="newAlerts"/> new alerts at <paramref name="now"/>; true while more than
    /// <paramref name="perMinute"/> arrived within <paramref name="span"/> (a minute unless the account says otherwise).
    /// </summary>
    public bool Observe(int newAlerts, DateTimeOffset now, int perMinute, TimeSpan? span = null)
    {
        var within = span ?? TimeSpan.FromMinutes(1);
        while (_recent.TryPeek(out var oldest) && oldest <= now - within) _recent.Dequeue();
        for (var i = 0; i < newAlerts; i++) _recent.Enqueue(now);
        return perMinute > 0 && _recent.Count > perMinute;
    }
}
