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
        var accounts = app.MapGroup("/api/v1/accounts/{accountId}").WithTags("SLA").RequireToken();
        accounts.MapPost("/incidents/import", Import).AdminOnly()
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
        var fleet = app.MapGroup("/api/v1/fleet").WithTags("SLA").RequireToken().AdminOnly();
        fleet.MapGet("/sla", GetFleet).WithSummary("Accounts by risk: breached, at-risk, then the least budget left; ?limit=&cursor=")
            .Produces<Page<FleetEntry>>().ProducesProblem(StatusCodes.Status400BadRequest);
        fleet.MapGet("/reports/sla", GetFleetReport).WithSummary("Every account's SLA report for a calendar month (each in its own time zone), ?period=YYYY-MM&format=json|csv|html")
            .Produces<FleetReport>().Produces<string>(StatusCodes.Status200OK, "text/csv", "text/html")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<IResult> GetSla(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        return Problems.OkOrNotFound(await grains.SlaAsync(accountId));
    }

    private static async Task<IResult> GetKpis(string accountId, string? period, string? severity, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var errors = new List<string>();
        var query = KpiQuery.Parse(period, severity, errors);
        if (query is null) return Problems.InvalidQuery(errors);
        return Problems.OkOrNotFound(await grains.KpisAsync(accountId, query, time.GetUtcNow()));
    }

    private static async Task<IResult> ListSlaEvents(string accountId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return Problems.NoAccount(accountId);
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

    /// <summary>json, csv or html: as <c>format</c> says, else as the Accept header prefers; anything else goes to <paramref name="errors"/>.</summary>
    private static string ReportFormat(string? format, HttpRequest request, List<string> errors)
    {
        var accept = request.Headers.Accept.ToString();
        var kind = (format ?? (accept.Contains("text/csv") ? "csv" : accept.Contains("text/html") ? "html" : "json")).ToLowerInvariant();
        if (kind is not ("json" or "csv" or "html")) errors.Add($"format: '{format}' is not json, csv or html");
        return kind;
    }

    private static async Task<IResult> GetFleetReport(string? period, string? format, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        var errors = new List<string>();
        var kind = ReportFormat(format, request, errors);
        if (!ReportPeriod.LooksLikeMonth(period)) errors.Add("period: required, a month like 2026-11");
        else ReportPeriod.Parse(period!, errors);
        if (errors.Count > 0) return Problems.InvalidQuery(errors);
        var now = time.GetUtcNow();
        var accounts = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
        // An account whose month has not begun in its own time zone (the first hours of a month) has nothing to report yet.
        var found = await Task.WhenAll(accounts.Select(accountId => grains.ReportAsync(accountId, period, now, [])));
        var reports = found.Select(f => f.Value).OfType<SlaReport>().ToList();
        if (reports.Count == 0 && accounts.Count > 0) return Problems.InvalidQuery([$"period: {period} has not begun"]);
        var fleet = new FleetReport(period!, reports);
        return kind switch
        {
            "csv" => TypedResults.Text(SlaReports.Csv(fleet), "text/csv; charset=utf-8"),
            "html" => TypedResults.Text(SlaReports.Html(fleet), "text/html; charset=utf-8"),
            _ => TypedResults.Ok(fleet),
        };
    }

    private static async Task<IResult> GetReport(string accountId, string? period, string? format, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var errors = new List<string>();
        var kind = ReportFormat(format, request, errors);
        var found = await grains.ReportAsync(accountId, period, time.GetUtcNow(), errors);
        if (errors.Count > 0) return Problems.InvalidQuery(errors);
        if (found.Value is not { } report) return Problems.NoAccount(accountId);
        return kind switch
        {
            "csv" => TypedResults.Text(SlaReports.Csv(report), "text/csv; charset=utf-8"),
            "html" => TypedResults.Text(SlaReports.Html(report), "text/html; charset=utf-8"),
            _ => TypedResults.Ok(report),
        };
    }


    public sealed record ImportResult(string Account, int Imported, int AlreadyThere, IReadOnlyList<string> Incidents);

    private static async Task<IResult> Import(string accountId, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var (document, problem) = await RequestBodies.ReadJsonAsync(request, MaxImportBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        using var _ = document;
        var config = await grains.GetGrain<IAccountGrain>(accountId).GetConfig();
        if (config is null) return Problems.NoAccount(accountId);

        var errors = new List<string>();
        var past = IncidentImport.Read(document!.RootElement, config, time.GetUtcNow(), errors);
        if (errors.Count > 0) return Problems.Invalid("The import is invalid; nothing was imported", errors);

        var imported = await Task.WhenAll(past.Select(p => grains.GetGrain<IIncidentGrain>(p.IncidentId).Import(p)));
        return TypedResults.Ok(new ImportResult(accountId, imported.Count(i => i), imported.Count(i => !i), past.Select(p => p.IncidentId).ToList()));
    }
}
