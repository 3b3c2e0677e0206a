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

    /// <summary>What a webhook did: whether anything changed, and the actions it asked for in order (e.g. "note, resolve"), each with how it went.</summary>
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
        IReadOnlyList<InboundAction> actions = system == TicketSystem.Jira
            ? ItsmWebhooks.Jira(document.RootElement, config!.Itsm.Jira?.EmailRef is { } email ? configuration[email] : null) is { } one ? [one] : []
            : ItsmWebhooks.ServiceNow(document.RootElement, config!.Itsm.ServiceNow?.UsernameRef is { } user ? configuration[user] : null);
        if (actions.Count == 0) return TypedResults.Ok(new WebhookResult(false, null, null, "nothing for an incident (or our own change, echoed back)"));

        var incidentId = actions[0].IncidentId;
        var incident = grains.GetGrain<IIncidentGrain>(incidentId);
        if ((await incident.Describe())?.Summary.AccountId != accountId) return Problems.NotFound($"No incident '{incidentId}' in account '{accountId}'.");
        // In the order the message gives them (a note, then the state it left the ticket in); each says how it went.
        var outcomes = new List<(string Kind, bool Applied, string Detail)>();
        foreach (var action in actions)
        {
            var result = action.Kind switch
            {
                InboundActionKind.Acknowledge => await incident.Acknowledge(action.Actor),
                InboundActionKind.Resolve => await incident.Resolve(action.Actor, action.Text),
                // ServiceNow's rule sends the latest work note with every update of the ticket: one note, one step.
                _ when system == TicketSystem.ServiceNow => await incident.AddTicketNote(action.Actor, action.Text!),
                _ => await incident.AddNote(action.Actor, action.Text!),
            };
            var applied = result.Outcome == CommandOutcome.Applied;
            outcomes.Add((action.Kind.ToString().ToLowerInvariant(), applied, applied ? "applied" : result.Message ?? "already so: nothing changed"));
        }
        return TypedResults.Ok(new WebhookResult(outcomes.Any(o => o.Applied), incidentId, string.Join(", ", outcomes.Select(o => o.Kind)),
            outcomes.Count == 1 ? outcomes[0].Detail : string.Join("; ", outcomes.Select(o => $"{o.Kind}: {o.Detail}"))));
    }
}
