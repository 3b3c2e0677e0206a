namespace OrleansOps.Domain;

/// <summary>
/// The hours a contract's response and resolution clocks run, in the account's time zone: on <see cref="Days"/> from
/// <see cref="From"/> to <see cref="To"/> (local clock times, so a day's hours are the same on both sides of a
/// daylight-saving change). A sev3 opened on Friday at 16:30 with a 4 h resolution window under 09:00–17:00 on weekdays
/// is due on Monday at 12:30.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record BusinessHours
{
    [Id(0)] public required IReadOnlyList<DayOfWeek> Days { get; init; }
    [Id(1)] public required TimeOnly From { get; init; }
    [Id(2)] public required TimeOnly To { get; init; }
    /// <summary>The severities whose clocks keep business hours; empty: every severity.</summary>
    [Id(3)] public IReadOnlyList<Severity> Severities { get; init; } = [];

    /// <summary>No instant is ever more than ten years of business time away.</summary>
    private const int MaxDays = 3660;

    public bool AppliesTo(Severity severity) => Severities.Count == 0 || Severities.Contains(severity);

    /// <summary>The instant <paramref name="duration"/> of business time after <paramref name="start"/>.</summary>
    public DateTimeOffset Add(DateTimeOffset start, TimeSpan duration, TimeZoneInfo zone)
    {
        var left = duration;
        foreach (var (open, close) in Windows(start, zone))
        {
            var from = open > start ? open : start;
            if (close - from >= left) return from + left;
            left -= close - from;
        }
        return DateTimeOffset.MaxValue;
    }

    /// <summary>The business time between two instants.</summary>
    public TimeSpan Between(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        var total = TimeSpan.Zero;
        foreach (var (open, close) in Windows(from, zone))
        {
            if (open >= to) break;
            var start = open > from ? open : from;
            var end = close < to ? close : to;
            if (end > start) total += end - start;
        }
        return total;
    }

    public IEnumerable<string> Problems(string path)
    {
        if (Days.Count == 0) yield return $"{path}.days: name at least one day";
        if (To <= From) yield return $"{path}: to must be after from (business hours within one day)";
    }

    /// <summary>The business windows from the local day of <paramref name="start"/> on, as instants, in order; only those not over by <paramref name="start"/>.</summary>
    private IEnumerable<(DateTimeOffset Open, DateTimeOffset Close)> Windows(DateTimeOffset start, TimeZoneInfo zone)
    {
        var day = TimeZoneInfo.ConvertTime(start, zone).Date;
        for (var i = 0; i < MaxDays; i++, day = day.AddDays(1))
        {
            if (!Days.Contains(day.DayOfWeek)) continue;
            var open = WallClock.Resolve(day + From.ToTimeSpan(), zone);
            var close = WallClock.Resolve(day + To.ToTimeSpan(), zone);
            if (close > start) yield return (open, close);
        }
    }
}
