using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OrleansOps.Integrations.Inbound;
using OrleansOps.Server.Ingest;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Alert ingest. Each route authenticates with an integration key, as <c>Authorization: Bearer &lt;key&gt;</c> or
/// as a path prefix <c>/i/{key}</c> for senders that cannot set headers (PagerDuty-style events carry it as
/// routing_key). A body is validated whole before anything is applied: one bad alert refuses the batch.
/// </summary>
public static class IngestApi
{
    private delegate ParseResult Parser(JsonElement root, DateTimeOffset now);

    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        MapRoutes(app.MapGroup("").DocumentBearer(ApiDocs.IntegrationKeyScheme));
        MapRoutes(app.MapGroup("/i/{key}").ProducesProblem(StatusCodes.Status401Unauthorized));
        return app;
    }

    private static void MapRoutes(RouteGroupBuilder group)
    {
        group.WithTags("Ingest").DisableAntiforgery().RequireRateLimiting(RateLimits.Ingest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .DocumentJsonBody()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapPost("/api/v2/alerts", (HttpRequest request, IngestService ingest, IOptions<OrleansOpsOptions> options, TimeProvider time) =>
                IngestAsync(request, ingest, options.Value, time, AlertmanagerAlertsParser.Parse, Accepted(StatusCodes.Status200OK)))
            .WithSummary("Alertmanager v2 alerts API (what Prometheus sends to an Alertmanager)").Produces<IngestAnswer>();
        group.MapPost("/api/v1/integrations/alertmanager", (HttpRequest request, IngestService ingest, IOptions<OrleansOpsOptions> options, TimeProvider time) =>
                IngestAsync(request, ingest, options.Value, time, AlertmanagerWebhookParser.Parse, Accepted(StatusCodes.Status200OK)))
            .WithSummary("Alertmanager webhook receiver (payload version 4)").Produces<IngestAnswer>();
        group.MapPost("/api/v1/alerts", (HttpRequest request, IngestService ingest, IOptions<OrleansOpsOptions> options, TimeProvider time) =>
                IngestAsync(request, ingest, options.Value, time, CanonicalAlertParser.Parse, Accepted(StatusCodes.Status202Accepted)))
            .WithSummary("OrleansOps canonical alerts (docs/api.md)").Produces<IngestAnswer>(StatusCodes.Status202Accepted);
        group.MapPost("/v2/enqueue", (HttpRequest request, IngestService ingest, IOptions<OrleansOpsOptions> options, TimeProvider time) =>
                IngestAsync(request, ingest, options.Value, time, PagerDutyEventParser.Parse, PagerDutyAnswer))
            .WithSummary("PagerDuty Events API v2 (routing_key is the integration key)").Produces<PagerDutyAnswerBody>(StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> IngestAsync(
        HttpRequest request, IngestService ingest, OrleansOpsOptions options, TimeProvider time, Parser parse,
        Func<ParseResult, IReadOnlyList<AlertReceipt>, IResult> answer)
    {
        var log = request.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansOps.Ingest");
        // The route pattern, not the path: a path key (/i/{key}/...) is a secret and stays out of the logs.
        var route = (request.HttpContext.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "ingest";
        var headerOrPathKey = KeyFrom(request);
        var (document, problem) = await RequestBodies.ReadJsonAsync(request, options.MaxIngestBodyBytes, request.HttpContext.RequestAborted);
        if (problem is not null)
        {
            log.LogInformation("Refused {Path}: {Problem}", route, problem.ProblemDetails.Detail);
            return problem;
        }
        using (document)
        {
            var parsed = parse(document!.RootElement, time.GetUtcNow());
            var key = parsed.RoutingKey ?? headerOrPathKey;
            if (string.IsNullOrEmpty(key))
                return Problems.Unauthorized("An integration key is required: send Authorization: Bearer <key>, or prefix the path with /i/<key>.");
            // Authenticate before saying what is wrong with the body: strangers learn nothing.
            if (await ingest.AuthenticateAsync(key) is not { } sender)
            {
                log.LogInformation("Refused {Path}: unknown integration key", route);
                return Problems.Unauthorized("The integration key is not known.");
            }
            if (!parsed.IsValid && await ingest.ConfirmAsync(sender) is null)
            {
                log.LogInformation("Refused {Path}: unknown integration key", route);
                return Problems.Unauthorized("The integration key is not known.");
            }
            if (!parsed.IsValid)
            {
                log.LogInformation("Refused {Path} from {Account} (key {Key}…): {Count} invalid fields, first {Field}: {Message}",
                    route, sender.Binding.AccountId, sender.KeyFingerprint, parsed.Errors.Count, parsed.Errors[0].Field, parsed.Errors[0].Message);
                return Problems.Invalid("The alert batch is invalid; nothing was applied", parsed.Errors);
            }

            if (await ingest.IngestAsync(sender, parsed.Alerts) is not { } receipts)
            {
                log.LogInformation("Refused {Path}: the integration key is no longer held by account {Account}", route, sender.Binding.AccountId);
                return Problems.Unauthorized("The integration key is not known.");
            }
            return answer(parsed, receipts);
        }
    }

    private static string? KeyFrom(HttpRequest request)
    {
        if (request.RouteValues.TryGetValue("key", out var routeKey) && routeKey is string pathKey) return pathKey;
        return Credentials.Bearer(request);
    }

    private static Func<ParseResult, IReadOnlyList<AlertReceipt>, IResult> Accepted(int statusCode) => (_, receipts) =>
        TypedResults.Json(new IngestAnswer(receipts.Count, receipts.Select(ReceiptResponse.Of).ToList()), statusCode: statusCode);

    private static IResult PagerDutyAnswer(ParseResult parsed, IReadOnlyList<AlertReceipt> receipts) =>
        TypedResults.Json(new PagerDutyAnswerBody("success", "Event processed", parsed.Alerts[0].DedupKey ?? receipts[0].Fingerprint, receipts[0].IncidentId),
            statusCode: StatusCodes.Status202Accepted);

    public sealed record IngestAnswer(int Accepted, IReadOnlyList<ReceiptResponse> Alerts);

    /// <summary>What became of one alert; <c>suppressedBy</c> names the silence or maintenance window that held it back.</summary>
    public sealed record ReceiptResponse(string Fingerprint, string? IncidentId, string Outcome, bool OpenedIncident,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] SuppressionReason? SuppressedBy)
    {
        public static ReceiptResponse Of(AlertReceipt receipt) =>
            new(receipt.Fingerprint, receipt.IncidentId, JsonNamingPolicy.CamelCase.ConvertName(receipt.Outcome.ToString()), receipt.OpenedIncident, receipt.SuppressedBy);
    }

    public sealed record PagerDutyAnswerBody(
        [property: System.Text.Json.Serialization.JsonPropertyName("status")] string Status,
        [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message,
        [property: System.Text.Json.Serialization.JsonPropertyName("dedup_key")] string DedupKey,
        [property: System.Text.Json.Serialization.JsonPropertyName("incident_id")] string? IncidentId);
}
