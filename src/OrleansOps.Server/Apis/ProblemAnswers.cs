using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Every error the server answers is an RFC 7807 problem (<c>application/problem+json</c>), also those no endpoint
/// writes itself: an unknown route (404), a method the route does not take (405), a query value that does not bind
/// (400), and failures (503 when a retry may help, 500 otherwise). They are written whatever the request's Accept
/// header says, so a client always gets one shape of error.
/// </summary>
public static class ProblemAnswers
{
    public static IServiceCollection AddProblemAnswers(this IServiceCollection services)
    {
        services.AddProblemDetails();
        // In this order: a retry may help (503), the request is wrong (4xx), anything else (500).
        services.AddExceptionHandler<TransientFailures>();
        services.AddExceptionHandler<RequestFailures>();
        services.AddExceptionHandler<UnexpectedFailures>();
        // A query or route value that does not bind throws, so RequestFailures can say which one (the default is an empty 400).
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseProblemAnswers(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Answers with a status and no body of their own (404 and 405 from routing, foremost) get a problem body.
        app.UseStatusCodePages(context => StatusOnly(context.HttpContext).ExecuteAsync(context.HttpContext));
        return app;
    }

    private static ProblemHttpResult StatusOnly(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var request = $"{context.Request.Method} {Shown(context.Request.Path)}";
        var detail = status switch
        {
            StatusCodes.Status404NotFound =>
                $"No endpoint answers {request}. Every route is in {ApiDocs.DocumentPath}, browsable at {ApiDocs.UiPath}.",
            StatusCodes.Status405MethodNotAllowed => context.Response.Headers.Allow.Count > 0
                ? $"{request} is not allowed; this route takes {context.Response.Headers.Allow}."
                : $"{request} is not allowed on this route.",
            _ => null,
        };
        return TypedResults.Problem(title: ReasonPhrases.GetReasonPhrase(status), detail: detail, statusCode: status);
    }

    /// <summary>The path as an answer may repeat it: a path-based integration key (/i/{key}/…) is a secret.</summary>
    internal static string Shown(PathString path)
    {
        if (!path.StartsWithSegments("/i", out var afterPrefix)) return path.Value ?? "/";
        var rest = afterPrefix.Value ?? "";
        var route = rest.IndexOf('/', 1);
        return "/i/{key}" + (route > 0 ? rest[route..] : "");
    }

    /// <summary>The route pattern, never the path: ingest paths can carry an integration key.</summary>
    internal static string RouteOf(HttpContext context) =>
        (context.Features.Get<IExceptionHandlerFeature>()?.Endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
}

/// <summary>A request the framework could not read (a query value that is not a number, a body cut short): 4xx, with the reason.</summary>
public sealed class RequestFailures : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || context.Response.HasStarted) return false;
        await TypedResults.Problem(title: ReasonPhrases.GetReasonPhrase(bad.StatusCode), detail: bad.Message, statusCode: bad.StatusCode)
            .ExecuteAsync(context);
        return true;
    }
}

/// <summary>Anything else is a defect: logged with its stack, answered 500 with the trace id to find it by, and no internals.</summary>
public sealed class UnexpectedFailures(ILogger<UnexpectedFailures> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted) return false;
        logger.LogError(exception, "{Method} {Route} failed, answered 500", context.Request.Method, ProblemAnswers.RouteOf(context));
        await TypedResults.Problem(
                title: "Internal server error",
                detail: "The server failed to handle the request; the failure is logged under this answer's traceId. Sending it again is not likely to help.",
                statusCode: StatusCodes.Status500InternalServerError,
                // Set here as well: the framework adds it only when the client's Accept header lets it write the problem.
                extensions: new Dictionary<string, object?> { ["traceId"] = Activity.Current?.Id ?? context.TraceIdentifier })
            .ExecuteAsync(context);
        return true;
    }
}
