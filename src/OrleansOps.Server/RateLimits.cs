using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using OrleansOps.Server.Apis;

namespace OrleansOps.Server;

/// <summary>The <c>OrleansOps:RateLimits</c> configuration section: token buckets per presented credential.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "OrleansOps:RateLimits";

    /// <summary>Ingest requests per second per integration key (a batch of alerts is one request); 0 turns the limit off.</summary>
    public int IngestPerSecond { get; set; } = 1000;
    /// <summary>How many ingest requests a key may send at once above its rate (a sender catching up after a network blip).</summary>
    public int IngestBurst { get; set; } = 2000;
    /// <summary>Requests per second per token on the query and admin API; 0 turns the limit off.</summary>
    public int ApiPerSecond { get; set; } = 200;
    public int ApiBurst { get; set; } = 400;
}

/// <summary>
/// Per-credential rate limits (ASP.NET Core rate limiting): each integration key or token has its own bucket, so one
/// noisy sender slows only itself. Refusals are 429 problems with Retry-After; a refused batch is not applied, and the
/// sender retries it as it would after any 429.
/// </summary>
public static class RateLimits
{
    public const string Ingest = "ingest";
    public const string Api = "api";

    public static IServiceCollection AddCredentialRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        return services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Ingest, context => Bucket(context, options.IngestPerSecond, options.IngestBurst));
            limiter.AddPolicy(Api, context => Bucket(context, options.ApiPerSecond, options.ApiBurst));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.TooManyRequests($"This credential sent more requests than its limit allows; retry after {seconds} s (OrleansOps:RateLimits).")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
    }

    private static RateLimitPartition<string> Bucket(HttpContext context, int perSecond, int burst) =>
        perSecond <= 0
            ? RateLimitPartition.GetNoLimiter("unlimited")
            : RateLimitPartition.GetTokenBucketLimiter(Credential(context), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(burst, perSecond),
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });

    /// <summary>
    /// Whose bucket: the bearer credential, or the key in an /i/{key} path, hashed (the limiter's keys never hold a
    /// secret); without either (PagerDuty's key is in the body), the client's address.
    /// </summary>
    private static string Credential(HttpContext context)
    {
        var credential = Apis.Credentials.Bearer(context.Request)
                         ?? (context.Request.RouteValues.TryGetValue("key", out var key) ? key as string : null);
        return credential is { Length: > 0 }
            ? "credential:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential)))
            : "address:" + context.Connection.RemoteIpAddress;
    }
}
