using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>Silences, the alerts suppression holds back, and the correlation counters (noise reduction).</summary>
public static class CorrelationApi
{
    private const long MaxSilenceBytes = 64 * 1024;
    private const int MaxMatchers = 32, MaxAuthorLength = 200, MaxCommentLength = 2000;

    public static IEndpointRouteBuilder MapCorrelationApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/api/v1/accounts/{accountId}").WithTags("Correlation").RequireAdminToken()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        account.MapPost("/silences", CreateSilence).WithSummary("Silence alerts matching every matcher from startsAt (default now) to endsAt")
            .Produces<SilenceView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ReadsJson<SilenceRequest>();
        account.MapGet("/silences", ListSilences).WithSummary("Pending, active and recently ended silences, newest first; ?limit=&cursor=")
            .Produces<Page<SilenceView>>();
        account.MapDelete("/silences/{silenceId}", ExpireSilence).WithSummary("End a silence now (?actor=); the alerts it held are evaluated again")
            .Produces<SilenceView>();
        account.MapGet("/suppressed", ListSuppressed).WithSummary("Firing alerts held back by a silence or maintenance window, with the reason, oldest first; ?limit=&cursor=")
            .Produces<Page<SuppressedView>>();
        account.MapGet("/correlation", AccountCounters).WithSummary("Alert events received, deduplicated, suppressed, grouped, incidents opened, noise reduction; per service and in total")
            .Produces<AccountCountersView>();
        app.MapGroup("/api/v1/correlation").WithTags("Correlation").RequireAdminToken()
            .MapGet("/", FleetCounters).WithSummary("The correlation counters of every account, and their total")
            .Produces<FleetCountersView>();
        return app;
    }

    /// <summary>A silence as it is sent (documented in OpenAPI): matchers as strings (<c>name=~"re"</c>) or Alertmanager objects.</summary>
    public sealed record SilenceRequest(IReadOnlyList<JsonElement> Matchers, DateTimeOffset? StartsAt, DateTimeOffset EndsAt, string CreatedBy, string? Comment);

    public sealed record FleetCountersView(CountersView Total, IReadOnlyList<AccountCountersView> Accounts);

    public sealed record SilenceView(
        string Id, IReadOnlyList<string> Matchers, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string CreatedBy, string Comment,
        DateTimeOffset CreatedAt, DateTimeOffset? ExpiredAt, string? ExpiredBy, string State)
    {
        public static SilenceView Of(Silence s, DateTimeOffset now) => new(
            s.Id, s.Matchers.Select(m => m.ToString()).ToList(), s.StartsAt, s.EndsAt, s.CreatedBy, s.Comment, s.CreatedAt, s.ExpiredAt, s.ExpiredBy, s.StateAt(now));
    }

    public sealed record SuppressedView(
        string Fingerprint, string Service, IReadOnlyDictionary<string, string> Labels, SuppressionReason Reason,
        DateTimeOffset Since, DateTimeOffset LastSeen, long Count);

    public sealed record CountersView(
        long Received, long FiringEvents, long Deduplicated, long Suppressed, long Grouped, long IncidentsOpened,
        long Resolved, long Unmatched, double? NoiseReduction)
    {
        public static CountersView Of(IEnumerable<CorrelationCounters> counters)
        {
            var all = counters.ToList();
            var firing = all.Sum(c => c.FiringEvents);
            var opened = all.Sum(c => c.IncidentsOpened);
            return new CountersView(all.Sum(c => c.Received), firing, all.Sum(c => c.Deduplicated), all.Sum(c => c.Suppressed),
                all.Sum(c => c.Grouped), opened, all.Sum(c => c.Resolved), all.Sum(c => c.Unmatched),
                firing == 0 ? null : Math.Round(1 - (double)opened / firing, 4));
        }
    }

    public sealed record ServiceCounters(string Service, CountersView Counters);
    public sealed record AccountCountersView(string Account, CountersView Total, IReadOnlyList<ServiceCounters> Services);

    private static async Task<IResult> CreateSilence(string accountId, HttpRequest request, IGrainFactory grains, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var (document, problem) = await RequestBodies.ReadJsonAsync(request, MaxSilenceBytes, cancellationToken);
        if (problem is not null) return problem;
        using (document)
        {
            var now = time.GetUtcNow();
            var (silence, errors) = ReadSilence(document!.RootElement, now);
            if (errors.Count > 0) return Problems.Invalid("The silence is invalid; nothing was changed", errors);
            var stored = await grains.GetGrain<IAccountGrain>(accountId).AddSilence(silence!);
            return stored is null ? NoAccount(accountId) : TypedResults.Created($"/api/v1/accounts/{accountId}/silences", SilenceView.Of(stored, now));
        }
    }

    private static async Task<IResult> ListSilences(string accountId, IGrainFactory grains, TimeProvider time, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return NoAccount(accountId);
        var page = Paging.Slice(await account.ListSilences(), s => Paging.Key(Paging.Descending(s.CreatedAt), s.Id), query!);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new Page<SilenceView>(page.Items.Select(s => SilenceView.Of(s, now)).ToList(), page.Next));
    }

    private static async Task<IResult> ExpireSilence(string accountId, string silenceId, string? actor, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        if (actor is { Length: > MaxAuthorLength }) return Problems.BadRequest("Invalid actor", $"actor: is longer than {MaxAuthorLength} characters");
        var expired = await grains.GetGrain<IAccountGrain>(accountId).ExpireSilence(silenceId, actor ?? "admin");
        return expired is null
            ? Problems.NotFound($"No silence '{silenceId}' in account '{accountId}'.")
            : TypedResults.Ok(SilenceView.Of(expired, time.GetUtcNow()));
    }

    private static async Task<IResult> ListSuppressed(string accountId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return NoAccount(accountId);
        var services = await account.Services();
        var held = await Task.WhenAll(services.Select(async service =>
            (await grains.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(accountId, service)).ListSuppressed())
                .Select(s => new SuppressedView(s.Alert.Fingerprint, service, s.Alert.Labels, s.Reason, s.Since, s.Alert.ReceivedAt, s.Count))));
        // A fingerprint is held once per service, so instant, service and fingerprint tell them apart.
        return TypedResults.Ok(Paging.Slice(held.SelectMany(h => h), h => Paging.Key(Paging.Ascending(h.Since), h.Service, h.Fingerprint), query!));
    }

    private static async Task<IResult> AccountCounters(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccount(accountId);
        var view = await CountersOf(accountId, grains);
        return view is null ? NoAccount(accountId) : TypedResults.Ok(view);
    }

    private static async Task<IResult> FleetCounters(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
        var accounts = (await Task.WhenAll(ids.Select(id => CountersByServiceAsync(id, grains)))).OfType<CounterSet>().ToList();
        return TypedResults.Ok(new FleetCountersView(
            CountersView.Of(accounts.SelectMany(a => a.Services.Select(s => s.Counters))),
            accounts.Select(View).ToList()));
    }

    internal static async Task<AccountCountersView?> CountersOf(string accountId, IGrainFactory grains) =>
        await CountersByServiceAsync(accountId, grains) is { } counters ? View(counters) : null;

    /// <summary>Each service's correlator counters of an account, or null when there is no such account.</summary>
    private static async Task<CounterSet?> CountersByServiceAsync(string accountId, IGrainFactory grains)
    {
        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return null;
        var services = await account.Services();
        var counters = await Task.WhenAll(services.Select(service => grains.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(accountId, service)).GetCounters()));
        return new CounterSet(accountId, services.Zip(counters, (service, c) => (service, c)).ToList());
    }

    private static AccountCountersView View(CounterSet account) => new(
        account.Account,
        CountersView.Of(account.Services.Select(s => s.Counters)),
        account.Services.Select(s => new ServiceCounters(s.Service, CountersView.Of([s.Counters]))).ToList());

    private sealed record CounterSet(string Account, IReadOnlyList<(string Service, CorrelationCounters Counters)> Services);

    /// <summary>
    /// A silence from JSON: <c>matchers</c> as strings (<c>name=~"regex"</c>) or Alertmanager objects
    /// (<c>{name, value, isRegex, isEqual}</c>), <c>startsAt</c> (default now), <c>endsAt</c>, <c>createdBy</c>, <c>comment</c>.
    /// </summary>
    private static (Silence? Silence, List<string> Errors) ReadSilence(JsonElement body, DateTimeOffset now)
    {
        var errors = new List<string>();
        if (body.ValueKind != JsonValueKind.Object) return (null, ["$: must be a JSON object"]);
        var matchers = new List<LabelMatcher>();
        if (!body.TryGetProperty("matchers", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            errors.Add("matchers: at least one matcher is required (a silence of everything is too easy to make by mistake)");
        else if (list.GetArrayLength() > MaxMatchers) errors.Add($"matchers: at most {MaxMatchers}");
        else
        {
            var i = 0;
            foreach (var item in list.EnumerateArray())
            {
                var matcher = item.ValueKind switch
                {
                    JsonValueKind.String => LabelMatcher.Parse(item.GetString()!, out var error) ?? Fail(errors, $"matchers[{i}]: {error}"),
                    JsonValueKind.Object => MatcherObject(item, $"matchers[{i}]", errors),
                    _ => Fail(errors, $"matchers[{i}]: must be a string like name=\"value\" or an object {{name, value, isRegex, isEqual}}"),
                };
                if (matcher is not null) matchers.Add(matcher);
                i++;
            }
        }
        var startsAt = Instant(body, "startsAt", errors) ?? now;
        var endsAt = Instant(body, "endsAt", errors);
        if (endsAt is null && !errors.Any(e => e.StartsWith("endsAt", StringComparison.Ordinal))) errors.Add("endsAt: required");
        else if (endsAt is { } end && end <= startsAt) errors.Add("endsAt: must be after startsAt");
        else if (endsAt is { } past && past <= now) errors.Add("endsAt: must be in the future");
        var author = RequestBodies.OptionalString(body, "createdBy", MaxAuthorLength, errors);
        if (string.IsNullOrWhiteSpace(author) && !errors.Any(e => e.StartsWith("createdBy", StringComparison.Ordinal))) errors.Add("createdBy: required (who silences, for the record)");
        var comment = RequestBodies.OptionalString(body, "comment", MaxCommentLength, errors) ?? "";
        if (errors.Count > 0) return (null, errors);
        return (new Silence
        {
            Id = "sil-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Matchers = matchers,
            StartsAt = startsAt,
            EndsAt = endsAt!.Value,
            CreatedBy = author!,
            Comment = comment,
            CreatedAt = now,
        }, errors);
    }

    private static LabelMatcher? MatcherObject(JsonElement item, string path, List<string> errors)
    {
        var name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var value = item.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (name is null || value is null) return Fail(errors, $"{path}: needs string name and value");
        var isRegex = item.TryGetProperty("isRegex", out var r) && r.ValueKind == JsonValueKind.True;
        var isEqual = !item.TryGetProperty("isEqual", out var e) || e.ValueKind != JsonValueKind.False;
        var op = (isRegex, isEqual) switch
        {
            (false, true) => MatchOperator.Equal,
            (false, false) => MatchOperator.NotEqual,
            (true, true) => MatchOperator.Regex,
            _ => MatchOperator.NotRegex,
        };
        return LabelMatcher.Create(name, op, value, out var error) ?? Fail(errors, $"{path}: {error}");
    }

    private static DateTimeOffset? Instant(JsonElement body, string name, List<string> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
            return instant;
        errors.Add($"{name}: must be an RFC 3339 timestamp like 2026-12-01T02:00:00Z");
        return null;
    }

    private static LabelMatcher? Fail(List<string> errors, string error)
    {
        errors.Add(error);
        return null;
    }

    private static ProblemHttpResult InvalidAccount(string accountId) =>
        Problems.BadRequest("Invalid account id", $"'{accountId}' is not an account id (a lower-case slug that starts with a letter).");

    private static ProblemHttpResult NoAccount(string accountId) => Problems.NotFound($"No account '{accountId}'.");
}
