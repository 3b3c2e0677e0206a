using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Itsm;

/// <summary>
/// One JSON request to an ITSM with basic auth, under a per-call timeout, its failure turned into an
/// <see cref="ItsmException"/>. Credentials are looked up per call (a rotated one is picked up without a restart).
/// </summary>
internal sealed class ItsmHttp(
    TicketSystem system, string baseUrl, string clientName, IHttpClientFactory clients, IConfiguration configuration,
    (string Field, string? Key) user, (string Field, string? Key) password, TimeProvider time, TimeSpan timeout)
{
    private const int ErrorDetailLength = 200;

    /// <summary>Sends the request and returns the answer's JSON, or null when it had no body (204).</summary>
    public async Task<JsonElement?> SendAsync(HttpMethod method, string path, string? query, JsonNode? body, CancellationToken ct)
    {
        var (userValue, passwordValue) = (Credential(user), Credential(password));
        var what = $"{system} {method.Method} {path}";
        using var request = new HttpRequestMessage(method, baseUrl.TrimEnd('/') + path + (query is null ? "" : "?" + query));
        request.Headers.Authorization = HttpDelivery.BasicAuth(userValue, passwordValue);
        request.Headers.Accept.ParseAdd("application/json");
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");

        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        string text;
        try
        {
            using var response = await clients.CreateClient(clientName).SendAsync(request, linked.Token).ConfigureAwait(false);
            text = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw Failure(what, response, text, userValue, passwordValue);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Our timeout, or the HttpClient's own when a host configured one.
            throw new ItsmException($"{what}: timed out after {ShortDuration.Format(timeout)}", retryable: true);
        }
        catch (HttpRequestException exception)
        {
            // Its message can carry host and port; the category tells a refused connection from a DNS failure. Not attached as inner.
            throw new ItsmException($"{what}: network error ({exception.HttpRequestError})", retryable: true);
        }

        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new ItsmException($"{what}: the answer is not JSON", retryable: false);
        }
    }

    /// <summary>A failure about an answer that arrived but does not hold what it should.</summary>
    public ItsmException Unreadable(HttpMethod method, string path, string missing) =>
        new($"{system} {method.Method} {path}: the answer has no {missing}", retryable: false);

    private ItsmException Failure(string what, HttpResponseMessage response, string body, string userValue, string passwordValue)
    {
        var code = (int)response.StatusCode;
        var detail = ErrorDetail(body);
        // Servers do not echo credentials, but an error detail is never allowed to carry one.
        if (detail is not null && (detail.Contains(userValue, StringComparison.Ordinal) || detail.Contains(passwordValue, StringComparison.Ordinal)))
            detail = null;
        var message = detail is null ? $"{what}: HTTP {code}" : $"{what}: HTTP {code} ({detail})";
        var retryable = code >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
        var retryAfter = retryable ? RetryAfter.From(response.Headers.RetryAfter, time.GetUtcNow()) : null;
        return new ItsmException(message, retryable, retryAfter, code);
    }

    /// <summary>ServiceNow's <c>{"error":{"message":…}}</c> or Jira's <c>{"errorMessages":[…],"errors":{field:…}}</c>, shortened to one line.</summary>
    private static string? ErrorDetail(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            string? detail = null;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object &&
                error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                detail = message.GetString();
            else if (root.TryGetProperty("errorMessages", out var messages) && messages.ValueKind == JsonValueKind.Array &&
                     messages.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.String } first)
                detail = first.GetString();
            else if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                detail = "fields: " + string.Join(", ", errors.EnumerateObject().Select(p => p.Name));
            return string.IsNullOrWhiteSpace(detail) ? null : NotificationText.Truncate(NotificationText.OneLine(detail), ErrorDetailLength);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string Credential((string Field, string? Key) reference)
    {
        if (string.IsNullOrWhiteSpace(reference.Key))
            throw new ItsmException($"{system}: {reference.Field} is not set", retryable: false);
        if (!DestinationResolver.LooksLikeKey(reference.Key))
            throw new ItsmException(
                $"{system}: {reference.Field} is not a configuration key name; it is not repeated here in case it is the secret itself", retryable: false);
        var value = configuration[reference.Key];
        if (string.IsNullOrWhiteSpace(value))
            throw new ItsmException($"{system}: {reference.Field} names '{reference.Key}', which is not set in configuration", retryable: false);
        return value.Trim();
    }
}
