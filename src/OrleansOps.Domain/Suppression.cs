using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Cronos;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;

namespace OrleansOps.Domain;

[GenerateSerializer]
public enum MatchOperator
{
    Equal = 0,
    NotEqual = 1,
    Regex = 2,
    NotRegex = 3,
}

/// <summary>
/// An Alertmanager label matcher: <c>name="value"</c>, <c>name!="value"</c>, <c>name=~"regex"</c>, <c>name!~"regex"</c>.
/// A missing label reads as the empty string, and a regex must match the whole value (it is anchored), as in
/// Alertmanager.
/// </summary>
[GenerateSerializer, Immutable]
public sealed partial record LabelMatcher([property: Id(0)] string Name, [property: Id(1)] MatchOperator Operator, [property: Id(2)] string Value)
{
    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var value = labels.GetValueOrDefault(Name, "");
        return Operator switch
        {
            MatchOperator.Equal => value == Value,
            MatchOperator.NotEqual => value != Value,
            MatchOperator.Regex => Anchored(Value).IsMatch(value),
            _ => !Anchored(Value).IsMatch(value),
        };
    }

    public override string ToString() => Name + Operator switch
    {
        MatchOperator.Equal => "=",
        MatchOperator.NotEqual => "!=",
        MatchOperator.Regex => "=~",
        _ => "!~",
    } + "\"" + Value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>Reads <c>name op "value"</c> (quotes optional for values without spaces or commas); the error says why not.</summary>
    public static LabelMatcher? Parse(string text, out string? error)
    {
        var match = Syntax().Match(text ?? "");
        if (!match.Success)
        {
            error = $"'{text}' is not a matcher; write name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\"";
            return null;
        }
        var value = match.Groups["quoted"].Success ? Unquote(match.Groups["quoted"].Value) : match.Groups["bare"].Value;
        var op = match.Groups["op"].Value switch
        {
            "=" => MatchOperator.Equal,
            "!=" => MatchOperator.NotEqual,
            "=~" => MatchOperator.Regex,
            _ => MatchOperator.NotRegex,
        };
        return Create(match.Groups["name"].Value, op, value, out error);
    }

    /// <summary>A matcher from its parts, or null with the reason (an invalid regex, an empty name).</summary>
    public static LabelMatcher? Create(string name, MatchOperator op, string value, out string? error)
    {
        error = null;
        if (!LabelName().IsMatch(name ?? ""))
        {
            error = $"'{name}' is not a label name";
            return null;
        }
        if (op is MatchOperator.Regex or MatchOperator.NotRegex)
        {
            try
            {
                Anchored(value);
            }
            catch (ArgumentException e)
            {
                error = $"'{value}' is not a valid regular expression: {e.Message}";
                return null;
            }
        }
        return new LabelMatcher(name!, op, value ?? "");
    }

    /// <summary>The labels matchers see: the alert's own, plus <c>service</c> (its resolved service) when the alert has none.</summary>
    public static IReadOnlyDictionary<string, string> LabelsOf(NormalizedAlert alert)
    {
        if (alert.Labels.ContainsKey("service")) return alert.Labels;
        return new Dictionary<string, string>(alert.Labels, StringComparer.Ordinal) { ["service"] = alert.Service };
    }

    private static Regex Anchored(string pattern) => Compiled.GetOrAdd(pattern, p =>
        new Regex("^(?:" + p + ")$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)));

    private static string Unquote(string quoted) => quoted.Replace("\\\"", "\"").Replace("\\\\", "\\");

    [GeneratedRegex("""^\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?<op>=~|!~|!=|=)\s*(?:"(?<quoted>(?:[^"\\]|\\.)*)"|(?<bare>[^\s",]*))\s*$""")]
    private static partial Regex Syntax();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex LabelName();
}

/// <summary>A silence created over the API: alerts matching every matcher are suppressed from start to end.</summary>
[GenerateSerializer, Immutable]
public sealed record Silence
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required IReadOnlyList<LabelMatcher> Matchers { get; init; }
    [Id(2)] public required DateTimeOffset StartsAt { get; init; }
    [Id(3)] public required DateTimeOffset EndsAt { get; init; }
    [Id(4)] public required string CreatedBy { get; init; }
    [Id(5)] public string Comment { get; init; } = "";
    [Id(6)] public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>Set when someone expired it before its end.</summary>
    [Id(7)] public DateTimeOffset? ExpiredAt { get; init; }
    [Id(8)] public string? ExpiredBy { get; init; }

    /// <summary>When it stops suppressing: its end, or the moment it was expired.</summary>
    public DateTimeOffset Until => ExpiredAt is { } expired && expired < EndsAt ? expired : EndsAt;

    /// <summary>Half-open, as in Alertmanager: active from its start, no longer at its end.</summary>
    public bool IsActiveAt(DateTimeOffset t) => StartsAt <= t && t < Until;

    public string StateAt(DateTimeOffset t) => t < StartsAt ? "pending" : t < Until ? "active" : "expired";
}

/// <summary>
/// A maintenance window from the account's configuration: one-off (start to end) or recurring (a cron or RFC 5545
/// RRULE expression in a time zone, each occurrence lasting <see cref="Duration"/>). Empty matchers cover the
/// whole account.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MaintenanceWindow
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public IReadOnlyList<LabelMatcher> Matchers { get; init; } = [];
    /// <summary>One-off: the start. RRULE: the first occurrence (DTSTART), read in <see cref="TimeZone"/>.</summary>
    [Id(2)] public DateTimeOffset? Start { get; init; }
    /// <summary>One-off: the end.</summary>
    [Id(3)] public DateTimeOffset? End { get; init; }
    /// <summary>Recurring: a five-field cron expression (minute hour day-of-month month day-of-week).</summary>
    [Id(4)] public string? Cron { get; init; }
    /// <summary>Recurring: an RFC 5545 recurrence rule, e.g. <c>FREQ=WEEKLY;BYDAY=SU</c>.</summary>
    [Id(5)] public string? RRule { get; init; }
    [Id(6)] public TimeSpan? Duration { get; init; }
    /// <summary>IANA zone of a recurring window; the account's zone when empty.</summary>
    [Id(7)] public string? TimeZone { get; init; }

    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(31);

    /// <summary>The occurrence that covers <paramref name="t"/>, as [start, end), or null when none does.</summary>
    public (DateTimeOffset Start, DateTimeOffset End)? OccurrenceAt(DateTimeOffset t, string accountTimeZone)
    {
        if (End is { } end)
            return Start is { } start && start <= t && t < end ? (start, end) : null;
        var duration = Duration ?? TimeSpan.Zero;
        if (duration <= TimeSpan.Zero) return null;
        // The first occurrence that starts after t - duration is the only one that can still cover t.
        var candidate = Cron is not null
            ? NextCron(t - duration, ZoneOf(accountTimeZone))
            : NextRRule(t - duration, TimeZone ?? accountTimeZone);
        return candidate is { } begin && begin <= t ? (begin, begin + duration) : null;
    }

    /// <summary>The occurrences that overlap [<paramref name="from"/>, <paramref name="to"/>), in order (at most 10,000).</summary>
    public IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> OccurrencesBetween(DateTimeOffset from, DateTimeOffset to, string accountTimeZone)
    {
        if (End is { } end)
        {
            if (Start is { } start && start < to && end > from) yield return (start, end);
            yield break;
        }
        var duration = Duration ?? TimeSpan.Zero;
        if (duration <= TimeSpan.Zero) yield break;
        var after = from - duration;
        for (var n = 0; n < 10_000; n++)
        {
            var begin = Cron is not null ? NextCron(after, ZoneOf(accountTimeZone)) : NextRRule(after, TimeZone ?? accountTimeZone);
            if (begin is not { } next || next >= to) yield break;
            if (next + duration > from) yield return (next, next + duration);
            after = next;
        }
    }

    /// <summary>Whether the window holds back alerts carrying <paramref name="labels"/> (a missing label reads as empty).</summary>
    public bool Covers(IReadOnlyDictionary<string, string> labels) => Matchers.All(m => m.Matches(labels));

    /// <summary>Every problem, as "field: message", for the window at <paramref name="path"/>.</summary>
    public IEnumerable<string> Problems(string path, string accountTimeZone)
    {
        if (string.IsNullOrWhiteSpace(Name)) yield return $"{path}.name: required";
        var kinds = (End is not null ? 1 : 0) + (Cron is not null ? 1 : 0) + (RRule is not null ? 1 : 0);
        if (kinds != 1)
        {
            yield return $"{path}: give exactly one of end (a one-off window), cron or rrule (a recurring one)";
            yield break;
        }
        if (End is { } end)
        {
            if (Start is not { } start) yield return $"{path}.start: required with end";
            else if (end <= start) yield return $"{path}.end: must be after start";
            yield break;
        }
        if (Duration is not { } duration || duration <= TimeSpan.Zero || duration > MaxDuration)
            yield return $"{path}.duration: required for a recurring window, between 1s and 31d";
        var zone = TimeZone ?? accountTimeZone;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            yield return $"{path}.timeZone: '{zone}' is not a known IANA time zone";
            yield break;
        }
        if (Cron is not null && CronProblem(Cron) is { } cronProblem) yield return $"{path}.cron: {cronProblem}";
        if (RRule is not null)
        {
            if (Start is null) yield return $"{path}.start: required with rrule (the first occurrence)";
            else if (RRuleProblem(RRule) is { } ruleProblem) yield return $"{path}.rrule: {ruleProblem}";
        }
    }

    private TimeZoneInfo ZoneOf(string accountTimeZone) => TimeZoneInfo.FindSystemTimeZoneById(TimeZone ?? accountTimeZone);

    private DateTimeOffset? NextCron(DateTimeOffset after, TimeZoneInfo zone) =>
        CronExpression.Parse(Cron!).GetNextOccurrence(after, zone, inclusive: false);

    private DateTimeOffset? NextRRule(DateTimeOffset after, string zone)
    {
        var first = TimeZoneInfo.ConvertTime(Start!.Value, TimeZoneInfo.FindSystemTimeZoneById(zone)).DateTime;
        var series = new CalendarEvent
        {
            DtStart = new CalDateTime(DateTime.SpecifyKind(first, DateTimeKind.Unspecified), zone),
            RecurrenceRule = new RecurrenceRule(RRule!),
        };
        // Occurrences come in order; the window needs the first one that starts strictly after `after`.
        foreach (var occurrence in series.GetOccurrences(new CalDateTime(after.UtcDateTime, "UTC"), null))
        {
            var begin = new DateTimeOffset(occurrence.Period.StartTime.AsUtc, TimeSpan.Zero);
            if (begin > after) return begin;
        }
        return null;
    }

    private static string? CronProblem(string cron)
    {
        try
        {
            CronExpression.Parse(cron);
            return null;
        }
        catch (CronFormatException e)
        {
            return $"'{cron}' is not a cron expression: {e.Message}";
        }
    }

    private static string? RRuleProblem(string rule)
    {
        try
        {
            _ = new RecurrenceRule(rule);
            return rule.Contains("FREQ=", StringComparison.OrdinalIgnoreCase) ? null : $"'{rule}' has no FREQ";
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            return $"'{rule}' is not an RRULE: {e.Message}";
        }
    }
}

/// <summary>Why an alert is suppressed, and until when (the moment it is evaluated again).</summary>
[GenerateSerializer, Immutable]
public sealed record SuppressionReason([property: Id(0)] string Kind, [property: Id(1)] string Name, [property: Id(2)] DateTimeOffset Until)
{
    public const string SilenceKind = "silence", MaintenanceKind = "maintenance", InhibitionKind = "inhibition", FlappingKind = "flapping",
        WaitingKind = "waiting";

    public override string ToString() => $"{Kind} '{Name}' until {Until:O}";
}

/// <summary>The account's suppression rules as the correlator applies them.</summary>
[GenerateSerializer, Immutable]
public sealed record SuppressionRules
{
    public static readonly SuppressionRules None = new();

    [Id(0)] public IReadOnlyList<Silence> Silences { get; init; } = [];
    [Id(1)] public IReadOnlyList<MaintenanceWindow> Maintenance { get; init; } = [];
    [Id(2)] public string TimeZone { get; init; } = "UTC";

    /// <summary>The first rule that suppresses <paramref name="alert"/> at <paramref name="t"/>, or null.</summary>
    public SuppressionReason? Check(NormalizedAlert alert, DateTimeOffset t)
    {
        if (Silences.Count == 0 && Maintenance.Count == 0) return null;
        var labels = LabelMatcher.LabelsOf(alert);
        foreach (var window in Maintenance)
            if (window.Matchers.All(m => m.Matches(labels)) && window.OccurrenceAt(t, TimeZone) is { } occurrence)
                return new SuppressionReason(SuppressionReason.MaintenanceKind, window.Name, occurrence.End);
        foreach (var silence in Silences)
            if (silence.IsActiveAt(t) && silence.Matchers.All(m => m.Matches(labels)))
                return new SuppressionReason(SuppressionReason.SilenceKind, silence.Id, silence.Until);
        return null;
    }
}
