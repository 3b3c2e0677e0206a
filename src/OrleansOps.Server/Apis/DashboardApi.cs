using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.FileProviders;
using OrleansOps.Server.Live;

namespace OrleansOps.Server.Apis;

/// <summary>
/// The dashboard: its pages (static files, no build step), the budget burn-down it charts, and the live feed of
/// server-sent events that tells an open page what to read again.
/// </summary>
public static class DashboardApi
{
    public const string PagesPath = "/dashboard";
    private const int MaxBurnDownPoints = 500;
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static IEndpointRouteBuilder MapDashboardApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Dashboard").RequireToken();
        api.MapGet("/accounts/{accountId}/sla/burndown", GetBurnDown)
            .WithSummary("Each availability SLO's budget left across its current window, ?points= instants (default 60), for the burn-down chart")
            .Produces<BurnDownResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/live", Live)
            .WithSummary("Server-sent events: a 'change' event whenever ?topic=fleet|account:<id>|incident:<id> changes; read it again then")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        // The pages carry no data: they read the API with the token the operator gives them.
        var folder = Path.Combine(AppContext.BaseDirectory, "Dashboard");
        IFileProvider files = Directory.Exists(folder) ? new PhysicalFileProvider(folder) : new NullFileProvider();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = PagesPath + "/assets" });
        var index = files.GetFileInfo("index.html");
        // One page, four views: the script draws the one the path names, so that each view has its own address.
        foreach (var view in new[] { PagesPath, PagesPath + "/accounts/{accountId}", PagesPath + "/incidents/{incidentId}", PagesPath + "/cluster" })
            app.MapGet(view, (HttpContext context) => Page(index, context.Response)).ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// The page may run and load only its own files and call only this server: a label or annotation that slipped past
    /// the encoding could run nothing, and nothing could read a token the operator chose to keep in this browser.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static IResult Page(IFileInfo index, HttpResponse response)
    {
        if (!index.Exists) return Problems.NotFound("The dashboard's files are not beside the server (Dashboard/index.html); rebuild the server.");
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        // Links out (a runbook, a ticket) do not carry the incident's address with them.
        response.Headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.File(index.CreateReadStream(), "text/html; charset=utf-8");
    }

    private static async Task<IResult> GetBurnDown(string accountId, int? points, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        if (points is < 2 or > MaxBurnDownPoints) return Problems.BadRequest("Invalid points", $"points must be between 2 and {MaxBurnDownPoints}.");
        var series = await grains.GetGrain<IAccountGrain>(accountId).GetBurnDown(points ?? 60);
        return series is null ? Problems.NoAccount(accountId) : TypedResults.Ok(new BurnDownResponse(accountId, series));
    }

    public sealed record BurnDownResponse(string Account, IReadOnlyList<BurnDownSeries> Series);

    private static async Task<IResult> Live(string? topic, HttpContext context, LiveFeed feed, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (LiveTopic.Parse(topic) is not { } watched)
            return Problems.BadRequest("Invalid topic", "topic must be fleet, account:<account id> or incident:<incident id>.");
        var grant = context.Grant();
        switch (watched.Kind)
        {
            case "fleet" when !grant.IsAdmin:
                return Problems.Forbidden("The fleet topic needs an admin token; an account token may watch its account and its incidents.");
            case "account" when !grant.Covers(watched.Id) || await grains.GetGrain<IAccountGrain>(watched.Id!).Describe() is null:
                return Problems.NoAccount(watched.Id!);
            case "incident" when !grant.Covers(await grains.GetGrain<IIncidentGrain>(watched.Id!).Owner()):
                return Problems.NoIncident(watched.Id!);
        }
        var subscription = await feed.WatchAsync(watched, cancellationToken);
        return TypedResults.ServerSentEvents(Events(subscription, watched, cancellationToken));
    }

    /// <summary>'ready' once subscribed (read the topic now), then 'change' per change, and a 'ping' when quiet so proxies keep the stream.</summary>
    private static async IAsyncEnumerable<SseItem<LiveChange>> Events(LiveFeed.Subscription subscription, LiveTopic topic,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var _ = subscription;
        yield return new SseItem<LiveChange>(new LiveChange(topic.ToString(), ""), "ready") { ReconnectionInterval = TimeSpan.FromSeconds(3) };
        while (!cancellationToken.IsCancellationRequested)
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            quiet.CancelAfter(Heartbeat);
            LiveChange? change = null;
            try
            {
                change = await subscription.Changes.ReadAsync(quiet.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // quiet for a while
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            yield return change is null
                ? new SseItem<LiveChange>(new LiveChange(topic.ToString(), ""), "ping")
                : new SseItem<LiveChange>(change, "change");
        }
    }
}
