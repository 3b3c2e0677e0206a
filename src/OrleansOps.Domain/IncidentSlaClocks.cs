namespace OrleansOps.Domain;

[GenerateSerializer]
public enum ClockKind
{
    /// <summary>Time to acknowledge.</summary>
    Response = 0,
    /// <summary>Time to resolve.</summary>
    Resolution = 1,
}

/// <summary>
/// A response or resolution deadline of the account's contract, running on one incident from the moment it opened:
/// a warning when <see cref="SlaClocks.WarnAtFraction"/> of the time is gone, a breach at the deadline, both once.
/// </summary>
[GenerateSerializer]
public sealed class SlaClock
{
    [Id(0)] public required ClockKind Kind { get; init; }
    [Id(1)] public required Severity Severity { get; set; }
    [Id(2)] public required DateTimeOffset Deadline { get; set; }
    [Id(3)] public required DateTimeOffset WarnAt { get; set; }
    [Id(4)] public bool Warned { get; set; }
    [Id(5)] public bool Breached { get; set; }
    /// <summary>When the incident was acknowledged (response) or resolved (resolution); the clock stops for good.</summary>
    [Id(6)] public DateTimeOffset? MetAt { get; set; }

    public bool Running => MetAt is null && !Breached;

    public DateTimeOffset? NextDue => !Running ? null : Warned ? Deadline : WarnAt;

    public string Name => $"{Severity.ToWire()}-{Kind.ToString().ToLowerInvariant()}";
}

public static class SlaClocks
{
    /// <summary>The warning comes when 80 % of the time to the deadline has passed (12 minutes into a 15-minute response window).</summary>
    public const double WarnAtFraction = 0.8;
}

public sealed partial class IncidentState
{
    [Id(23)] public List<SlaClock> Clocks { get; set; } = [];

    private DateTimeOffset? NextClockDue
    {
        get
        {
            DateTimeOffset? next = null;
            foreach (var clock in Clocks.Where(c => SlaCorrection?.ExcludesFrom(c.Name) != true)) next = Earliest(next, clock.NextDue);
            return next;
        }
    }

    /// <summary>
    /// Starts, re-times (the severity changed) and stops the contract's clocks, and records warnings and breaches that
    /// are due. The clocks count from the incident's opening, with the deadline of its current severity.
    /// </summary>
    private bool ReviewClocks(AccountConfig config, DateTimeOffset now)
    {
        var contract = config.Sla;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(config.TimeZone);
        var changed = false;
        foreach (var (kind, deadlines) in new[] { (ClockKind.Response, contract.Response), (ClockKind.Resolution, contract.Resolution) })
        {
            var clock = Clocks.FirstOrDefault(c => c.Kind == kind);
            if (clock is null && deadlines.TryGetValue(Severity, out var limit) && Status != IncidentStatus.Resolved
                && !(kind == ClockKind.Response && Status == IncidentStatus.Acknowledged))
            {
                Clocks.Add(new SlaClock
                {
                    Kind = kind,
                    Severity = Severity,
                    Deadline = contract.Deadline(Severity, OpenedAt, limit, zone),
                    WarnAt = contract.Deadline(Severity, OpenedAt, limit, zone, SlaClocks.WarnAtFraction),
                });
                changed = true;
            }
            else if (clock is { Running: true } && clock.Severity != Severity && deadlines.TryGetValue(Severity, out var stricter)
                     && contract.Deadline(Severity, OpenedAt, stricter, zone) < clock.Deadline)
            {
                // A more severe incident owes the tighter deadline, counted from the same opening.
                clock.Severity = Severity;
                clock.Deadline = contract.Deadline(Severity, OpenedAt, stricter, zone);
                clock.WarnAt = contract.Deadline(Severity, OpenedAt, stricter, zone, SlaClocks.WarnAtFraction);
                changed = true;
            }
        }
        // A clock an operator left the incident out of warns of nothing and breaches nothing: it does not count.
        foreach (var clock in Clocks.Where(c => c.Running && SlaCorrection?.ExcludesFrom(c.Name) != true))
        {
            if (!clock.Warned && clock.WarnAt <= now && clock.Deadline > now)
            {
                clock.Warned = true;
                RecordClock(clock, ChronicleKinds.SlaWarning,
                    $"SLA {clock.Name}: {Durations.Format(clock.Deadline - clock.WarnAt)} left until the deadline at {clock.Deadline:u}", clock.WarnAt, now);
                changed = true;
            }
            if (clock.Deadline <= now)
            {
                clock.Warned = true;
                clock.Breached = true;
                RecordClock(clock, ChronicleKinds.SlaBreached,
                    $"SLA {clock.Name} breached: not {(clock.Kind == ClockKind.Response ? "acknowledged" : "resolved")} by {clock.Deadline:u}", clock.Deadline, now);
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>Acknowledging stops the response clock; resolving stops both.</summary>
    private void StopClocks(ClockKind? only, DateTimeOffset at)
    {
        foreach (var clock in Clocks.Where(c => c.Running && (only is null || c.Kind == only))) clock.MetAt = at;
    }

    private void RecordClock(SlaClock clock, string kind, string text, DateTimeOffset due, DateTimeOffset now)
    {
        var data = new Dictionary<string, string>
        {
            ["clock"] = clock.Name,
            ["deadline"] = clock.Deadline.ToString("O"),
        };
        if (due < now) data["dueAt"] = due.ToString("O");
        Record(now, kind, "sla", text, data);
    }
}
