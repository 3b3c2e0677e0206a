using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>Silences, the alerts suppression holds back, and the correlation counters (noise reduction).</summary>
public static class CorrelationApi
{
    private const long MaxSilenceBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapCorrelationApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/api/v1/accounts/{accountId}").WithTags("Correlation").RequireAdminToken();
        account.MapPost("/silences", CreateSilence).WithSummary("Silence alerts matching every matcher from startsAt (default now) to endsAt");
        account.MapGet("/silences", ListSilences).WithSummary("Pending, active and recently ended silences, newest first");
        account.MapDelete("/silences/{silenceId}", ExpireSilence).WithSummary("End a silence now; the alerts it held are evaluated again");
        account.MapGet("/suppressed", ListSuppressed).WithSummary("Firing alerts held back by a silence or maintenance window, with the reason");
        account.MapGet("/correlation", AccountCounters).WithSummary("Alert events received, deduplicated, suppressed, grouped, incidents opened, noise reduction; per service and in total");
        app.MapGroup("/api/v1/correlation").WithTags("Correlation").RequireAdminToken()
            .MapGet("/", FleetCounters).WithSummary("The correlation counters of every account, and their total");
        return app;
    }

    public sealed record SuppressedView(
        string Fingerprint, string Service, IReadOnlyDictionary<string, string> Labels, SuppressionReason Reason,
        DateTimeOffset Since, DateTimeOffset LastSeen, long Count);

    private static async Task<IResult> CreateSilence(string accountId, HttpRequest request, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
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

    private static async Task<IResult> ListSilences(string accountId, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        return Problems.OkOrNotFound(await grains.SilencesAsync(accountId, time.GetUtcNow()));
    }

    private static async Task<IResult> ExpireSilence(string accountId, string silenceId, string? actor, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        if (actor is { Length: > SilenceRequest.MaxAuthorLength }) return Problems.BadRequest("Invalid actor", $"actor: is longer than {SilenceRequest.MaxAuthorLength} characters");
        return Problems.OkOrNotFound(await grains.ExpireSilenceAsync(accountId, silenceId, actor ?? "admin", time));
    }

    private static async Task<IResult> ListSuppressed(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return NoAccount(accountId);
        var services = await account.Services();
        var held = await Task.WhenAll(services.Select(async service =>
            (await grains.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(accountId, service)).ListSuppressed())
                .Select(s => new SuppressedView(s.Alert.Fingerprint, service, s.Alert.Labels, s.Reason, s.Since, s.Alert.ReceivedAt, s.Count))));
        return TypedResults.Ok(new Page<SuppressedView>(held.SelectMany(h => h).OrderBy(h => h.Since).ToList(), null));
    }

    private static async Task<IResult> AccountCounters(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var view = await grains.CountersAsync(accountId);
        return view is null ? NoAccount(accountId) : TypedResults.Ok(view);
    }

    private static async Task<IResult> FleetCounters(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
        var accounts = await Task.WhenAll(ids.Select(async id => (Id: id, Services: await grains.CountersByServiceAsync(id))));
        var found = accounts.Where(a => a.Services is not null).ToList();
        return TypedResults.Ok(new
        {
            total = CountersView.Of(found.SelectMany(a => a.Services!.Select(s => s.Counters))),
            accounts = found.Select(a => AccountCountersView.Of(a.Id, a.Services!)).ToList(),
        });
    }

    private static ProblemHttpResult InvalidAccount(string accountId) =>
        Problems.BadRequest("Invalid account id", $"'{accountId}' is not an account id (a lower-case slug that starts with a letter).");

    private static ProblemHttpResult NoAccount(string accountId) => Problems.NotFound($"No account '{accountId}'.");
}
