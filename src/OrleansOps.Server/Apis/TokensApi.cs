using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>
/// API tokens: admin tokens (everything) and account tokens (one account), issued, rotated with an overlap and
/// revoked by admins; and who the caller's own token says it is.
/// </summary>
public static class TokensApi
{
    private const long MaxTokenRequestBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/me").WithTags("Tokens").RequireToken()
            .MapGet("/", (HttpContext context) => TypedResults.Ok(CallerView.Of(context.Grant())))
            .WithSummary("Who the presented token is: its id, name, scope and account");

        var tokens = app.MapGroup("/api/v1/tokens").WithTags("Tokens").RequireToken().AdminOnly();
        tokens.MapPost("/", Issue)
            .WithSummary("Issue a token: {\"name\", \"scope\": \"admin\"|\"account\", \"account\", \"expiresAt\"}; the answer holds its text, shown only this once")
            .Produces<IssuedToken>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ReadsJson<TokenBody>();
        tokens.MapGet("/", List).WithSummary("Every token (never their secrets), by id; ?account= only that account's; ?limit=&cursor=")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        tokens.MapGet("/{tokenId}", Describe).WithSummary("One token: scope, status, and when each of its secrets was issued and retires")
            .Produces<TokenView>().ProducesProblem(StatusCodes.Status404NotFound);
        tokens.MapPost("/{tokenId}/rotate", Rotate)
            .WithSummary("A new secret for the token; the old one keeps working for {\"overlap\"} (default 24h, 0s for none, at most 30d)")
            .Produces<IssuedToken>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ReadsJson<RotateBody>(optional: true);
        tokens.MapDelete("/{tokenId}", Revoke).WithSummary("Revoke the token now, every secret of it")
            .Produces<TokenView>().ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public sealed record CallerView(string TokenId, string Name, string Scope, string? Account)
    {
        public static CallerView Of(TokenGrant grant) =>
            new(grant.TokenId, grant.Name, grant.IsAdmin ? "admin" : "account", grant.AccountId);
    }

    /// <summary>A token request as it is sent (documented in OpenAPI).</summary>
    public sealed record TokenBody(string Name, string Scope, string? Account, DateTimeOffset? ExpiresAt);

    public sealed record RotateBody(string? Overlap);

    private static async Task<IResult> Issue(HttpContext context, IGrainFactory grains, TimeProvider time)
    {
        var (document, problem) = await RequestBodies.ReadJsonAsync(context.Request, MaxTokenRequestBytes, context.RequestAborted);
        if (problem is not null) return problem;
        using (document)
        {
            var now = time.GetUtcNow();
            var tokenId = Ids.NewTokenId();
            var (text, secretSha256) = TokenText.New(tokenId);
            var (token, errors) = TokenRequest.Read(document!.RootElement, tokenId, secretSha256, context.Grant().TokenId, now);
            if (errors.Count > 0) return Problems.Invalid("The token request is invalid; no token was issued", errors);
            var (issued, refused) = await grains.IssueAsync(token!, text, now);
            return issued is null
                ? Problems.Invalid("The token request is invalid; no token was issued", refused)
                : TypedResults.Created($"/api/v1/tokens/{tokenId}", issued);
        }
    }

    private static async Task<Results<Ok<Page<TokenView>>, ProblemHttpResult>> List(
        IGrainFactory grains, TimeProvider time, string? account = null, string? limit = null, string? cursor = null)
    {
        var errors = new List<string>();
        var query = Paging.Read(limit, cursor, errors);
        if (account is not null && !Ids.IsAccountId(account)) errors.Add($"account: '{account}' is not an account id");
        if (errors.Count > 0) return Problems.InvalidQuery(errors);
        return TypedResults.Ok(Paging.Slice(await grains.ListTokensAsync(account, time.GetUtcNow()), t => t.Id, query));
    }

    private static async Task<IResult> Describe(string tokenId, IGrainFactory grains, TimeProvider time) =>
        Problems.OkOrNotFound(await grains.DescribeTokenAsync(tokenId, time.GetUtcNow()));

    private static async Task<IResult> Rotate(string tokenId, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        var (document, problem) = await RequestBodies.ReadOptionalJsonAsync(request, MaxTokenRequestBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        string? overlapText = null;
        if (document is not null)
            using (document)
            {
                var errors = new List<string>();
                if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object) errors.Add("$: must be a JSON object");
                else overlapText = RequestBodies.OptionalString(document.RootElement, "overlap", 20, errors);
                if (errors.Count > 0) return Problems.Invalid("The rotation is invalid; the token was not changed", errors);
            }
        var (overlap, error) = TokenRequest.Overlap(overlapText);
        if (error is not null) return Problems.Invalid("The rotation is invalid; the token was not changed", [error]);
        return Problems.OkOrNotFound(await grains.RotateTokenAsync(tokenId, overlap, time.GetUtcNow()));
    }

    private static async Task<IResult> Revoke(string tokenId, HttpContext context, IGrainFactory grains, TimeProvider time) =>
        Problems.OkOrNotFound(await grains.RevokeTokenAsync(tokenId, context.Grant().TokenId, time.GetUtcNow()));
}
