using System.Security.Cryptography;
using System.Text;

namespace OrleansOps.Server.Apis;

/// <summary>The admin bearer token, compared in constant time.</summary>
public sealed class AdminToken(string token)
{
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public string Value { get; } = token;

    public bool Matches(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var offered = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(offered, _expected);
    }
}

public static class AdminAuthExtensions
{
    /// <summary>Every endpoint of the group answers 401 (problem details) without the admin bearer token.</summary>
    public static RouteGroupBuilder RequireAdminToken(this RouteGroupBuilder group) =>
        group.DocumentBearer(ApiDocs.AdminScheme).RequireRateLimiting(RateLimits.Api)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).AddEndpointFilter(async (context, next) =>
        {
            var token = context.HttpContext.RequestServices.GetRequiredService<AdminToken>();
            if (token.Matches(context.HttpContext.Request)) return await next(context);
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("This endpoint needs the admin token: Authorization: Bearer <OrleansOps:AdminToken>.");
        });
}
