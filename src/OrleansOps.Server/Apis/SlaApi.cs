using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>The SLA engine over HTTP: live budgets, KPIs, the fleet by risk, period reports, and backfill.</summary>
public static class SlaApi
{
    private const long MaxImportBytes = 8 * 1024 * 1024;
    public const int MaxImportIncidents = 10_000;
    private const int MaxTitleLength = 500;

    public static IEndpointRouteBuilder MapSlaApi(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts/{accountId}").WithTags("SLA").RequireAdminToken();
        accounts.MapPost("/incidents/import", Import)
            .WithSummary("Import past incidents {\"incidents\":[{service, severity, title, startedAt, acknowledgedAt, resolvedAt}]}; importing one twice changes nothing");
        return app;
    }

    public sealed record ImportResult(string Account, int Imported, int AlreadyThere, IReadOnlyList<string> Incidents);

    private static async Task<IResult> Import(string accountId, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.BadRequest("Invalid account id", $"'{accountId}' is not an account id.");
        var (document, problem) = await RequestBodies.ReadJsonAsync(request, MaxImportBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        using var _ = document;
        var config = await grains.GetGrain<IAccountGrain>(accountId).GetConfig();
        if (config is null) return Problems.NotFound($"No account '{accountId}'.");

        var errors = new List<string>();
        var past = ReadIncidents(document!.RootElement, config, time.GetUtcNow(), errors);
        if (errors.Count > 0) return Problems.Invalid("The import is invalid; nothing was imported", errors);

        var imported = await Task.WhenAll(past.Select(p => grains.GetGrain<IIncidentGrain>(p.IncidentId).Import(p)));
        return TypedResults.Ok(new ImportResult(accountId, imported.Count(i => i), imported.Count(i => !i), past.Select(p => p.IncidentId).ToList()));
    }

    /// <summary>Every incident of the body, or the problems with it as "incidents[i].field: message".</summary>
    private static List<ImportedIncident> ReadIncidents(JsonElement root, AccountConfig config, DateTimeOffset now, List<string> errors)
    {
        var result = new List<ImportedIncident>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("incidents", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            errors.Add("incidents: required, an array of {service, severity, title, startedAt, acknowledgedAt, resolvedAt}");
            return result;
        }
        if (list.GetArrayLength() > MaxImportIncidents)
        {
            errors.Add($"incidents: at most {MaxImportIncidents} per request");
            return result;
        }
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var path = $"incidents[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{path}: must be an object");
                continue;
            }
            var fieldErrors = new List<string>();
            var service = RequestBodies.OptionalString(item, "service", 200, fieldErrors);
            var severityWord = RequestBodies.OptionalString(item, "severity", 50, fieldErrors);
            var title = RequestBodies.OptionalString(item, "title", MaxTitleLength, fieldErrors);
            var startedAt = Instant(item, "startedAt", fieldErrors);
            var acknowledgedAt = Instant(item, "acknowledgedAt", fieldErrors);
            var resolvedAt = Instant(item, "resolvedAt", fieldErrors);
            if (service is null) fieldErrors.Add("service: required");
            else if (!config.Declares(service)) fieldErrors.Add($"service: '{service}' is not a declared service of the account");
            var severity = SeverityMapping.FromWord(severityWord);
            if (severity is null) fieldErrors.Add(severityWord is null ? "severity: required" : $"severity: '{severityWord}' is not a severity (sev1–sev4, critical, error, warning, info)");
            if (string.IsNullOrWhiteSpace(title)) fieldErrors.Add("title: required");
            if (startedAt is null && !fieldErrors.Any(e => e.StartsWith("startedAt", StringComparison.Ordinal))) fieldErrors.Add("startedAt: required");
            if (resolvedAt is null && !fieldErrors.Any(e => e.StartsWith("resolvedAt", StringComparison.Ordinal))) fieldErrors.Add("resolvedAt: required (only past, resolved incidents are imported)");
            if (startedAt is { } start && resolvedAt is { } end)
            {
                if (end < start) fieldErrors.Add("resolvedAt: before startedAt");
                if (end > now) fieldErrors.Add("resolvedAt: in the future");
                if (acknowledgedAt is { } ack && (ack < start || ack > end)) fieldErrors.Add("acknowledgedAt: must lie between startedAt and resolvedAt");
            }
            errors.AddRange(fieldErrors.Select(e => $"{path}.{e}"));
            if (fieldErrors.Count == 0)
                result.Add(new ImportedIncident
                {
                    AccountId = config.Id,
                    Service = service!,
                    Severity = severity!.Value,
                    Title = title!,
                    StartedAt = startedAt!.Value,
                    AcknowledgedAt = acknowledgedAt,
                    ResolvedAt = resolvedAt!.Value,
                });
        }
        return result;
    }

    private static DateTimeOffset? Instant(JsonElement item, string name, List<string> errors)
    {
        if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)
            && instant.Year is >= 1970 and <= 9000)
            return instant;
        errors.Add($"{name}: not a timestamp like 2026-11-01T10:00:00Z");
        return null;
    }
}
