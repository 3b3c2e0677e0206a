namespace OrleansOps.Domain;

/// <summary>
/// An on-call schedule: rotation layers stacked in order (a later layer sits above an earlier one) and one-off
/// overrides above them all. Layer start times and restrictions are wall-clock readings in <see cref="TimeZone"/>,
/// because people agree to "hand over at 09:00", not "at 08:00 UTC in winter and 07:00 UTC in summer".
/// </summary>
/// <remarks>
/// A wall-clock reading that does not exist (in the spring-forward gap) means the first instant after the gap, the
/// moment the clocks jump; a reading that happens twice (in the repeated fall-back hour) means its first, earlier
/// occurrence. Every interval here (turns, restriction windows, overrides) includes its start and excludes its end.
/// </remarks>
[GenerateSerializer, Immutable]
public sealed record OnCallSchedule
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public string? Name { get; init; }
    /// <summary>IANA zone in which layer starts and restrictions are read.</summary>
    [Id(2)] public string TimeZone { get; init; } = "UTC";
    /// <summary>Bottom to top: where layers overlap, the last one that has someone on call wins.</summary>
    [Id(3)] public IReadOnlyList<RotationLayer> Layers { get; init; } = [];
    /// <summary>Take precedence over every layer while they last (someone covering a shift, a swap).</summary>
    [Id(4)] public IReadOnlyList<ScheduleOverride> Overrides { get; init; } = [];

    /// <summary>
    /// Who is on call at <paramref name="at"/>: the user of the override covering it, else the user of the highest layer
    /// that has someone on call then, else nobody (an empty list). When overrides overlap the latest-starting one wins,
    /// since it is the more specific arrangement; overrides starting at the same instant are all on call, in list order.
    /// A layer without users or with a non-positive turn length has nobody on call. Throws
    /// <see cref="TimeZoneNotFoundException"/> for an unknown zone; <see cref="Problems"/> reports it first.
    /// </summary>
    public IReadOnlyList<string> OnCallAt(DateTimeOffset at) => OnCallAt(at, Zone());

    /// <summary>
    /// Who is on call between <paramref name="from"/> and <paramref name="to"/>, for a "this week" view: one shift per
    /// user for each stretch they are on call without a break, whichever layers or overrides put them there, clipped to
    /// the range and ordered by start (then user). The cost grows with the number of turn and restriction boundaries
    /// in the range.
    /// </summary>
    public IReadOnlyList<OnCallShift> ShiftsBetween(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from) return [];
        var zone = Zone();
        // Who is on call can only change at one of these instants, so reading it at each one and holding it until the
        // next gives every shift.
        var changes = new SortedSet<DateTimeOffset> { from };
        foreach (var change in Overrides.SelectMany(o => new[] { o.Start, o.End }).Concat(Layers.SelectMany(l => l.ChangesBetween(from, to, zone))))
            if (from < change && change < to) changes.Add(change);

        var shifts = new List<OnCallShift>();
        var since = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            var users = OnCallAt(change, zone);
            foreach (var (user, start) in since.Where(s => !users.Contains(s.Key)).ToList())
            {
                shifts.Add(new OnCallShift(user, start, change));
                since.Remove(user);
            }
            foreach (var user in users) since.TryAdd(user, change);
        }
        shifts.AddRange(since.Select(s => new OnCallShift(s.Key, s.Value, to)));
        return shifts.OrderBy(s => s.Start).ThenBy(s => s.User, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every problem, as "field: message", for the schedule at <paramref name="prefix"/>; empty when it is valid.</summary>
    public IEnumerable<string> Problems(string prefix)
    {
        if (string.IsNullOrWhiteSpace(Id)) yield return $"{prefix}.id: required";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone ?? "", out _))
            yield return $"{prefix}.timeZone: '{TimeZone}' is not a known IANA time zone";
        for (var i = 0; i < Layers.Count; i++)
            foreach (var problem in Layers[i].Problems($"{prefix}.layers[{i}]"))
                yield return problem;
        for (var i = 0; i < Overrides.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Overrides[i].User)) yield return $"{prefix}.overrides[{i}].user: required";
            if (Overrides[i].End <= Overrides[i].Start) yield return $"{prefix}.overrides[{i}].end: must be after start";
        }
    }

    private IReadOnlyList<string> OnCallAt(DateTimeOffset at, TimeZoneInfo zone)
    {
        var covering = Overrides.Where(o => o.Covers(at)).ToList();
        if (covering.Count > 0)
        {
            var latest = covering.Max(o => o.Start);
            return covering.Where(o => o.Start == latest).Select(o => o.User).Distinct(StringComparer.Ordinal).ToList();
        }
        for (var i = Layers.Count - 1; i >= 0; i--)
            if (Layers[i].UserAt(at, zone) is { } user)
                return [user];
        return [];
    }

    private TimeZoneInfo Zone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
}

/// <summary>
/// Users taking turns in order, from <see cref="Start"/>, each for <see cref="TurnLength"/>; turn k belongs to
/// <c>Users[k mod Users.Count]</c>. Before the first turn nobody from this layer is on call.
/// </summary>
/// <remarks>
/// A turn length of whole days is counted in calendar days of the schedule's zone, so hand-offs stay at
/// <see cref="Start"/>'s time of day all year: the turn that spans a DST change lasts 23 or 25 hours. Any other
/// length (12h, 8h) is counted in elapsed time from <see cref="Start"/>'s instant, so every turn lasts exactly that
/// long and the local hand-off time moves by an hour across a change.
/// </remarks>
[GenerateSerializer, Immutable]
public sealed record RotationLayer
{
    [Id(0)] public string? Name { get; init; }
    /// <summary>When the first user's first turn starts, as the wall clock in the schedule's zone reads (its Kind is ignored).</summary>
    [Id(1)] public required DateTime Start { get; init; }
    [Id(2)] public required TimeSpan TurnLength { get; init; }
    /// <summary>In rotation order.</summary>
    [Id(3)] public required IReadOnlyList<string> Users { get; init; }
    /// <summary>When any are given, the layer covers only the times inside one of them; its turns run on regardless.</summary>
    [Id(4)] public IReadOnlyList<ScheduleRestriction> Restrictions { get; init; } = [];

    /// <summary>Whether turns are counted in local calendar days (true) or in elapsed time (false).</summary>
    public bool CountsCalendarDays => TurnLength.Ticks % TimeSpan.TicksPerDay == 0;

    private bool IsUsable => Users.Count > 0 && TurnLength > TimeSpan.Zero;

    /// <summary>Who this layer has on call at <paramref name="at"/>, or null: before its start, outside its restrictions, or when it is unusable.</summary>
    public string? UserAt(DateTimeOffset at, TimeZoneInfo zone)
    {
        if (!IsUsable || (Restrictions.Count > 0 && !Restrictions.Any(r => r.Covers(at, zone)))) return null;
        return TurnAt(at, zone) is { } turn ? Users[(int)(turn % Users.Count)] : null;
    }

    /// <summary>The number of the turn covering <paramref name="at"/> (the first is 0), or null before the first turn.</summary>
    public long? TurnAt(DateTimeOffset at, TimeZoneInfo zone)
    {
        if (!IsUsable || at < TurnStart(0, zone)) return null;
        // A close estimate (exact for elapsed-time turns), then corrected against the real hand-off instants, which is
        // what settles readings in the repeated fall-back hour.
        long turn = CountsCalendarDays
            ? Math.Max(0, (TimeZoneInfo.ConvertTime(at, zone).Date - Start.Date).Days / TurnLength.Days)
            : (at - TurnStart(0, zone)).Ticks / TurnLength.Ticks;
        while (turn > 0 && at < TurnStart(turn, zone)) turn--;
        while (at >= TurnStart(turn + 1, zone)) turn++;
        return turn;
    }

    /// <summary>The instant turn <paramref name="turn"/> starts (and the one before it ends).</summary>
    public DateTimeOffset TurnStart(long turn, TimeZoneInfo zone) => CountsCalendarDays
        ? WallClock.Resolve(Start.AddDays(turn * TurnLength.Days), zone)
        : WallClock.Resolve(Start, zone) + TimeSpan.FromTicks(TurnLength.Ticks * turn);

    /// <summary>Every problem, as "field: message", for the layer at <paramref name="prefix"/>.</summary>
    public IEnumerable<string> Problems(string prefix)
    {
        if (Users.Count == 0) yield return $"{prefix}.users: at least one user is required";
        for (var i = 0; i < Users.Count; i++)
            if (string.IsNullOrWhiteSpace(Users[i])) yield return $"{prefix}.users[{i}]: a user id cannot be blank";
        // Shorter turns are no rotation anyone staffs, and would make a week's shifts number in the thousands.
        if (TurnLength < TimeSpan.FromHours(1)) yield return $"{prefix}.turnLength: must be at least 1h";
        for (var i = 0; i < Restrictions.Count; i++)
            foreach (var problem in Restrictions[i].Problems($"{prefix}.restrictions[{i}]"))
                yield return problem;
    }

    /// <summary>The instants in [from, to) at which this layer's hand-offs and restriction edges fall.</summary>
    internal IEnumerable<DateTimeOffset> ChangesBetween(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        if (!IsUsable) yield break;
        for (var turn = (TurnAt(from, zone) ?? -1) + 1; TurnStart(turn, zone) < to; turn++)
            yield return TurnStart(turn, zone);
        foreach (var (start, end) in Restrictions.SelectMany(r => r.WindowsBetween(from, to, zone)))
        {
            yield return start;
            yield return end;
        }
    }
}

[GenerateSerializer]
public enum RestrictionKind
{
    /// <summary>The same window every day.</summary>
    Daily = 0,
    /// <summary>One window a week, from <see cref="ScheduleRestriction.StartDay"/>.</summary>
    Weekly = 1,
}

/// <summary>
/// A recurring window a layer is limited to, in the schedule's zone: every day (or every week on
/// <see cref="StartDay"/>) from <see cref="StartTime"/> for <see cref="Duration"/>, which may run past midnight (or
/// past the end of the week). Both edges are wall-clock readings: a 22:00 window of 10h ends at 08:00 local, so on a
/// DST night it lasts 9 or 11 hours.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ScheduleRestriction
{
    [Id(0)] public RestrictionKind Kind { get; init; } = RestrictionKind.Daily;
    [Id(1)] public required TimeOnly StartTime { get; init; }
    /// <summary>At most one day for a daily restriction, one week for a weekly one, so windows never overlap.</summary>
    [Id(2)] public required TimeSpan Duration { get; init; }
    /// <summary>Weekly only: the day the window opens.</summary>
    [Id(3)] public DayOfWeek? StartDay { get; init; }

    private int PeriodDays => Kind == RestrictionKind.Weekly ? 7 : 1;

    public bool Covers(DateTimeOffset at, TimeZoneInfo zone)
    {
        if (FirstWindowOnOrBefore(TimeZoneInfo.ConvertTime(at, zone).Date) is not { } date) return false;
        // Windows last at most one period, so the one opening on or before at's local day, or the one before it,
        // covers at if any does; the one after only matters when a fall-back hour crosses midnight.
        for (var n = -1; n <= 1; n++)
        {
            var (start, end) = WindowOpeningOn(date.AddDays(n * PeriodDays), zone);
            if (start <= at && at < end) return true;
        }
        return false;
    }

    /// <summary>Every problem, as "field: message", for the restriction at <paramref name="prefix"/>.</summary>
    public IEnumerable<string> Problems(string prefix)
    {
        switch (Kind)
        {
            case RestrictionKind.Daily:
                if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromDays(1))
                    yield return $"{prefix}.duration: a daily restriction lasts more than 0 and at most 1d";
                if (StartDay is not null) yield return $"{prefix}.startDay: only a weekly restriction has a start day";
                break;
            case RestrictionKind.Weekly:
                if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromDays(7))
                    yield return $"{prefix}.duration: a weekly restriction lasts more than 0 and at most 7d";
                if (StartDay is null) yield return $"{prefix}.startDay: required for a weekly restriction";
                break;
            default:
                yield return $"{prefix}.kind: must be daily or weekly";
                break;
        }
    }

    internal IEnumerable<(DateTimeOffset Start, DateTimeOffset End)> WindowsBetween(DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone)
    {
        if (FirstWindowOnOrBefore(TimeZoneInfo.ConvertTime(from, zone).Date) is not { } first) yield break;
        var last = TimeZoneInfo.ConvertTime(to, zone).Date.AddDays(1);
        for (var date = first.AddDays(-PeriodDays); date <= last; date = date.AddDays(PeriodDays))
            yield return WindowOpeningOn(date, zone);
    }

    /// <summary>The local date of the latest window opening on or before <paramref name="date"/>; null for a weekly restriction without a day.</summary>
    private DateTime? FirstWindowOnOrBefore(DateTime date) => Kind switch
    {
        RestrictionKind.Daily => date,
        RestrictionKind.Weekly when StartDay is { } day => date.AddDays(-(((int)date.DayOfWeek - (int)day + 7) % 7)),
        _ => null,
    };

    private (DateTimeOffset Start, DateTimeOffset End) WindowOpeningOn(DateTime date, TimeZoneInfo zone)
    {
        var opens = date + StartTime.ToTimeSpan();
        return (WallClock.Resolve(opens, zone), WallClock.Resolve(opens + Duration, zone));
    }
}

/// <summary>Someone on call from <see cref="Start"/> (inclusive) to <see cref="End"/> (exclusive), above every layer.</summary>
[GenerateSerializer, Immutable]
public sealed record ScheduleOverride
{
    [Id(0)] public required string User { get; init; }
    [Id(1)] public required DateTimeOffset Start { get; init; }
    [Id(2)] public required DateTimeOffset End { get; init; }

    public bool Covers(DateTimeOffset at) => Start <= at && at < End;
}

/// <summary>One user on call without a break from <see cref="Start"/> (inclusive) to <see cref="End"/> (exclusive).</summary>
[GenerateSerializer, Immutable]
public sealed record OnCallShift([property: Id(0)] string User, [property: Id(1)] DateTimeOffset Start, [property: Id(2)] DateTimeOffset End);

/// <summary>Wall-clock readings in a time zone as instants.</summary>
internal static class WallClock
{
    /// <summary>
    /// The instant <paramref name="local"/> (its Kind ignored) names in <paramref name="zone"/>: the first instant after
    /// the gap when the reading is skipped by a spring-forward change, the earlier occurrence when a fall-back change
    /// repeats it. Both are "the first instant at which the clock reads <paramref name="local"/> or later".
    /// </summary>
    public static DateTimeOffset Resolve(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsAmbiguousTime(local))
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max()); // the larger offset is the earlier instant
        if (!zone.IsInvalidTime(local)) return new DateTimeOffset(local, zone.GetUtcOffset(local));

        // In a gap the jump happens somewhere between the reading taken at the offset after the change (too early: the
        // clock still reads before the gap) and at the offset before it (late enough). Bisect to the tick of the jump.
        long tooEarly = new DateTimeOffset(local, zone.GetUtcOffset(local.AddDays(1))).UtcTicks;
        long lateEnough = new DateTimeOffset(local, zone.GetUtcOffset(local.AddDays(-1))).UtcTicks;
        while (lateEnough - tooEarly > 1)
        {
            var middle = tooEarly + (lateEnough - tooEarly) / 2;
            if (ToZone(middle, zone).DateTime >= local) lateEnough = middle;
            else tooEarly = middle;
        }
        return ToZone(lateEnough, zone);
    }

    private static DateTimeOffset ToZone(long utcTicks, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(new DateTimeOffset(utcTicks, TimeSpan.Zero), zone);
}
