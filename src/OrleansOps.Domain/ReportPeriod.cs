using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansOps.Domain;

/// <summary>
/// The period KPIs and SLA reports are taken over, as people ask for it: <c>Nd</c> (or any duration up to 366 days),
/// the last stretch up to now; <c>YYYY-MM</c>, that calendar month in the account's time zone. Read once, resolved
/// against an account, so the HTTP API and opsctl accept and refuse the same periods.
/// </summary>
public sealed partial record ReportPeriod
{
    private ReportPeriod(int? year, int? month, TimeSpan? last) => (Year, Month, Last) = (year, month, last);

    public int? Year { get; }
    public int? Month { get; }
    /// <summary>Set for a period that ends now.</summary>
    public TimeSpan? Last { get; }

    public bool IsMonth => Month is not null;

    /// <summary>The period <paramref name="text"/> names, or null with the problem added to <paramref name="errors"/> as <c>period: …</c>.</summary>
    public static ReportPeriod? Parse(string text, List<string> errors)
    {
        if (MonthSyntax().Match(text) is { Success: true } month
            && int.Parse(month.Groups[2].Value, CultureInfo.InvariantCulture) is >= 1 and <= 12 and var m
            && int.Parse(month.Groups[1].Value, CultureInfo.InvariantCulture) is >= 1970 and <= 9000 and var y)
            return new ReportPeriod(y, m, null);
        if (Durations.TryParse(text, out var span) && span <= TimeSpan.FromDays(366)) return new ReportPeriod(null, null, span);
        errors.Add($"period: '{text}' is neither a duration up to 366d such as 30d nor a month such as 2026-11");
        return null;
    }

    /// <summary>Whether <paramref name="text"/> is written as a month (YYYY-MM), valid or not.</summary>
    public static bool LooksLikeMonth(string? text) => text is not null && MonthSyntax().IsMatch(text);

    /// <summary>The instants the period covers for an account in <paramref name="timeZone"/>, seen at <paramref name="now"/>.</summary>
    public TimeRange Resolve(string timeZone, DateTimeOffset now)
    {
        if (Last is { } last) return new TimeRange(now - last, now);
        // The SLA maths knows where a month begins and ends in a zone (daylight-saving changes included).
        var monthSlo = new AvailabilitySlo { Name = "period", Target = 99, Window = AvailabilityMath.CalendarMonth };
        return AvailabilityMath.Window(monthSlo, TimeZoneInfo.FindSystemTimeZoneById(timeZone), new DateTimeOffset(Year!.Value, Month!.Value, 15, 12, 0, 0, TimeSpan.Zero));
    }

    [GeneratedRegex("^([0-9]{4})-([0-9]{2})$")]
    private static partial Regex MonthSyntax();
}
