using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>Reads a request body within a size limit and parses it as JSON, answering problems for both.</summary>
public static class RequestBodies
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 32 };

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadJsonAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var (bytes, problem) = await ReadAsync(request, limit, cancellationToken);
        if (problem is not null) return (null, problem);
        if (bytes!.Length == 0) return (null, Problems.BadRequest("Empty body", "The request has no body; send a JSON document."));
        return ParseJson(bytes);
    }

    /// <summary>A body that may be left out: null (and no problem) when it is empty, else parsed as <see cref="ParseJson"/> does.</summary>
    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadOptionalJsonAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var (bytes, problem) = await ReadAsync(request, limit, cancellationToken);
        if (problem is not null) return (null, problem);
        return bytes!.Length == 0 ? (null, null) : ParseJson(bytes);
    }

    /// <summary>
    /// Parses JSON of at most 32 levels. The whole body is checked as UTF-8 first: the parser reads strings lazily, and
    /// a bad byte inside one would only fail when a handler reads it, as a 500 instead of this 400.
    /// </summary>
    public static (JsonDocument? Document, ProblemHttpResult? Problem) ParseJson(byte[] bytes)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            return (null, Problems.BadRequest("Malformed JSON", "The body is not valid UTF-8; JSON is sent as UTF-8 text."));
        try
        {
            return (JsonDocument.Parse(bytes, Options), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest("Malformed JSON", $"The body is not valid JSON: {e.Message}"));
        }
    }

    public static async Task<(byte[]? Bytes, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) return (null, Problems.TooLarge(limit));
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = limit + 1;
        try
        {
            // A declared length is read straight into a buffer of that size: an ingest batch is tens of kilobytes, and
            // growing a stream for it would allocate several times as much.
            return request.ContentLength is { } length ? await ReadExactlyAsync(request.Body, (int)length, cancellationToken) : await ReadToEndAsync(request.Body, limit, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.TooLarge(limit));
        }
    }

    private static async Task<(byte[]? Bytes, ProblemHttpResult? Problem)> ReadExactlyAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var bytes = new byte[length];
        var read = await body.ReadAtLeastAsync(bytes, length, throwOnEndOfStream: false, cancellationToken);
        return read < length
            ? (null, Problems.BadRequest("Incomplete body", $"The body ended after {read} of the {length} bytes its Content-Length announced."))
            : (bytes, null);
    }

    private static async Task<(byte[]? Bytes, ProblemHttpResult? Problem)> ReadToEndAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) return (null, Problems.TooLarge(limit));
            buffer.Write(chunk, 0, read);
        }
        return (buffer.ToArray(), null);
    }

    /// <summary>A string property that may be absent or null; a wrong type or a value over <paramref name="maxLength"/> adds an error.</summary>
    public static string? OptionalString(JsonElement body, string name, int maxLength, List<string> errors) =>
        JsonText.OptionalString(body, name, maxLength, errors);
}
