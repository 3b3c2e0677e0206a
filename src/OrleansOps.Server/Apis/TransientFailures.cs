using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;
using Orleans.Storage;

namespace OrleansOps.Server.Apis;

/// <summary>
/// A silo that just died, a cluster still rebalancing or a database that is away: the request may well succeed
/// if sent again, so the answer is 503 with Retry-After rather than a 500. Part of it may already be stored;
/// sending it again is safe, because alerts apply as upserts. Alertmanager and PagerDuty-style senders retry on 5xx.
/// </summary>
public sealed class TransientFailures(IProblemDetailsService problems, ILogger<TransientFailures> logger) : IExceptionHandler
{
    private const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsTransient(exception) || context.Response.HasStarted) return false;
        // The route pattern, never the path: ingest paths can carry an integration key (/i/{key}/...).
        var route = (context.Features.Get<IExceptionHandlerFeature>()?.Endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
        logger.LogWarning("{Method} {Route} failed for a transient reason, answered 503: {Reason}",
            context.Request.Method, route, exception.GetBaseException().Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Title = "Temporarily unavailable",
                Detail = "The cluster could not complete the request (a silo or the database is unavailable). Send it again shortly; a repeat is safe.",
                Status = StatusCodes.Status503ServiceUnavailable,
            },
        });
    }

    private static bool IsTransient(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or InconsistentStateException or DbException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsTransient),
        OrleansException { InnerException: { } inner } => IsTransient(inner),
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };
}
