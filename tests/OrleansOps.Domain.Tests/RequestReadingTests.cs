using System.Text.Json;

namespace OrleansOps.Domain.Tests;

/// <summary>The periods and silences people ask for, read by the rules the HTTP API and opsctl share.</summary>
public sealed class RequestReadingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_month_is_that_month_in_the_accounts_zone()
    {
        var period = ReportPeriod.Parse("2026-03", [])!;
        // New York leaves EST (−5) for EDT (−4) on 8 March: the month starts at −5 and ends at −4.
        var range = period.Resolve("America/New_York", Now);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 5, 0, 0, TimeSpan.Zero), range.Start);
        Assert.Equal(new DateTimeOffset(2026, 4, 1, 4, 0, 0, TimeSpan.Zero), range.End);
    }

    [Fact]
    public void A_duration_is_the_stretch_up_to_now() =>
        Assert.Equal(new TimeRange(Now.AddDays(-30), Now), ReportPeriod.Parse("30d", [])!.Resolve("UTC", Now));

    [Theory]
    [InlineData("2026-13")]
    [InlineData("1969-12")]
    [InlineData("367d")]
    [InlineData("last week")]
    public void Other_periods_are_refused_by_name(string text)
    {
        var errors = new List<string>();
        Assert.Null(ReportPeriod.Parse(text, errors));
        Assert.Equal($"period: '{text}' is neither a duration up to 366d such as 30d nor a month such as 2026-11", Assert.Single(errors));
    }

    [Fact]
    public void A_silence_from_parts_keeps_what_was_asked()
    {
        var (silence, errors) = SilenceRequest.Create(["alertname=Down", "node=~\"node-(a|b)\""], null, Now.AddHours(2), "ana", "reboot", Now);
        Assert.Empty(errors);
        Assert.Equal(["alertname=\"Down\"", "node=~\"node-(a|b)\""], silence!.Matchers.Select(m => m.ToString()));
        Assert.Equal(Now, silence.StartsAt); // no start: now
        Assert.Equal(Now.AddHours(2), silence.EndsAt);
        Assert.Equal(("ana", "reboot", Now), (silence.CreatedBy, silence.Comment, silence.CreatedAt));
        Assert.Matches("^sil-[0-9a-f]{16}$", silence.Id);
    }

    [Fact]
    public void A_silence_from_parts_is_refused_for_every_problem_at_once()
    {
        var (silence, errors) = SilenceRequest.Create(["alertname=~\"(\"", "oops"], Now.AddHours(1), Now.AddMinutes(30), " ", new string('x', 2001), Now);
        Assert.Null(silence);
        Assert.Collection(errors,
            e => Assert.StartsWith("matchers[0]: '(' is not a valid regular expression", e),
            e => Assert.StartsWith("matchers[1]: 'oops' is not a matcher", e),
            e => Assert.Equal("comment: is longer than 2000 characters", e),
            e => Assert.Equal("endsAt: must be after startsAt", e),
            e => Assert.Equal("createdBy: required (who silences, for the record)", e));
        Assert.Equal("matchers: at least one matcher is required (a silence of everything is too easy to make by mistake)",
            Assert.Single(SilenceRequest.Create([], null, Now.AddHours(1), "ana", null, Now).Errors));
    }

    [Fact]
    public void A_silence_from_JSON_and_from_parts_are_the_same_silence()
    {
        using var body = JsonDocument.Parse("""
            {"matchers":["alertname=Down",{"name":"node","value":"node-a","isEqual":false}],"endsAt":"2026-11-26T14:00:00Z","createdBy":"ana","comment":"reboot"}
            """);
        var (fromJson, jsonErrors) = SilenceRequest.Read(body.RootElement, Now);
        var (fromParts, partErrors) = SilenceRequest.Create(["alertname=Down", "node!=node-a"], null, Now.AddHours(2), "ana", "reboot", Now);
        Assert.Empty(jsonErrors);
        Assert.Empty(partErrors);
        Assert.Equal(fromParts! with { Id = fromJson!.Id, Matchers = fromJson.Matchers }, fromJson);
        Assert.Equal(fromParts.Matchers, fromJson.Matchers);
    }
}
