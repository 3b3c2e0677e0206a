using System.Net;
using Microsoft.Extensions.Options;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Server.Apis;

/// <summary>
/// The pages behind an e-mail page's one-click links: opening one shows what it would do and a button; only the
/// button's POST acts, so mail scanners and link previews that fetch every link change nothing. A link is the
/// server's (its MAC holds), for one person, one incident and one action, works for a day, and works once.
/// </summary>
public static class ActionLinksApi
{
    public static IEndpointRouteBuilder MapActionLinks(this IEndpointRouteBuilder app)
    {
        // Pages for people, not an API: left out of the OpenAPI document, as the dashboard is.
        var links = app.MapGroup(ActionLinks.PathPrefix.TrimEnd('/')).ExcludeFromDescription().DisableAntiforgery();
        links.MapGet("/{token}", (string token, IOptions<NotificationOptions> options, IConfiguration configuration, IGrainFactory grains, TimeProvider time) =>
            ShowAsync(token, options.Value, configuration, grains, time, act: false));
        links.MapPost("/{token}", (string token, IOptions<NotificationOptions> options, IConfiguration configuration, IGrainFactory grains, TimeProvider time) =>
            ShowAsync(token, options.Value, configuration, grains, time, act: true));
        return app;
    }

    private static async Task<IResult> ShowAsync(string token, NotificationOptions options, IConfiguration configuration, IGrainFactory grains, TimeProvider time, bool act)
    {
        // One answer for a link that is not ours, names no incident, or names someone not of its account.
        const string invalid = "This link is not valid. Open the incident from the page's other link, or from the dashboard.";
        if (options.LinkKey(configuration) is not { } key) return Page(404, "Not available", "One-click links are not configured on this server.");
        if (ActionLinks.Read(key, token) is not { } claim) return Page(404, "Not valid", invalid);
        var incident = grains.GetGrain<IIncidentGrain>(claim.IncidentId);
        if (!Ids.IsIncidentId(claim.IncidentId) || await incident.Describe() is not { } view
            || await grains.GetGrain<IAccountGrain>(view.Summary.AccountId).GetConfig() is not { } config
            || config.OnCall.Users.FirstOrDefault(u => u.Id == claim.UserId) is not { } user)
            return Page(404, "Not valid", invalid);
        var now = time.GetUtcNow();
        var verb = claim.Action == ActionLinks.Acknowledge ? "Acknowledge" : "Resolve";
        var what = $"{view.Summary.Title} ({view.Summary.Id}), {view.Summary.Severity.ToWire().ToUpperInvariant()}, {view.Summary.Status.ToString().ToLowerInvariant()}";
        if (now > claim.Expires) return Page(410, "Expired", $"This link to {verb.ToLowerInvariant()} {what} expired at {claim.Expires:yyyy-MM-dd HH:mm} UTC.");
        var link = grains.GetGrain<IActionLinkGrain>(GrainKeys.ActionLink(claim.Nonce));
        if (await link.UsedAt() is { } usedAt) return Page(410, "Used", $"This link was used at {usedAt:yyyy-MM-dd HH:mm} UTC; each link works once.");
        if (!act)
            return Page(200, $"{verb} this incident?", $"{verb} {what} as {user.Name ?? user.Id}?",
                $"<form method=\"post\"><button type=\"submit\">{verb}</button></form>");

        // Used first, durably: two clicks racing are one action and one refusal.
        if (await link.Use(view.Summary.AccountId) is { } before) return Page(410, "Used", $"This link was used at {before:yyyy-MM-dd HH:mm} UTC; each link works once.");
        var actor = $"{user.Id} via email";
        var result = claim.Action == ActionLinks.Acknowledge ? await incident.Acknowledge(actor) : await incident.Resolve(actor, "Resolved from an e-mail link");
        return result.Outcome == CommandOutcome.Applied
            ? Page(200, $"{verb}d", $"{verb}d {view.Summary.Title} ({view.Summary.Id}) as {user.Name ?? user.Id}.")
            : Page(200, "Nothing was changed", result.Message ?? $"{view.Summary.Title} ({view.Summary.Id}) is {result.Incident?.Summary.Status.ToString().ToLowerInvariant()} already.");
    }

    private static IResult Page(int status, string title, string text, string? form = null)
    {
        static string E(string value) => WebUtility.HtmlEncode(value);
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex"><title>{{E(title)}} · OrleansOps</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
            button{font-size:1.1rem;padding:.6rem 1.4rem;cursor:pointer}</style></head>
            <body><main><h1>{{E(title)}}</h1><p>{{E(text)}}</p>{{form ?? ""}}</main></body></html>
            """;
        return TypedResults.Content(html, "text/html; charset=utf-8", statusCode: status);
    }
}
