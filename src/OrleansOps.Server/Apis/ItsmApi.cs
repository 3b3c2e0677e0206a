using OrleansOps.Integrations.Itsm;
using System.Text.Json;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Inbound webhooks from ServiceNow and Jira: a ticket acknowledged, resolved or commented on moves its incident.
/// Authenticated with the account's inbound secret (a bearer token or Jira's HMAC signature); our own echoes change nothing.
/// </summary>
public static class ItsmApi
{
    private const long MaxWebhookBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapItsmApi(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/api/v1/integrations").WithTags("ITSM").DocumentBearer(ApiDocs.InboundSecretScheme)
            .DocumentJsonBody()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        hooks.MapPost("/jira/{accountId}", (string accountId, HttpRequest request, IGrainFactory grains, IConfiguration configuration) =>
            Receive(accountId, TicketSystem.Jira, request, grains, configuration)).WithSummary("Jira Cloud webhook (jira:issue_updated, comment_created)")
            .Produces<WebhookResult>();
        hooks.MapPost("/servicenow/{accountId}", (string accountId, HttpRequest request, IGrainFactory grains, IConfiguration configuration) =>
            Receive(accountId, TicketSystem.ServiceNow, request, grains, configuration)).WithSummary("ServiceNow outbound REST message from a business rule")
            .Produces<WebhookResult>();
        return app;
    }

    public sealed record WebhookResult(bool Applied, string? IncidentId, string? Action, string Detail);

    private static async Task<IResult> Receive(string accountId, TicketSystem system, HttpRequest request, IGrainFactory grains, IConfiguration configuration)
    {
        var (bytes, tooLarge) = await RequestBodies.ReadAsync(request, MaxWebhookBytes, request.HttpContext.RequestAborted);
        if (tooLarge is not null) return tooLarge;
        // Unknown account, no ITSM, or a wrong secret: one answer, so a caller learns nothing about which.
        var config = Ids.IsAccountId(accountId) ? await grains.GetGrain<IAccountGrain>(accountId).GetConfig() : null;
        var secret = config?.Itsm.InboundSecretRef is { } reference ? configuration[reference] : null;
        if (config is null || secret is null
            || !ItsmWebhooks.Authentic(secret, request.Headers.Authorization, request.Headers["X-Hub-Signature"], bytes))
            return Problems.Unauthorized("The webhook does not carry this account's inbound secret (Authorization: Bearer <secret>, or X-Hub-Signature: sha256=<HMAC of the body>).");

        var (parsed, malformed) = RequestBodies.ParseJson(bytes!);
        if (malformed is not null) return malformed;
        using var document = parsed!;
        var action = system == TicketSystem.Jira
            ? ItsmWebhooks.Jira(document.RootElement, config!.Itsm.Jira?.EmailRef is { } email ? configuration[email] : null)
            : ItsmWebhooks.ServiceNow(document.RootElement, config!.Itsm.ServiceNow?.UsernameRef is { } user ? configuration[user] : null);
        if (action is null) return TypedResults.Ok(new WebhookResult(false, null, null, "nothing for an incident (or our own change, echoed back)"));

        var incident = grains.GetGrain<IIncidentGrain>(action.IncidentId);
        if ((await incident.Describe())?.Summary.AccountId != accountId) return Problems.NotFound($"No incident '{action.IncidentId}' in account '{accountId}'.");
        var result = action.Kind switch
        {
            InboundActionKind.Acknowledge => await incident.Acknowledge(action.Actor),
            InboundActionKind.Resolve => await incident.Resolve(action.Actor, action.Text),
            _ => await incident.AddNote(action.Actor, action.Text!),
        };
        var applied = result.Outcome == CommandOutcome.Applied;
        return TypedResults.Ok(new WebhookResult(applied, action.IncidentId, action.Kind.ToString().ToLowerInvariant(),
            applied ? "applied" : result.Message ?? "already so: nothing changed"));
    }
}
