using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;
using Orleans.Storage;

namespace OrleansOps.Server.Apis;

/// <summary>
/// A silo that just died, a cluster still rebalancing, a database that is away or a journal that could not commit in
/// time: the request may well succeed
/// if sent again, so the answer is 503 with Retry-After rather than a 500. Part of it may already be stored;
/// sending it again is safe, because alerts apply as upserts. Alertmanager and PagerDuty-style senders retry on 5xx.
/// </summary>
public sealed class TransientFailures(ILogger<TransientFailures> logger) : IExceptionHandler
{
    private const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsTransient(exception) || context.Response.HasStarted) return false;
        logger.LogWarning("{Method} {Route} failed for a transient reason, answered 503: {Reason}",
            context.Request.Method, ProblemAnswers.RouteOf(context), exception.GetBaseException().Message);
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        // Written whatever the Accept header says (IProblemDetailsService alone would skip an Accept: text/html client).
        await TypedResults.Problem(
                title: "Temporarily unavailable",
                detail: "The cluster could not complete the request (a silo or the database is unavailable). Send it again shortly; a repeat is safe.",
                statusCode: StatusCodes.Status503ServiceUnavailable)
            .ExecuteAsync(context);
        return true;
    }

    private static bool IsTransient(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or InconsistentStateException or DbException
            or JournalUnavailableException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsTransient),
        OrleansException { InnerException: { } inner } => IsTransient(inner),
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };
}
