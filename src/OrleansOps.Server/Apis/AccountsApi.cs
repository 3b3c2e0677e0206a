using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using OrleansOps.Configuration;

namespace OrleansOps.Server.Apis;

public static class AccountsApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;
    private const long MaxConfigBytes = 256 * 1024;

    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").WithTags("Accounts").RequireAdminToken();
        accounts.MapGet("/", ListAccounts).WithSummary("All accounts");
        accounts.MapGet("/{accountId}", GetAccount).WithSummary("One account: services, incident counts, configuration version");
        accounts.MapGet("/{accountId}/config", GetConfig).WithSummary("An account's configuration (integration keys as SHA-256 only)");
        accounts.MapPut("/{accountId}/config", PutConfig).WithSummary("Create or replace an account's configuration (JSON, or YAML with a YAML content type)");
        accounts.MapGet("/{accountId}/incidents", ListIncidents).WithSummary("An account's incidents, newest first; status = triggered|acknowledged|resolved|open");
        accounts.MapGet("/{accountId}/schedules/{scheduleId}/oncall", WhoIsOnCall)
            .WithSummary("Who is on call in a schedule at ?at= (default now), and the shifts until ?until= (default a week later)");
        return app;
    }

    private static async Task<Ok<Page<AccountView>>> ListAccounts(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<IAccountGrain>(id).Describe()));
        return TypedResults.Ok(new Page<AccountView>(views.OfType<AccountView>().ToList(), null));
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> GetAccount(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccountId(accountId);
        var view = await grains.GetGrain<IAccountGrain>(accountId).Describe();
        return view is null ? Problems.NotFound($"No account '{accountId}'.") : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<AccountConfigDocument>, ProblemHttpResult>> GetConfig(string accountId, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccountId(accountId);
        var config = await grains.GetGrain<IAccountGrain>(accountId).GetConfig();
        return config is null ? Problems.NotFound($"No account '{accountId}'.") : TypedResults.Ok(AccountConfigDocument.FromDomain(config));
    }

    private static async Task<IResult> PutConfig(string accountId, HttpRequest request, IGrainFactory grains)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccountId(accountId);
        var (bytes, tooLarge) = await RequestBodies.ReadAsync(request, MaxConfigBytes, request.HttpContext.RequestAborted);
        if (tooLarge is not null) return tooLarge;
        var text = Encoding.UTF8.GetString(bytes!);
        if (text.Trim().Length == 0) return Problems.BadRequest("Empty body", "Send the account configuration as JSON or YAML.");

        AccountConfigDocument? document;
        if (request.ContentType is { } type && (type.Contains("yaml", StringComparison.OrdinalIgnoreCase) || type.Contains("yml", StringComparison.OrdinalIgnoreCase)))
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

        var result = await grains.GetGrain<IAccountGrain>(accountId).ApplyConfig(config, ConfigSource.Api);
        if (result.Errors.Count > 0) return Problems.Invalid("The account configuration is invalid; nothing was changed", result.Errors);
        var body = AccountConfigDocument.FromDomain(config);
        return result.Created
            ? TypedResults.Created($"/api/v1/accounts/{accountId}", body)
            : TypedResults.Ok(body);
    }

    private static async Task<Results<Ok<Page<IncidentListItem>>, ProblemHttpResult>> ListIncidents(
        string accountId, IGrainFactory grains, string? status = null, string? cursor = null, int? limit = null)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccountId(accountId);
        var filter = status switch
        {
            null or "" => IncidentStatusFilter.All,
            "open" => IncidentStatusFilter.Open,
            "triggered" => IncidentStatusFilter.Triggered,
            "acknowledged" => IncidentStatusFilter.Acknowledged,
            "resolved" => IncidentStatusFilter.Resolved,
            _ => (IncidentStatusFilter?)null,
        };
        if (filter is null) return Problems.BadRequest("Invalid status filter", $"status '{status}' is not one of triggered, acknowledged, resolved, open.");
        if (limit is < 1 or > MaxPageSize) return Problems.BadRequest("Invalid limit", $"limit must be between 1 and {MaxPageSize}.");
        if (cursor is not null && !Grains.IncidentCursor.TryDecode(cursor, out _)) return Problems.BadRequest("Invalid cursor", "cursor is not one this server issued.");

        var account = grains.GetGrain<IAccountGrain>(accountId);
        if (await account.Describe() is null) return Problems.NotFound($"No account '{accountId}'.");
        var page = await account.ListIncidents(filter.Value, cursor, limit ?? DefaultPageSize);
        return TypedResults.Ok(new Page<IncidentListItem>(page.Items.Select(IncidentListItem.Of).ToList(), page.Next));
    }

    private static ProblemHttpResult InvalidAccountId(string accountId) => Problems.BadRequest(
        "Invalid account id", $"'{accountId}' is not an account id: a lower-case slug that starts with a letter ([a-z][a-z0-9-]{{0,62}}).");

    private static readonly JsonSerializerOptions ConfigJson = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private static async Task<Results<Ok<OnCallResponse>, ProblemHttpResult>> WhoIsOnCall(
        string accountId, string scheduleId, string? at, string? until, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsAccountId(accountId)) return InvalidAccountId(accountId);
        var errors = new List<string>();
        var query = OnCallQuery.Parse(at, until, time.GetUtcNow(), errors);
        if (query is null) return Problems.Invalid("The query is invalid", errors);
        return Problems.OkOrNotFound(await grains.OnCallAsync(accountId, scheduleId, query));
    }
}
