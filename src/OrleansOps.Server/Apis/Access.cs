using System.Security.Cryptography;
using System.Text;

namespace OrleansOps.Server.Apis;

/// <summary>
/// The admin token of the server's configuration: as text (<c>OrleansOps:AdminToken</c>) or only as its SHA-256
/// (<c>OrleansOps:AdminTokenSha256</c>), so the configuration need not hold it; compared in constant time.
/// </summary>
public sealed class AdminToken
{
    private readonly byte[][] _expected;

    public AdminToken(string? token, string? sha256 = null)
    {
        Value = token;
        var hashes = new List<byte[]>();
        if (!string.IsNullOrEmpty(token)) hashes.Add(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (!string.IsNullOrEmpty(sha256)) hashes.Add(Convert.FromHexString(sha256));
        _expected = [.. hashes];
    }

    /// <summary>The token's text, when it was given as text (generated or configured); null when only its hash is known.</summary>
    public string? Value { get; }

    public bool Matches(string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var offered = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var matched = false;
        foreach (var expected in _expected) matched |= CryptographicOperations.FixedTimeEquals(offered, expected);
        return matched;
    }

    public bool Matches(HttpRequest request) => Matches(Credentials.Bearer(request));
}

/// <summary>Who presents a request's bearer token: the configured admin token, or an issued API token.</summary>
public sealed class Credentials(AdminToken configured, IGrainFactory grains)
{
    public static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>The grant of the request's token; null without one, or when it is not a working token (integration keys are not).</summary>
    public async Task<TokenGrant?> AdmitAsync(HttpRequest request)
    {
        var presented = Bearer(request);
        if (configured.Matches(presented)) return TokenGrant.ConfiguredAdmin;
        return await Access.AdmitAsync(grains, presented);
    }
}

public static class AccessExtensions
{
    private sealed class AdminOnlyMarker;

    /// <summary>
    /// Every endpoint of the group needs an API token (401 without one). An account token reaches only its account:
    /// another account's, or another account's incident, answers the same 404 as one that does not exist, and an
    /// endpoint marked <see cref="AdminOnly{TBuilder}"/> answers 403.
    /// </summary>
    public static RouteGroupBuilder RequireToken(this RouteGroupBuilder group) =>
        group.DocumentBearer(ApiDocs.TokenScheme).RequireRateLimiting(RateLimits.Api)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .AddEndpointFilter(async (context, next) =>
            {
                var http = context.HttpContext;
                var grant = await http.RequestServices.GetRequiredService<Credentials>().AdmitAsync(http.Request);
                if (grant is null)
                {
                    http.Response.Headers.WWWAuthenticate = "Bearer";
                    return Problems.Unauthorized("This endpoint needs an API token: Authorization: Bearer <admin or account token>.");
                }
                http.Features.Set(grant);
                return await Refusal(grant, http) ?? await next(context);
            });

    /// <summary>Only admin tokens may call these endpoints, even within an account token's own account.</summary>
    public static TBuilder AdminOnly<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AdminOnlyMarker());

    /// <summary>The grant of the token the request was admitted with (set by <see cref="RequireToken"/>).</summary>
    public static TokenGrant Grant(this HttpContext context) =>
        context.Features.Get<TokenGrant>() ?? throw new InvalidOperationException("The endpoint is not behind RequireToken.");

    private static async Task<IResult?> Refusal(TokenGrant grant, HttpContext http)
    {
        if (grant.IsAdmin) return null;
        if (http.GetRouteValue("accountId") is string accountId && !grant.Covers(accountId)) return Problems.NoAccount(accountId);
        if (http.GetRouteValue("incidentId") is string incidentId
            && !await grant.CoversIncidentAsync(http.RequestServices.GetRequiredService<IGrainFactory>(), incidentId))
            return Problems.NoIncident(incidentId);
        return http.GetEndpoint()?.Metadata.GetMetadata<AdminOnlyMarker>() is not null
            ? Problems.Forbidden("This endpoint needs an admin token; an account token reads and acts on its own account only.")
            : null;
    }
}
