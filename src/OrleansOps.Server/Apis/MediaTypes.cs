using Microsoft.Net.Http.Headers;

namespace OrleansOps.Server.Apis;

/// <summary>
/// The bodies the admin API reads, by Content-Type. A body labelled as something else is refused with 415 rather than
/// guessed at. A body without a Content-Type is read as JSON. Ingest and ITSM webhooks do not check: senders label
/// their JSON loosely, and refusing an alert over a header would lose it.
/// </summary>
public static class MediaTypes
{
    public const string Json = "application/json";
    public const string Yaml = "application/yaml";

    /// <summary><c>application/json</c>, <c>text/json</c> or any <c>+json</c> type.</summary>
    public static bool IsJson(string? contentType) => Is(contentType, "json");

    /// <summary><c>application/yaml</c>, <c>application/x-yaml</c>, <c>text/yaml</c>, <c>text/x-yaml</c> or any <c>+yaml</c> type.</summary>
    public static bool IsYaml(string? contentType) => Is(contentType, "yaml");

    private static bool Is(string? contentType, string format)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.SubType.Value is not { } subtype) return false;
        var type = media.Type.Value;
        return subtype.Equals(format, StringComparison.OrdinalIgnoreCase) && type is "application" or "text"
            || subtype.Equals("x-" + format, StringComparison.OrdinalIgnoreCase) && type is "application" or "text"
            || subtype.EndsWith("+" + format, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Documents that the group's endpoints read a JSON body of the sender's own format; the type is not checked (see the class).</summary>
    public static RouteGroupBuilder DocumentJsonBody(this RouteGroupBuilder group) =>
        group.WithMetadata(new RequestBodyDoc(typeof(System.Text.Json.JsonElement), Optional: false, [Json]));

    /// <summary>Reads a JSON <typeparamref name="TBody"/>; a body labelled as anything else gets 415 and the handler never runs.</summary>
    public static RouteHandlerBuilder ReadsJson<TBody>(this RouteHandlerBuilder endpoint, bool optional = false) =>
        endpoint.Reads(IsJson, new RequestBodyDoc(typeof(TBody), optional, [Json]));

    /// <summary>Reads a <typeparamref name="TBody"/> as JSON or YAML; a body labelled as anything else gets 415.</summary>
    public static RouteHandlerBuilder ReadsJsonOrYaml<TBody>(this RouteHandlerBuilder endpoint) =>
        endpoint.Reads(type => IsJson(type) || IsYaml(type), new RequestBodyDoc(typeof(TBody), Optional: false, [Json, Yaml]));

    // Not the framework's Accepts(): its routing answers 415 without saying what the endpoint reads.
    private static RouteHandlerBuilder Reads(this RouteHandlerBuilder endpoint, Func<string, bool> accepts, RequestBodyDoc body)
    {
        var accepted = string.Join(", ", body.ContentTypes);
        return endpoint.WithMetadata(body).ProducesProblem(StatusCodes.Status415UnsupportedMediaType).AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
            if (!hasBody || string.IsNullOrEmpty(request.ContentType) || accepts(request.ContentType)) return await next(context);
            context.HttpContext.Response.Headers.Accept = accepted;
            return Problems.UnsupportedMediaType(request.ContentType, accepted);
        });
    }
}

/// <summary>The request body an endpoint reads, for the OpenAPI document only (the endpoint reads its body itself).</summary>
public sealed record RequestBodyDoc(Type Type, bool Optional, IReadOnlyList<string> ContentTypes);
