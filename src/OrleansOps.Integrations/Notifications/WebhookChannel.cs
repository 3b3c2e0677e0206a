using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// The JSON body of OrleansOps' generic webhook (<c>Content-Type: application/json; charset=utf-8</c>), signed as
/// <see cref="WebhookSignature"/> describes. Fields:
/// <list type="table">
/// <item><term><c>key</c></term><description>the notification's idempotency key (also in <c>X-OrleansOps-Idempotency-Key</c>):
/// the same key is the same notification, so a receiver drops repeats.</description></item>
/// <item><term><c>incidentId</c>, <c>accountId</c></term><description>which incident of which account.</description></item>
/// <item><term><c>title</c>, <c>text</c></term><description>what happened, as written by the escalation step or rule.</description></item>
/// <item><term><c>severity</c></term><description><c>sev1</c> … <c>sev4</c>.</description></item>
/// <item><term><c>status</c></term><description><c>triggered</c>, <c>acknowledged</c> or <c>resolved</c>.</description></item>
/// <item><term><c>service</c></term><description>the affected service.</description></item>
/// <item><term><c>incidentUrl</c></term><description>link to the incident, or null.</description></item>
/// <item><term><c>createdAt</c></term><description>when the step or rule fired, ISO 8601 with offset.</description></item>
/// </list>
/// </summary>
public sealed record WebhookNotificationBody
{
    [JsonPropertyName("key")] public required string Key { get; init; }
    [JsonPropertyName("incidentId")] public required string IncidentId { get; init; }
    [JsonPropertyName("accountId")] public required string AccountId { get; init; }
    [JsonPropertyName("title")] public required string Title { get; init; }
    [JsonPropertyName("text")] public required string Text { get; init; }
    [JsonPropertyName("severity")] public required string Severity { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("service")] public required string Service { get; init; }
    [JsonPropertyName("incidentUrl")] public string? IncidentUrl { get; init; }
    [JsonPropertyName("createdAt")] public required DateTimeOffset CreatedAt { get; init; }

    public static WebhookNotificationBody From(Notification n) => new()
    {
        Key = n.Key,
        IncidentId = n.IncidentId,
        AccountId = n.AccountId,
        Title = n.Title,
        Text = n.Text,
        Severity = n.Severity.ToWire(),
        Status = n.Status.ToString().ToLowerInvariant(),
        Service = n.Service,
        IncidentUrl = n.IncidentUrl,
        CreatedAt = n.CreatedAt,
    };
}

/// <summary>Generic webhook: the JSON body above, signed with the secret the notification's SecretRef names.</summary>
internal sealed class WebhookChannel(IHttpClientFactory clients, TimeProvider time) : INotificationChannel
{
    public ChannelKind Kind => ChannelKind.Webhook;
    public DestinationNeeds Needs => DestinationNeeds.Address | DestinationNeeds.Secret;

    public string? Check(Notification notification, ResolvedDestination destination) =>
        HttpDelivery.IsHttpUrl(destination.Address, out _) ? null : "webhook destination is not an absolute http(s) URL";

    public async Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken)
    {
        // Signed over these exact bytes, which are also what goes on the wire: re-serialising could change them.
        var body = JsonSerializer.SerializeToUtf8Bytes(WebhookNotificationBody.From(notification));
        // Each attempt carries its own timestamp, so a retry after minutes of back-off still falls inside the receiver's window.
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, destination.RequireAddress()) { Content = content };
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(destination.RequireSecret(), timestamp, body));
        request.Headers.Add(WebhookSignature.IdempotencyKeyHeader, notification.Key);
        return await HttpDelivery.SendAsync(clients.CreateClient(NotificationHttpClients.Webhook), request, time, describeError: null, cancellationToken)
            .ConfigureAwait(false);
    }
}
