using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>The SLA engine over HTTP: live budgets, KPIs, the fleet by risk, period reports, and backfill.</summary>
public static class SlaApi
{
    private const long MaxImportBytes = 8 * 1024 * 1024;

    public static IEndpointRouteBuilder MapSlaApi(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts/{accountId}").WithTags("SLA").RequireAdminToken();
        accounts.MapPost("/incidents/import", Import)
            .WithSummary("Import past incidents {\"incidents\":[{service, severity, title, startedAt, acknowledgedAt, resolvedAt}]}; importing one twice changes nothing")
            .Produces<ImportResult>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ReadsJson<System.Text.Json.JsonElement>();
        accounts.MapGet("/sla", GetSla).WithSummary("Every SLO now: SLI, budget, burn rates, time to exhaustion, headroom, status; and the latest transitions")
            .Produces<SlaResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        accounts.MapGet("/sla/events", ListSlaEvents).WithSummary("SLA status transitions and burn-rate episodes, newest first; ?limit=&cursor=")
            .Produces<Page<SlaEvent>>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        accounts.MapGet("/kpis", GetKpis).WithSummary("MTTA, MTTR, MTTD (mean, median, p90), acknowledgement rate, escalations per incident, noise reduction; ?period=30d|YYYY-MM&severity=sev1")
            .Produces<KpisResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        accounts.MapGet("/reports/sla", GetReport).WithSummary("An SLA report for a calendar month, ?period=YYYY-MM&format=json|csv|html")
            .Produces<SlaReport>().Produces<string>(StatusCodes.Status200OK, "text/csv", "text/html")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGroup("/api/v1/fleet").WithTags("SLA").RequireAdminToken()
            .MapGet("/sla", GetFleet).WithSummary("Accounts by risk: breached, at-risk, then the least budget left; ?limit=&cursor=")
            .Produces<Page<FleetEntry>>().ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    /// <summary>One SLO as the API shows it; the fields of the other kinds are null.</summary>
    public sealed record SloView(
        string Id, string Kind, SloHealth Status, DateTimeOffset WindowStart, DateTimeOffset WindowEnd,
        double? Target, double? Sli, double? BudgetMinutes, double? DowntimeMinutes, double? RemainingMinutes, double? Consumed,
        IReadOnlyDictionary<string, double>? BurnRates, IReadOnlyList<string>? BurnAlerts, double? TimeToExhaustionMinutes, DateTimeOffset? ExhaustedAt,
        HeadroomView? Headroom, double? CreditPercent, DateTimeOffset? NextTransitionAt,
        string? Limit, int? Incidents, int? Met, int? Breached, IReadOnlyList<RunningClock>? Running, DriftResult? Drift)
    {
        public static SloView Of(AvailabilityReport a) => new(
            a.Slo, "availability", a.Status, a.WindowStart, a.WindowEnd, a.Target, Math.Round(a.SliPercent, 4), a.BudgetMinutes, a.DowntimeMinutes,
            a.RemainingMinutes, a.Consumed, a.BurnRates, a.FiringBurnAlerts.Select(b => b.Name).ToList(), a.TimeToExhaustion?.TotalMinutes, a.ExhaustedAt,
            new HeadroomView(a.HeadroomMedian, a.HeadroomP90, a.MedianImpactMinutes, a.P90ImpactMinutes, a.OneMoreMedianBreaches),
            a.CreditPercent, a.NextTransitionAt, null, null, null, null, null, null);

        public static SloView Of(ClockSloReport c) => new(
            c.Slo, c.Kind.ToString().ToLowerInvariant(), c.Status, c.WindowStart, c.WindowEnd, null, c.CompliancePercent, null, null, null, null,
            null, null, null, null, null, null, null, Durations.Format(c.Limit), c.Incidents, c.Met, c.Breached, c.Running, c.Drift);
    }

    public sealed record HeadroomView(double? Median, double? P90, double? MedianImpactMinutes, double? P90ImpactMinutes, bool OneMoreMedianIncidentBreaches);

    public sealed record SlaResponse(string Account, DateTimeOffset At, SloHealth Status, IReadOnlyList<SloView> Slos, IReadOnlyList<SlaEvent> RecentEvents);

    private static async Task<IResult> GetSla(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var account = grains.GetGrain<IAccountGrain>(accountId);
        var snapshot = await account.GetSla();
        if (snapshot is null) return Problems.NotFound($"No account '{accountId}'.");
        var events = await account.GetSlaEvents();
        return TypedResults.Ok(new SlaResponse(accountId, snapshot.At, snapshot.Status,
            snapshot.Availability.Select(SloView.Of).Concat(snapshot.Clocks.Select(SloView.Of)).ToList(),
            events.TakeLast(50).Reverse().ToList()));
    }

    public sealed record KpiTargets(double? MttaMinutes, double? MttrMinutes);
    public sealed record KpiView(string Severity, KpiReport Kpis, KpiTargets Targets);
    public sealed record KpisResponse(string Account, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<KpiView> Severities, KpiReport All, double? NoiseReduction);

    private static async Task<IResult> GetKpis(string accountId, string? period, string? severity, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var account = grains.GetGrain<IAccountGrain>(accountId);
        var config = await account.GetConfig();
        if (config is null) return Problems.NotFound($"No account '{accountId}'.");
        var errors = new List<string>();
        var range = Period(period ?? "30d", config.TimeZone, time.GetUtcNow(), errors);
        Severity? only = null;
        if (severity is not null)
        {
            if (SeverityMapping.TryParseWire(severity, out var parsed)) only = parsed;
            else errors.Add($"severity: '{severity}' is not a severity (sev1, sev2, sev3, sev4)");
        }
        if (errors.Count > 0) return Problems.InvalidQuery(errors);

        var times = await account.GetIncidentTimes();
        var severities = only is { } one ? [one] : Enum.GetValues<Severity>();
        var views = severities.Select(s => new KpiView(s.ToWire(), Kpis.Compute(times, s, range!), new KpiTargets(
            config.Sla.Response.TryGetValue(s, out var respond) ? Kpis.Target(respond, config.Sla.KpiBuffer).TotalMinutes : null,
            config.Sla.Resolution.TryGetValue(s, out var resolve) ? Kpis.Target(resolve, config.Sla.KpiBuffer).TotalMinutes : null))).ToList();
        var counters = await CorrelationApi.CountersOf(accountId, grains);
        return TypedResults.Ok(new KpisResponse(accountId, range!.Start, range.End, views, Kpis.Compute(times, only, range), counters?.Total.NoiseReduction));
    }

    private static async Task<IResult> ListSlaEvents(string accountId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return Problems.NotFound($"No account '{accountId}'.");
        // One review records at most one event of each kind per SLO, so instant, SLO and kind tell events apart.
        return TypedResults.Ok(Paging.Slice(await account.GetSlaEvents(),
            e => Paging.Key(Paging.Descending(e.At), e.Slo, e.Kind.ToString()), query!));
    }

    private static async Task<IResult> GetFleet(IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        var errors = new List<string>();
        var size = Paging.ReadLimit(limit, errors);
        FleetEntry? after = null;
        if (!string.IsNullOrEmpty(cursor) && (after = FleetCursor.Decode(cursor)) is null)
            errors.Add("cursor: not a cursor this server issued (pass the 'next' of the previous page as it was)");
        if (errors.Count > 0) return Problems.InvalidQuery(errors);
        var page = await grains.GetGrain<IFleetGrain>(GrainKeys.Fleet).List(size, after);
        return TypedResults.Ok(new Page<FleetEntry>(page.Items, page.More ? FleetCursor.Encode(page.Items[^1]) : null));
    }

    /// <summary>
    /// A place in the fleet's risk order: status, budget left and account id of a page's last entry. An account whose
    /// standing changes while a client pages may move to a page already read, or to one still to come.
    /// </summary>
    private static class FleetCursor
    {
        public static string Encode(FleetEntry last) => Paging.Encode(Paging.Key(
            ((int)last.Status).ToString(CultureInfo.InvariantCulture),
            last.RemainingMinutes?.ToString("R", CultureInfo.InvariantCulture) ?? "",
            last.AccountId));

        public static FleetEntry? Decode(string cursor)
        {
            if (Paging.Decode(cursor)?.Split('\u0001') is not [var status, var remaining, var accountId]) return null;
            if (!int.TryParse(status, NumberStyles.None, CultureInfo.InvariantCulture, out var health) || !Enum.IsDefined((SloHealth)health)) return null;
            double? minutes = null;
            if (remaining.Length > 0)
            {
                if (!double.TryParse(remaining, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)) return null;
                minutes = parsed;
            }
            return new FleetEntry { AccountId = accountId, Name = "", Status = (SloHealth)health, RemainingMinutes = minutes };
        }
    }

    public sealed record SlaReport(string Account, string Name, string Period, DateTimeOffset From, DateTimeOffset To, bool Closed,
        IReadOnlyList<SloView> Slos, IReadOnlyList<KpiView> Kpis);

    private static async Task<IResult> GetReport(string accountId, string? period, string? format, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var account = grains.GetGrain<IAccountGrain>(accountId);
        var config = await account.GetConfig();
        if (config is null) return Problems.NotFound($"No account '{accountId}'.");
        var now = time.GetUtcNow();
        var errors = new List<string>();
        if (period is null || !System.Text.RegularExpressions.Regex.IsMatch(period, @"^[0-9]{4}-[0-9]{2}$")) errors.Add("period: required, a month like 2026-11");
        var range = errors.Count == 0 ? Period(period!, config.TimeZone, now, errors) : null;
        var kind = (format ?? (request.Headers.Accept.ToString() is var accept && accept.Contains("text/csv") ? "csv" : accept.Contains("text/html") ? "html" : "json")).ToLowerInvariant();
        if (kind is not ("json" or "csv" or "html")) errors.Add($"format: '{format}' is not json, csv or html");
        if (range is not null && range.Start > now) errors.Add($"period: {period} has not begun");
        if (errors.Count > 0) return Problems.InvalidQuery(errors);

        var closed = range!.End <= now;
        var snapshot = (await account.GetSlaForPeriod(range))!;
        var times = await account.GetIncidentTimes();
        var report = new SlaReport(accountId, config.Name, period!, range.Start, range.End, closed,
            snapshot.Availability.Select(SloView.Of).Concat(snapshot.Clocks.Select(SloView.Of)).ToList(),
            Enum.GetValues<Severity>().Select(s => new KpiView(s.ToWire(), Kpis.Compute(times, s, range), new KpiTargets(
                config.Sla.Response.TryGetValue(s, out var respond) ? Kpis.Target(respond, config.Sla.KpiBuffer).TotalMinutes : null,
                config.Sla.Resolution.TryGetValue(s, out var resolve) ? Kpis.Target(resolve, config.Sla.KpiBuffer).TotalMinutes : null))).ToList());
        return kind switch
        {
            "csv" => TypedResults.Text(SlaReports.Csv(report), "text/csv; charset=utf-8"),
            "html" => TypedResults.Text(SlaReports.Html(report), "text/html; charset=utf-8"),
            _ => TypedResults.Ok(report),
        };
    }

    /// <summary><c>Nd</c>: the last N days up to now; <c>YYYY-MM</c>: that calendar month in the account's time zone.</summary>
    private static TimeRange? Period(string text, string timeZone, DateTimeOffset now, List<string> errors)
    {
        if (System.Text.RegularExpressions.Regex.Match(text, @"^([0-9]{4})-([0-9]{2})$") is { Success: true } month
            && int.Parse(month.Groups[2].Value, CultureInfo.InvariantCulture) is >= 1 and <= 12 and var m
            && int.Parse(month.Groups[1].Value, CultureInfo.InvariantCulture) is >= 1970 and <= 9000 and var y)
        {
            // The SLA maths knows where a month begins and ends in a zone (daylight-saving changes included).
            var monthSlo = new AvailabilitySlo { Name = "period", Target = 99, Window = "calendar-month" };
            return AvailabilityMath.Window(monthSlo, TimeZoneInfo.FindSystemTimeZoneById(timeZone), new DateTimeOffset(y, m, 15, 12, 0, 0, TimeSpan.Zero));
        }
        if (Durations.TryParse(text, out var span) && span <= TimeSpan.FromDays(366)) return new TimeRange(now - span, now);
        errors.Add($"period: '{text}' is neither a duration up to 366d such as 30d nor a month such as 2026-11");
        return null;
    }

    private static ProblemHttpResult InvalidAccount(string accountId) =>
        Problems.BadRequest("Invalid account id", $"'{accountId}' is not an account id.");

    public sealed record ImportResult(string Account, int Imported, int AlreadyThere, IReadOnlyList<string> Incidents);

    private static async Task<IResult> Import(string accountId, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var (document, problem) = await RequestBodies.ReadJsonAsync(request, MaxImportBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        using var _ = document;
        var config = await grains.GetGrain<IAccountGrain>(accountId).GetConfig();
        if (config is null) return Problems.NotFound($"No account '{accountId}'.");

        var errors = new List<string>();
        var past = IncidentImport.Read(document!.RootElement, config, time.GetUtcNow(), errors);
        if (errors.Count > 0) return Problems.Invalid("The import is invalid; nothing was imported", errors);

        var imported = await Task.WhenAll(past.Select(p => grains.GetGrain<IIncidentGrain>(p.IncidentId).Import(p)));
        return TypedResults.Ok(new ImportResult(accountId, imported.Count(i => i), imported.Count(i => !i), past.Select(p => p.IncidentId).ToList()));
    }
}
