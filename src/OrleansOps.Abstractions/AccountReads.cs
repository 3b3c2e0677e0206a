using System.Globalization;

namespace OrleansOps.Abstractions;

/// <summary>What a read found, or why there is nothing (<see cref="Missing"/>: no such account, schedule or silence).</summary>
public sealed record Lookup<T>(T? Value, string? Missing) where T : class
{
    public static Lookup<T> Found(T value) => new(value, null);
    public static Lookup<T> NotFound(string why) => new(null, why);
}

/// <summary>The KPI query: a period (default the last 30 days) and, optionally, one severity.</summary>
public sealed record KpiQuery(ReportPeriod Period, Severity? Severity)
{
    public const string DefaultPeriod = "30d";

    /// <summary>The query, or null with every problem added to <paramref name="errors"/> as <c>field: message</c>.</summary>
    public static KpiQuery? Parse(string? period, string? severity, List<string> errors)
    {
        var range = ReportPeriod.Parse(period ?? DefaultPeriod, errors);
        Severity? only = null;
        if (severity is not null)
        {
            if (SeverityMapping.TryParseWire(severity, out var parsed)) only = parsed;
            else errors.Add($"severity: '{severity}' is not a severity (sev1, sev2, sev3, sev4)");
        }
        return range is null || errors.Count > 0 ? null : new KpiQuery(range, only);
    }
}

/// <summary>Who is on call at <see cref="From"/>, and the shifts until <see cref="To"/> (default a week later, at most 92 days).</summary>
public sealed record OnCallQuery(DateTimeOffset From, DateTimeOffset To)
{
    public static readonly TimeSpan DefaultSpan = TimeSpan.FromDays(7), MaxSpan = TimeSpan.FromDays(92);

    /// <summary>The query from <c>at</c> and <c>until</c> as written (absent <c>at</c>: <paramref name="now"/>), or null with the problems.</summary>
    public static OnCallQuery? Parse(string? at, string? until, DateTimeOffset now, List<string> errors)
    {
        var from = Instant(at, "at", errors) ?? now;
        var to = Instant(until, "until", errors) ?? from + DefaultSpan;
        if (errors.Count == 0 && (to <= from || to - from > MaxSpan)) errors.Add($"until: must be after at, and at most {MaxSpan.TotalDays:0} days later");
        return errors.Count > 0 ? null : new OnCallQuery(from, to);
    }

    private static DateTimeOffset? Instant(string? text, string name, List<string> errors)
    {
        if (text is null) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            && instant.Year is >= 1970 and <= 9000) return instant;
        errors.Add($"{name}: '{text}' is not a timestamp like 2026-11-26T09:00:00Z between the years 1970 and 9000");
        return null;
    }
}

/// <summary>
/// The account reads the HTTP API and opsctl both answer: the same grain calls made into the same shapes, so that
/// <c>opsctl … --json</c> prints what the API would have answered. Queries are checked before (<see cref="KpiQuery"/>,
/// <see cref="OnCallQuery"/>, <see cref="SilenceRequest"/>), so a read only finds or misses.
/// </summary>
public static class AccountReads
{
    public static async Task<Lookup<SlaResponse>> SlaAsync(this IGrainFactory grains, string accountId)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        var snapshot = await account.GetSla();
        if (snapshot is null) return NoAccount<SlaResponse>(accountId);
        return Lookup<SlaResponse>.Found(SlaResponse.Of(accountId, snapshot, await account.GetSlaEvents()));
    }

    public static async Task<Lookup<KpisResponse>> KpisAsync(this IGrainFactory grains, string accountId, KpiQuery query, DateTimeOffset now)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        var config = await account.GetConfig();
        if (config is null) return NoAccount<KpisResponse>(accountId);
        var period = query.Period.Resolve(config.TimeZone, now);
        var times = await account.GetIncidentTimes();
        var severities = query.Severity is { } one ? [one] : Enum.GetValues<Severity>();
        var counters = await grains.CountersAsync(accountId);
        return Lookup<KpisResponse>.Found(new KpisResponse(accountId, period.Start, period.End,
            severities.Select(s => KpiView.Of(config, times, s, period)).ToList(), Kpis.Compute(times, query.Severity, period), counters?.Total.NoiseReduction));
    }

    /// <summary>
    /// The month's report (<paramref name="period"/> like 2026-11, in the account's time zone); a period that is not a
    /// month, or has not begun, adds to <paramref name="errors"/> and finds nothing.
    /// </summary>
    public static async Task<Lookup<SlaReport>> ReportAsync(this IGrainFactory grains, string accountId, string? period, DateTimeOffset now, List<string> errors)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        var config = await account.GetConfig();
        if (config is null) return NoAccount<SlaReport>(accountId);
        if (!ReportPeriod.LooksLikeMonth(period)) errors.Add("period: required, a month like 2026-11");
        var range = errors.Count == 0 ? ReportPeriod.Parse(period!, errors)?.Resolve(config.TimeZone, now) : null;
        if (range is not null && range.Start > now) errors.Add($"period: {period} has not begun");
        if (range is null || errors.Count > 0) return Lookup<SlaReport>.NotFound(string.Join("; ", errors));
        var snapshot = (await account.GetSlaForPeriod(range))!;
        var times = await account.GetIncidentTimes();
        return Lookup<SlaReport>.Found(new SlaReport(accountId, config.Name, period!, range.Start, range.End, range.End <= now,
            SloView.All(snapshot), Enum.GetValues<Severity>().Select(s => KpiView.Of(config, times, s, range)).ToList(),
            snapshot.Corrections.Where(c => (c.ResolvedAt ?? range.End) >= range.Start && c.StartedAt < range.End).ToList(),
            times.Where(t => (t.ResolvedAt ?? now) >= range.Start && t.StartedAt < range.End).OrderBy(t => t.StartedAt).ToList()));
    }

    public static async Task<Lookup<OnCallResponse>> OnCallAsync(this IGrainFactory grains, string accountId, string scheduleId, OnCallQuery query)
    {
        var config = await grains.GetGrain<IAccountGrain>(accountId).GetConfig();
        if (config is null) return NoAccount<OnCallResponse>(accountId);
        var schedule = config.OnCall.Schedules.FirstOrDefault(s => s.Id == scheduleId);
        if (schedule is null) return Lookup<OnCallResponse>.NotFound($"Account '{accountId}' has no schedule '{scheduleId}'.");
        return Lookup<OnCallResponse>.Found(new OnCallResponse(accountId, schedule.Id, schedule.TimeZone, query.From, schedule.OnCallAt(query.From),
            schedule.ShiftsBetween(query.From, query.To).Select(s => s with { Start = s.Start.ToUniversalTime(), End = s.End.ToUniversalTime() }).ToList()));
    }

    /// <summary>Pending, active and recently ended silences, newest first.</summary>
    public static async Task<Lookup<Page<SilenceView>>> SilencesAsync(this IGrainFactory grains, string accountId, DateTimeOffset now)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return NoAccount<Page<SilenceView>>(accountId);
        return Lookup<Page<SilenceView>>.Found(new Page<SilenceView>((await account.ListSilences()).Select(s => SilenceView.Of(s, now)).ToList(), null));
    }

    /// <summary>Stores a silence <see cref="SilenceRequest"/> made.</summary>
    public static async Task<Lookup<SilenceView>> AddSilenceAsync(this IGrainFactory grains, string accountId, Silence silence, DateTimeOffset now) =>
        await grains.GetGrain<IAccountGrain>(accountId).AddSilence(silence) is { } stored
            ? Lookup<SilenceView>.Found(SilenceView.Of(stored, now))
            : NoAccount<SilenceView>(accountId);

    /// <summary>Ends a silence now (one already ended is answered as it is); its state is told after the account ended it.</summary>
    public static async Task<Lookup<SilenceView>> ExpireSilenceAsync(this IGrainFactory grains, string accountId, string silenceId, string actor, TimeProvider time)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.ExpireSilence(silenceId, actor) is { } expired) return Lookup<SilenceView>.Found(SilenceView.Of(expired, time.GetUtcNow()));
        return await account.Describe() is null
            ? NoAccount<SilenceView>(accountId)
            : Lookup<SilenceView>.NotFound($"No silence '{silenceId}' in account '{accountId}'.");
    }

    /// <summary>An account's correlation counters, per service and in total; null when there is no such account.</summary>
    public static async Task<AccountCountersView?> CountersAsync(this IGrainFactory grains, string accountId) =>
        await grains.CountersByServiceAsync(accountId) is { } services ? AccountCountersView.Of(accountId, services) : null;

    /// <summary>Each service's correlation counters of an account (its declared services and any alerts named), or null when there is no such account.</summary>
    public static async Task<IReadOnlyList<(string Service, CorrelationCounters Counters)>?> CountersByServiceAsync(this IGrainFactory grains, string accountId)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return null;
        var services = await account.Services();
        var counted = (await grains.GetGrain<ICorrelatorGrain>(accountId).GetCounters()).ToDictionary(c => c.Service, c => c.Counters, StringComparer.Ordinal);
        return services.Union(counted.Keys, StringComparer.Ordinal)
            .Select(service => (service, counted.GetValueOrDefault(service) ?? new CorrelationCounters())).ToList();
    }

    private static Lookup<T> NoAccount<T>(string accountId) where T : class => Lookup<T>.NotFound(Missing.Account(accountId));
}
