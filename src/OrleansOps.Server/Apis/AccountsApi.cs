using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using OrleansOps.Configuration;

namespace OrleansOps.Server.Apis;

public static class AccountsApi
{
    private const long MaxConfigBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").WithTags("Accounts").RequireToken();
        accounts.MapGet("/", ListAccounts).WithSummary("All accounts, by id (an account token sees its own); ?limit=&cursor=")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        accounts.MapGet("/{accountId}", GetAccount).WithSummary("One account: services, incident counts, configuration version")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        accounts.MapGet("/{accountId}/config", GetConfig)
            .WithSummary("An account's configuration (integration keys as SHA-256 only), with its ETag; If-None-Match answers 304 while it is current")
            .Produces<AccountConfigDocument>().Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        accounts.MapPut("/{accountId}/config", PutConfig).AdminOnly()
            .WithSummary("Create or replace an account's configuration (JSON, or YAML with a YAML content type); If-Match: \"v<version>\" replaces only that version, If-None-Match: * only creates")
            .Produces<AccountConfigDocument>().Produces<AccountConfigDocument>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ReadsJsonOrYaml<AccountConfigDocument>();
        accounts.MapGet("/{accountId}/incidents", ListIncidents)
            .WithSummary("An account's incidents, newest first; ?status=triggered|acknowledged|resolved|open&limit=&cursor=")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        app.MapGroup("/api/v1/fleet").WithTags("Accounts").RequireToken()
            .MapGet("/incidents", ListFleetIncidents)
            .WithSummary("The newest incidents across every account the token reaches; ?status=open|triggered|acknowledged|resolved&severity=sev1&service=&account=&q=<text in title, id or service>&limit=")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        accounts.MapGet("/{accountId}/schedules/{scheduleId}/oncall", WhoIsOnCall)
            .WithSummary("Who is on call in a schedule at ?at= (default now), and the shifts until ?until= (default a week later)")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Results<Ok<Page<AccountView>>, ProblemHttpResult>> ListAccounts(
        HttpContext context, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var grant = context.Grant();
        var all = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
        var ids = Paging.Slice(all.Where(grant.Covers).ToList(), id => id, query!);
        var views = await Task.WhenAll(ids.Items.Select(id => grains.GetGrain<IAccountGrain>(id).Describe()));
        return TypedResults.Ok(new Page<AccountView>(views.OfType<AccountView>().ToList(), ids.Next));
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> GetAccount(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var view = await grains.GetGrain<IAccountGrain>(accountId).Describe();
        return view is null ? Problems.NoAccount(accountId) : TypedResults.Ok(view);
    }

    private static async Task<IResult> GetConfig(string accountId, HttpContext context, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var account = grains.GetGrain<IAccountGrain>(accountId);
        // The version is read before the configuration: should a write land between the two, the tag is older than the
        // body, and a write sent with it gets a 412 instead of overwriting a change its sender never saw.
        var view = await account.Describe();
        var config = await account.GetConfig();
        if (view is null || config is null) return Problems.NoAccount(accountId);
        context.Response.Headers.ETag = ConfigETags.Of(view.ConfigVersion);
        return ConfigETags.NotModified(context.Request, view.ConfigVersion)
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(AccountConfigDocument.FromDomain(config));
    }

    private static async Task<IResult> PutConfig(string accountId, HttpRequest request, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var headerErrors = new List<string>();
        var precondition = ConfigETags.ReadPrecondition(request, headerErrors);
        if (headerErrors.Count > 0) return Problems.Invalid("The request's preconditions are malformed; nothing was changed", headerErrors);
        var (bytes, tooLarge) = await RequestBodies.ReadAsync(request, MaxConfigBytes, request.HttpContext.RequestAborted);
        if (tooLarge is not null) return tooLarge;
        // Decoding would turn a bad byte into U+FFFD and store it in a name or a rule; refused, as ingest refuses it.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            return Problems.BadRequest(MediaTypes.IsYaml(request.ContentType) ? "Malformed YAML" : "Malformed JSON",
                "The configuration is not valid UTF-8; send JSON or YAML as UTF-8 text. Nothing was changed.");
        var text = Encoding.UTF8.GetString(bytes!);
        if (text.Trim().Length == 0) return Problems.BadRequest("Empty body", "Send the account configuration as JSON or YAML.");

        AccountConfigDocument? document;
        if (MediaTypes.IsYaml(request.ContentType))
        {
            (document, var error) = YamlAccountConfig.Read(text);
            if (document is null) return Problems.BadRequest("Malformed YAML", error!);
        }
        else
        {
            try
            {
                document = JsonSerializer.Deserialize<AccountConfigDocument>(text, ConfigJson);
            }
            catch (JsonException e)
            {
                return Problems.BadRequest("Malformed JSON", $"The configuration is not valid: {e.Message}");
            }
            if (document is null) return Problems.BadRequest("Malformed JSON", "The configuration must be a JSON object.");
        }

        document.Id ??= accountId;
        var (config, errors) = document.ToDomain();
        if (document.Id != accountId) errors.Add($"id: '{document.Id}' does not match the path's account '{accountId}'");
        if (config is null || errors.Count > 0) return Problems.Invalid("The account configuration is invalid; nothing was changed", errors);

        var result = await grains.GetGrain<IAccountGrain>(accountId).ApplyConfig(config, ConfigSource.Api, precondition);
        if (result.Existed) request.HttpContext.Response.Headers.ETag = ConfigETags.Of(result.Version);
        if (result.PreconditionFailed) return PreconditionFailed(accountId, precondition!, result);
        if (result.Errors.Count > 0) return Problems.Invalid("The account configuration is invalid; nothing was changed", result.Errors);
        request.HttpContext.Response.Headers.ETag = ConfigETags.Of(result.Version);
        var body = AccountConfigDocument.FromDomain(config);
        return result.Created
            ? TypedResults.Created($"/api/v1/accounts/{accountId}", body)
            : TypedResults.Ok(body);
    }

    private static ProblemHttpResult PreconditionFailed(string accountId, ConfigPrecondition precondition, ConfigResult result) => Problems.PreconditionFailed(
        precondition.IfNew && result.Existed
            ? $"Account '{accountId}' already exists (configuration {ConfigETags.Of(result.Version)}); nothing was changed. To replace it, send If-Match with that ETag instead of If-None-Match: *."
            : !result.Existed
                ? $"Account '{accountId}' has no configuration, so If-Match matches nothing; nothing was changed. To create it, send If-None-Match: * or no precondition."
                : $"The configuration of '{accountId}' is now {ConfigETags.Of(result.Version)}, not the version If-Match names: someone changed it since you read it. Nothing was changed; GET it again, reapply your change and send the new ETag.");

    private static async Task<Results<Ok<Page<IncidentListItem>>, ProblemHttpResult>> ListIncidents(
        string accountId, IGrainFactory grains, string? status = null, string? cursor = null, string? limit = null)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var errors = new List<string>();
        var filter = StatusFilter(status, errors);
        var size = Paging.ReadLimit(limit, errors);
        if (!string.IsNullOrEmpty(cursor) && !Grains.IncidentCursor.TryDecode(cursor, out _))
            errors.Add("cursor: not a cursor this server issued (pass the 'next' of the previous page as it was)");
        if (errors.Count > 0) return Problems.InvalidQuery(errors);

        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return Problems.NoAccount(accountId);
        var page = await account.ListIncidents(filter!.Value, string.IsNullOrEmpty(cursor) ? null : cursor, size);
        return TypedResults.Ok(new Page<IncidentListItem>(page.Items.Select(IncidentListItem.Of).ToList(), page.Next));
    }

    private static IncidentStatusFilter? StatusFilter(string? status, List<string> errors)
    {
        IncidentStatusFilter? filter = status switch
        {
            null or "" => IncidentStatusFilter.All,
            "open" => IncidentStatusFilter.Open,
            "triggered" => IncidentStatusFilter.Triggered,
            "acknowledged" => IncidentStatusFilter.Acknowledged,
            "resolved" => IncidentStatusFilter.Resolved,
            _ => null,
        };
        if (filter is null) errors.Add($"status: '{status}' is not one of triggered, acknowledged, resolved, open");
        return filter;
    }

    /// <summary>
    /// The newest incidents across the accounts the token reaches that pass every filter given: each account's newest
    /// <c>limit</c> of the status asked are read and merged, so this is a view of what is going on now, not an archive
    /// (an account's own list pages through all of its incidents).
    /// </summary>
    private static async Task<Results<Ok<Page<IncidentListItem>>, ProblemHttpResult>> ListFleetIncidents(
        HttpContext context, IGrainFactory grains, string? status = null, string? severity = null, string? service = null,
        string? account = null, string? q = null, string? limit = null)
    {
        var errors = new List<string>();
        var filter = StatusFilter(status, errors);
        Severity? only = null;
        if (!string.IsNullOrEmpty(severity))
        {
            if (SeverityMapping.TryParseWire(severity, out var parsed)) only = parsed;
            else errors.Add($"severity: '{severity}' is not a severity (sev1, sev2, sev3, sev4)");
        }
        if (!string.IsNullOrEmpty(account) && !Ids.IsAccountId(account)) errors.Add($"account: '{account}' is not an account id");
        var size = Paging.ReadLimit(limit, errors);
        if (errors.Count > 0) return Problems.InvalidQuery(errors);

        var grant = context.Grant();
        var accounts = (await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List())
            .Where(id => grant.Covers(id) && (string.IsNullOrEmpty(account) || id == account));
        bool Wanted(IncidentSummary i) => (only is null || i.Severity == only)
            && (string.IsNullOrEmpty(service) || i.Service == service)
            && (string.IsNullOrEmpty(q) || i.Title.Contains(q, StringComparison.OrdinalIgnoreCase) || i.Id.Contains(q, StringComparison.OrdinalIgnoreCase)
                || i.Service.Contains(q, StringComparison.OrdinalIgnoreCase));
        var found = await Task.WhenAll(accounts.Select(id => NewestMatchingAsync(grains.GetGrain<IAccountGrain>(id), filter!.Value, Wanted, size)));
        var items = found.SelectMany(f => f)
            .OrderByDescending(i => i.OpenedAt).ThenBy(i => i.Id, StringComparer.Ordinal)
            .Take(size)
            .Select(IncidentListItem.Of).ToList();
        return TypedResults.Ok(new Page<IncidentListItem>(items, null));
    }

    /// <summary>How far back the fleet's list looks in each account: a search for something rare stops here.</summary>
    public const int MaxFleetScanPerAccount = 10_000;

    /// <summary>An account's newest <paramref name="wanted"/> incidents, up to <paramref name="limit"/>, read a page at a time.</summary>
    private static async Task<List<IncidentSummary>> NewestMatchingAsync(IAccountGrain account, IncidentStatusFilter filter, Func<IncidentSummary, bool> wanted, int limit)
    {
        var matching = new List<IncidentSummary>();
        string? cursor = null;
        for (var scanned = 0; scanned < MaxFleetScanPerAccount && matching.Count < limit;)
        {
            var page = await account.ListIncidents(filter, cursor, Paging.MaxLimit);
            matching.AddRange(page.Items.Where(wanted));
            scanned += page.Items.Count;
            if ((cursor = page.Next) is null) break;
        }
        return matching;
    }


    private static readonly JsonSerializerOptions ConfigJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private static async Task<Results<Ok<OnCallResponse>, ProblemHttpResult>> WhoIsOnCall(
        string accountId, string scheduleId, string? at, string? until, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return Problems.InvalidAccountId(accountId);
        var errors = new List<string>();
        var query = OnCallQuery.Parse(at, until, time.GetUtcNow(), errors);
        if (query is null) return Problems.InvalidQuery(errors);
        return Problems.OkOrNotFound(await grains.OnCallAsync(accountId, scheduleId, query));
    }
}
