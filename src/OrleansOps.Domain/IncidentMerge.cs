namespace OrleansOps.Domain;

/// <summary>
/// Merging incidents that turn out to be one failure, and splitting alerts back out of one: each side chronicles the
/// step with who took it and why, and the alerts move whole (their history comes with them).
/// </summary>
public sealed partial class IncidentState
{
    /// <summary>Alerts that left since the grain last took the changes.</summary>
    [NonSerialized] private readonly List<string> _detached = [];

    /// <summary>
    /// Ends this incident as part of <paramref name="survivor"/>: resolved, left out of every SLO (its impact counts in the
    /// survivor, which takes its alerts), and pointing there. Returns its alerts for the survivor to take. Asked again for
    /// the same survivor it changes nothing and returns them again, so that a merge cut short can be completed.
    /// </summary>
    /// <exception cref="IncidentTransitionException">When it is the survivor itself or was merged into another incident.</exception>
    public IReadOnlyList<IncidentAlert> MergeInto(string survivor, string actor, string reason, DateTimeOffset now)
    {
        if (survivor == Id) throw new IncidentTransitionException($"Incident {Id} cannot be merged into itself.");
        if (MergedInto is { } merged && merged != survivor)
            throw new IncidentTransitionException($"Incident {Id} was merged into {merged} already; split its alerts out of {merged} first.");
        if (MergedInto is null)
        {
            MergedInto = survivor;
            Record(now, ChronicleKinds.Merged, actor, $"Merged into {survivor} by {actor}: {reason}", new Dictionary<string, string>
            {
                ["into"] = survivor,
                ["reason"] = reason,
                ["alerts"] = Alerts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            SlaCorrection = new SlaCorrection { Excluded = true, Actor = actor, Reason = $"merged into {survivor}, where its impact counts", At = now };
            if (Status != IncidentStatus.Resolved) MarkResolved(now, now, actor, $"Resolved: merged into {survivor}", note: null);
        }
        return [.. _ordered];
    }

    /// <summary>
    /// Takes the alerts of <paramref name="absorbed"/>, merged into this incident: each keeps its history and says where
    /// it came from; the impact now starts at the earliest of them and the severity is the worst. Returns how many were
    /// new here (none when the merge was taken before).
    /// </summary>
    /// <exception cref="IncidentTransitionException">When this incident is resolved or was merged into another.</exception>
    public int Absorb(string absorbed, IReadOnlyList<IncidentAlert> alerts, string actor, string reason, DateTimeOffset now)
    {
        if (MergedInto is { } merged) throw new IncidentTransitionException($"Incident {Id} was merged into {merged}; merge into {merged} instead.");
        if (Status == IncidentStatus.Resolved) throw new IncidentTransitionException($"Incident {Id} is resolved; reopen it before merging into it.");
        var taken = alerts.Where(a => !Alerts.ContainsKey(a.Fingerprint)).ToList();
        if (taken.Count == 0) return 0;
        Record(now, ChronicleKinds.Merged, actor, $"Incident {absorbed} merged into this one by {actor} ({taken.Count} alerts): {reason}", new Dictionary<string, string>
        {
            ["from"] = absorbed,
            ["reason"] = reason,
            ["alerts"] = taken.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        foreach (var alert in taken)
        {
            alert.MergedFrom ??= absorbed;
            Take(alert);
        }
        RaiseSeverityTo(taken.Min(a => a.Severity), actor, now);
        return taken.Count;
    }

    /// <summary>
    /// The alerts an operator splits out of this incident into <paramref name="into"/>, removed from it: by fingerprint,
    /// or (with <paramref name="mergedFrom"/>) those that came with a merged incident. The incident keeps at least one alert.
    /// </summary>
    /// <exception cref="IncidentTransitionException">When none of them is here, or all of its alerts would leave.</exception>
    public IReadOnlyList<IncidentAlert> SplitOut(IReadOnlyCollection<string> fingerprints, string? mergedFrom, string into, string actor, string reason, DateTimeOffset now)
    {
        var leaving = Splittable(fingerprints, mergedFrom);
        foreach (var alert in leaving)
        {
            Alerts.Remove(alert.Fingerprint);
            _attached.Remove(alert);
            _updated.Remove(alert.Fingerprint);
            _repeated.Remove(alert.Fingerprint);
            _detached.Add(alert.Fingerprint);
        }
        // The incident is as its remaining alerts make it: which services and nodes it spans, how many fire.
        Recount(_ordered.Where(a => Alerts.ContainsKey(a.Fingerprint)).ToList());
        Record(now, ChronicleKinds.Split, actor, $"{leaving.Count} alerts split out into {into} by {actor}: {reason}", new Dictionary<string, string>
        {
            ["into"] = into,
            ["reason"] = reason,
            ["fingerprints"] = string.Join(",", leaving.Select(a => a.Fingerprint)),
        });
        return leaving;
    }

    /// <summary>The alerts <see cref="SplitOut"/> would take out, without taking them.</summary>
    /// <exception cref="IncidentTransitionException">When none of them is here, or all of its alerts would leave.</exception>
    public IReadOnlyList<IncidentAlert> Splittable(IReadOnlyCollection<string> fingerprints, string? mergedFrom)
    {
        var leaving = _ordered.Where(a => fingerprints.Contains(a.Fingerprint) || mergedFrom is not null && a.MergedFrom == mergedFrom).ToList();
        if (leaving.Count == 0)
            throw new IncidentTransitionException(mergedFrom is null
                ? $"None of those alerts is in incident {Id}."
                : $"No alert of incident {Id} came from {mergedFrom}.");
        if (leaving.Count == _ordered.Count)
            throw new IncidentTransitionException($"Those are all of incident {Id}'s alerts: an incident keeps at least one (resolve it, or merge it instead).");
        return leaving;
    }

    /// <summary>
    /// Opens this incident with alerts an operator split out of <paramref name="from"/>: a failure of its own, escalated
    /// by its own policy, its impact from the earliest of them.
    /// </summary>
    public void OpenSplit(string id, IncidentOrigin origin, IReadOnlyList<IncidentAlert> alerts, string from, string actor, string reason, DateTimeOffset now)
    {
        var first = alerts[0];
        Id = id;
        AccountId = origin.AccountId;
        Service = origin.Service;
        ServiceDeclared = origin.ServiceDeclared;
        GroupKey = origin.GroupKey;
        Title = $"{first.Labels.GetValueOrDefault("alertname") ?? first.Fingerprint} on {origin.Service}";
        Severity = alerts.Min(a => a.Severity);
        Status = IncidentStatus.Triggered;
        OpenedAt = now;
        StartedAt = alerts.Min(a => a.StartsAt);
        Record(now, ChronicleKinds.Opened, actor, $"Incident opened: {Title}, split out of {from} by {actor}: {reason}", new Dictionary<string, string>
        {
            ["service"] = Service,
            ["severity"] = Severity.ToWire(),
            ["groupKey"] = GroupKey,
            ["splitFrom"] = from,
            ["reason"] = reason,
        });
        foreach (var alert in alerts)
        {
            alert.MergedFrom = null;
            Take(alert);
        }
        if (_firing == 0) MarkResolved(alerts.Max(a => a.EndsAt ?? now), now, actor, "Every alert split out here had ended", note: null);
        else StartEscalation(now);
    }

    /// <summary>An alert moves in from another incident, whole.</summary>
    private void Take(IncidentAlert alert)
    {
        Alerts[alert.Fingerprint] = alert;
        Joined(alert);
        // Its announced end comes with it, to be watched here.
        var expiresAt = alert.ExpiresAt;
        alert.ExpiresAt = null;
        if (alert.Status == AlertStatus.Firing) SetExpiry(alert, expiresAt);
        _attached.Add(alert);
        if (alert.StartsAt < StartedAt) StartedAt = alert.StartsAt;
    }
}
