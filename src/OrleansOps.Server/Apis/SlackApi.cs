using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Acting on a page from Slack: the Acknowledge, Resolve and Escalate buttons of a Slack page post here (the Slack app's
/// interactivity request URL). Slack's signature proves the request; the member who pressed acts as the account's user
/// whose <c>slack:</c> id they are, and the page is updated in place to say what was done, by whom and when.
/// </summary>
public static class SlackApi
{
    private const long MaxInteractionBytes = 64 * 1024;
    /// <summary>One answer for an unknown incident, an unknown member and a member of another account: a stranger learns nothing.</summary>
    private const string NotYours = "Nothing was changed: your Slack account is not one of this incident's account's users (ask an administrator to add `slack: <your member id>` to your user).";

    public static IEndpointRouteBuilder MapSlackApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/integrations/slack").WithTags("Slack").DisableAntiforgery()
            .MapPost("/interactions", Interact)
            .WithSummary("Slack's interaction requests: a page's Acknowledge, Resolve or Escalate button pressed (signed with the Slack app's signing secret)")
            .Produces(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    private static async Task<IResult> Interact(
        HttpRequest request, IOptions<NotificationOptions> notifications, IConfiguration configuration, IGrainFactory grains,
        IHttpClientFactory clients, TimeProvider time, ILoggerFactory loggers)
    {
        if (notifications.Value.Slack.Secret(configuration) is not { } secret)
            return Problems.NotFound("Slack interactivity is not configured on this server: set OrleansOps:Notifications:Slack:SigningSecretRef (or SigningSecret).");
        var cancellationToken = request.HttpContext.RequestAborted;
        var (bytes, tooLarge) = await RequestBodies.ReadAsync(request, MaxInteractionBytes, cancellationToken);
        if (tooLarge is not null) return tooLarge;
        if (!SlackInteractions.Verify(secret, request.Headers[SlackInteractions.TimestampHeader], bytes, request.Headers[SlackInteractions.SignatureHeader], time.GetUtcNow()))
            return Problems.Unauthorized("The request is not signed with this server's Slack signing secret, or it was sent more than 5 minutes ago.");
        // Another kind of interaction, or another app's button: Slack only needs its 200.
        if (SlackInteractions.Read(Encoding.UTF8.GetString(bytes!)) is not { } pressed) return TypedResults.Ok();

        var answer = await ActAsync(pressed, grains, time);
        if (pressed.ResponseUrl is { } responseUrl && Uri.TryCreate(responseUrl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http")
        {
            // The page is updated through Slack's response URL; a failure there leaves the action done and the page as it was.
            try
            {
                using var response = await clients.CreateClient(NotificationHttpClients.Slack).PostAsJsonAsync(url, answer, cancellationToken);
                if (!response.IsSuccessStatusCode)
                    loggers.CreateLogger("OrleansOps.Slack").LogWarning("Slack refused the page's update for {IncidentId}: HTTP {Status}", pressed.IncidentId, (int)response.StatusCode);
            }
            catch (HttpRequestException e)
            {
                loggers.CreateLogger("OrleansOps.Slack").LogWarning("Slack's response URL for {IncidentId} could not be reached: {Error}", pressed.IncidentId, e.Message);
            }
        }
        return TypedResults.Ok();
    }

    /// <summary>Does what the button says as the account's user who pressed it; the answer for Slack says how it went.</summary>
    private static async Task<JsonObject> ActAsync(SlackInteractions.Pressed pressed, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsIncidentId(pressed.IncidentId)) return SlackInteractions.Ephemeral(NotYours);
        var incident = grains.GetGrain<IIncidentGrain>(pressed.IncidentId);
        if (await incident.Describe() is not { } view
            || await grains.GetGrain<IAccountGrain>(view.Summary.AccountId).GetConfig() is not { } config
            || config.OnCall.Users.FirstOrDefault(u => u.Slack == pressed.SlackUserId) is not { } user)
            return SlackInteractions.Ephemeral(NotYours);

        var actor = $"{user.Id} via slack";
        var result = pressed.ActionId switch
        {
            SlackInteractions.Acknowledge => await incident.Acknowledge(actor),
            SlackInteractions.Resolve => await incident.Resolve(actor, "Resolved from Slack"),
            _ => await incident.Escalate(actor),
        };
        var done = pressed.ActionId switch
        {
            SlackInteractions.Acknowledge => "Acknowledged",
            SlackInteractions.Resolve => "Resolved",
            _ => "Escalated to the next level",
        };
        if (result.Outcome != CommandOutcome.Applied)
            return SlackInteractions.Ephemeral("Nothing was changed: " + (result.Message
                ?? (result.Incident?.AcknowledgedBy is { } by && pressed.ActionId == SlackInteractions.Acknowledge
                    ? $"it was acknowledged by {by} already."
                    : $"the incident is {(result.Incident?.Summary.Status ?? view.Summary.Status).ToString().ToLowerInvariant()} already.")));
        var at = time.GetUtcNow();
        return SlackInteractions.Updated(pressed, $"{done} by {user.Name ?? user.Id} via Slack at {at:yyyy-MM-dd HH:mm} UTC",
            resolved: result.Incident?.Summary.Status == IncidentStatus.Resolved);
    }
}
