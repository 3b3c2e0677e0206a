using OrleansOps.Server.Ingest;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Dead man's switches: a job, a backup or a monitoring system pings its heartbeat with the account's integration key,
/// and the account lists where each stands. A heartbeat silent past its interval and grace is an incident.
/// </summary>
public static class HeartbeatsApi
{
    public static IEndpointRouteBuilder MapHeartbeatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/heartbeats").WithTags("Heartbeats").DocumentBearer(ApiDocs.IntegrationKeyScheme)
            .DisableAntiforgery().RequireRateLimiting(RateLimits.Ingest).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .MapPost("/{name}", Ping)
            .WithSummary("Ping a heartbeat (Authorization: Bearer <integration key>; any body is ignored): it is up, and its missed incident's alert resolves")
            .Produces<HeartbeatView>().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGroup("/api/v1/accounts/{accountId}").WithTags("Heartbeats").RequireToken()
            .MapGet("/heartbeats", List).WithSummary("Every heartbeat of the account: waiting (no ping yet), up or missed, its last ping and its deadline")
            .Produces<IReadOnlyList<HeartbeatView>>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<IResult> Ping(string name, HttpRequest request, IngestService ingest, IGrainFactory grains)
    {
        if (Credentials.Bearer(request) is not { Length: > 0 } key)
            return Problems.Unauthorized("An integration key is required: send Authorization: Bearer <key>.");
        // The binding is confirmed, not taken from the cache: a ping is rare, and a key moved to another account pings there.
        if (await ingest.AuthenticateAsync(key) is not { } cached || await ingest.ConfirmAsync(cached) is not { } sender)
            return Problems.Unauthorized("The integration key is not known.");
        var account = sender.Binding.AccountId;
        return await grains.GetGrain<IHeartbeatGrain>(account).Ping(name) is { } view
            ? TypedResults.Ok(view)
            : Problems.NotFound($"Account {account} has no heartbeat named '{name}': declare it under heartbeats: in the account's configuration.");
    }

    private static async Task<IResult> List(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        if (await grains.GetGrain<IAccountGrain>(accountId).GetConfig() is null) return Problems.NoAccount(accountId);
        return TypedResults.Ok(await grains.GetGrain<IHeartbeatGrain>(accountId).List());
    }
}
