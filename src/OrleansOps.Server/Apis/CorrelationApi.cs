using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>Silences, the alerts suppression holds back, and the correlation counters (noise reduction).</summary>
public static class CorrelationApi
{
    private const long MaxSilenceBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapCorrelationApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/api/v1/accounts/{accountId}").WithTags("Correlation").RequireToken()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        account.MapPost("/silences", CreateSilence).WithSummary("Silence alerts matching every matcher from startsAt (default now) to endsAt")
            .Produces<SilenceView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ReadsJson<SilenceBody>();
        account.MapGet("/silences", ListSilences).WithSummary("Pending, active and recently ended silences, newest first; ?limit=&cursor=")
            .Produces<Page<SilenceView>>();
        account.MapDelete("/silences/{silenceId}", ExpireSilence).WithSummary("End a silence now (?actor=); the alerts it held are evaluated again")
            .Produces<SilenceView>();
        account.MapGet("/suppressed", ListSuppressed).WithSummary("Firing alerts held back by a silence or maintenance window, with the reason, oldest first; ?limit=&cursor=")
            .Produces<Page<SuppressedView>>();
        account.MapGet("/correlation", AccountCounters).WithSummary("Alert events received, deduplicated, suppressed, grouped, incidents opened, noise reduction; per service and in total")
            .Produces<AccountCountersView>();
        app.MapGroup("/api/v1/correlation").WithTags("Correlation").RequireToken().AdminOnly()
            .MapGet("/", FleetCounters).WithSummary("The correlation counters of every account, and their total")
            .Produces<FleetCountersView>();
        return app;
    }

    /// <summary>A silence as it is sent (documented in OpenAPI): matchers as strings (<c>name=~"re"</c>) or Alertmanager objects.</summary>
    public sealed record SilenceBody(IReadOnlyList<System.Text.Json.JsonElement> Matchers, DateTimeOffset? StartsAt, DateTimeOffset EndsAt, string CreatedBy, string? Comment);

    public sealed record FleetCountersView(CountersView Total, IReadOnlyList<AccountCountersView> Accounts);

    public sealed record SuppressedView(
        string Fingerprint, string Service, IReadOnlyDictionary<string, string> Labels, SuppressionReason Reason,
        DateTimeOffset Since, DateTimeOffset LastSeen, long Count);

    private static async Task<IResult> CreateSilence(string accountId, HttpRequest request, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var (document, problem) = await RequestBodies.ReadJsonAsync(request, MaxSilenceBytes, cancellationToken);
        if (problem is not null) return problem;
        using (document)
        {
            var now = time.GetUtcNow();
            var (silence, errors) = SilenceRequest.Read(document!.RootElement, now);
            if (errors.Count > 0) return Problems.Invalid("The silence is invalid; nothing was changed", errors);
            var stored = await grains.AddSilenceAsync(accountId, silence!, now);
            return stored.Value is { } view ? TypedResults.Created($"/api/v1/accounts/{accountId}/silences", view) : Problems.NotFound(stored.Missing!);
        }
    }

    private static async Task<IResult> ListSilences(string accountId, IGrainFactory grains, TimeProvider time, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return Problems.NoAccount(accountId);
        var page = Paging.Slice(await account.ListSilences(), s => Paging.Key(Paging.Descending(s.CreatedAt), s.Id), query!);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new Page<SilenceView>(page.Items.Select(s => SilenceView.Of(s, now)).ToList(), page.Next));
    }

    private static async Task<IResult> ExpireSilence(string accountId, string silenceId, string? actor, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        if (actor is { Length: > SilenceRequest.MaxAuthorLength }) return Problems.BadRequest("Invalid actor", $"actor: is longer than {SilenceRequest.MaxAuthorLength} characters");
        return Problems.OkOrNotFound(await grains.ExpireSilenceAsync(accountId, silenceId, actor ?? "admin", time));
    }

    private static async Task<IResult> ListSuppressed(string accountId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return Problems.NoAccount(accountId);
        var held = (await grains.GetGrain<ICorrelatorGrain>(accountId).ListSuppressed())
            .Select(s => new SuppressedView(s.Alert.Fingerprint, s.Alert.Service, s.Alert.Labels, s.Reason, s.Since, s.Alert.ReceivedAt, s.Count));
        // A fingerprint is held once per service, so instant, service and fingerprint tell them apart.
        return TypedResults.Ok(Paging.Slice(held, h => Paging.Key(Paging.Ascending(h.Since), h.Service, h.Fingerprint), query!));
    }

    private static async Task<IResult> AccountCounters(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var view = await grains.CountersAsync(accountId);
        return view is null ? Problems.NoAccount(accountId) : TypedResults.Ok(view);
    }

    private static async Task<IResult> FleetCounters(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
        var accounts = await Task.WhenAll(ids.Select(async id => (Id: id, Services: await grains.CountersByServiceAsync(id))));
        var found = accounts.Where(a => a.Services is not null).ToList();
        return TypedResults.Ok(new FleetCountersView(
            CountersView.Of(found.SelectMany(a => a.Services!.Select(s => s.Counters))),
            found.Select(a => AccountCountersView.Of(a.Id, a.Services!)).ToList()));
    }

}
