using Microsoft.AspNetCore.Http.HttpResults;
using OrleansOps.Integrations.Inbound;

namespace OrleansOps.Server.Apis;

/// <summary>RFC 7807 answers that say what is wrong, in one place so every endpoint words them alike.</summary>
public static class Problems
{
    public static ProblemHttpResult Invalid(string title, IReadOnlyList<FieldError> errors) => TypedResults.Problem(
        title: title,
        detail: Summarize(errors.Select(e => $"{e.Field}: {e.Message}").ToList()),
        statusCode: StatusCodes.Status400BadRequest,
        extensions: new Dictionary<string, object?> { ["errors"] = errors.Select(e => new { field = e.Field, message = e.Message }).ToList() });

    public static ProblemHttpResult Invalid(string title, IReadOnlyList<string> errors) => TypedResults.Problem(
        title: title,
        detail: Summarize(errors),
        statusCode: StatusCodes.Status400BadRequest,
        extensions: new Dictionary<string, object?> { ["errors"] = errors });

    /// <summary>A query string that cannot be served: each error names its parameter (<c>limit: …</c>).</summary>
    public static ProblemHttpResult InvalidQuery(IReadOnlyList<string> errors) => Invalid("The query is invalid", errors);

    public static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(title: "Unauthorized", detail: detail, statusCode: StatusCodes.Status401Unauthorized);

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(title: "Forbidden", detail: detail, statusCode: StatusCodes.Status403Forbidden);

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult InvalidAccountId(string accountId) => BadRequest(
        "Invalid account id", $"'{accountId}' is not an account id: a lower-case slug that starts with a letter ([a-z][a-z0-9-]{{0,62}}).");

    /// <summary>No such account, or none the caller's token reaches: the two answer alike.</summary>
    public static ProblemHttpResult NoAccount(string accountId) => NotFound(Missing.Account(accountId));

    /// <summary>No such incident, or none the caller's token reaches: the two answer alike.</summary>
    public static ProblemHttpResult NoIncident(string incidentId) => NotFound(Missing.Incident(incidentId));

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(title: "Conflict", detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static ProblemHttpResult PreconditionFailed(string detail) =>
        TypedResults.Problem(title: "Precondition failed", detail: detail, statusCode: StatusCodes.Status412PreconditionFailed);

    public static ProblemHttpResult UnsupportedMediaType(string? contentType, string accepted) => TypedResults.Problem(
        title: "Unsupported media type",
        detail: $"This endpoint reads {accepted}, not '{contentType}'. Set Content-Type to match the body.",
        statusCode: StatusCodes.Status415UnsupportedMediaType);

    /// <summary>200 with what a shared read found, or 404 saying what is missing.</summary>
    public static Results<Ok<T>, ProblemHttpResult> OkOrNotFound<T>(Lookup<T> lookup) where T : class =>
        lookup.Value is { } value ? TypedResults.Ok(value) : NotFound(lookup.Missing!);

    public static ProblemHttpResult TooManyRequests(string detail) =>
        TypedResults.Problem(title: "Too many requests", detail: detail, statusCode: StatusCodes.Status429TooManyRequests);

    public static ProblemHttpResult TooLarge(long limit) => TypedResults.Problem(
        title: "Request body too large",
        detail: $"The body is larger than {limit} bytes; send smaller batches.",
        statusCode: StatusCodes.Status413PayloadTooLarge);

    private static string Summarize(IReadOnlyList<string> errors) =>
        errors.Count <= 5 ? string.Join("; ", errors) : string.Join("; ", errors.Take(5)) + $"; and {errors.Count - 5} more";
}
