using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using OrleansOps.Integrations.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class WebhookTests
{
    private static readonly string Secret = "whsec-" + Guid.NewGuid().ToString("N");

    private static Dictionary<string, string?> Settings() => new() { ["HOOK_SECRET"] = Secret };

    [Fact]
    public async Task Webhook_body_is_signed_over_timestamp_dot_body_and_a_receiver_can_verify_it()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath("/orleansops").UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        using var harness = new NotificationHarness(Settings());
        var notification = Notifications.For(ChannelKind.Webhook, stub.Url + "/orleansops") with { SecretRef = "HOOK_SECRET", Text = "naïve <b>&</b>" };

        var report = await harness.SendAsync(notification);

        Assert.True(report.Delivered, report.Error);
        var request = stub.SingleRequest();
        Assert.Equal("application/json; charset=utf-8", request.Header("Content-Type"));
        Assert.Equal(notification.Key, request.Header(WebhookSignature.IdempotencyKeyHeader));
        var timestamp = request.Header(WebhookSignature.TimestampHeader);
        var signature = request.Header(WebhookSignature.SignatureHeader);
        var body = request.BodyAsBytes!;

        // As a receiver would: HMAC-SHA256 with the shared secret over "{timestamp}.{raw body}", lower-case hex.
        var signed = Encoding.ASCII.GetBytes(timestamp + ".").Concat(body).ToArray();
        var expected = "sha256=" + Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), signed)).ToLowerInvariant();
        Assert.Equal(expected, signature);
        var sentAt = DateTimeOffset.FromUnixTimeSeconds(long.Parse(timestamp, CultureInfo.InvariantCulture));
        Assert.True(WebhookSignature.Verify(Secret, timestamp, body, signature, sentAt));

        // A tampered body, a wrong secret or a replay outside the window is rejected.
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("sev1", "sev4", StringComparison.Ordinal));
        Assert.False(WebhookSignature.Verify(Secret, timestamp, tampered, signature, sentAt));
        Assert.False(WebhookSignature.Verify("another-secret", timestamp, body, signature, sentAt));
        Assert.False(WebhookSignature.Verify(Secret, timestamp, body, signature, sentAt.AddMinutes(6)));

        var json = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(
            ["key", "incidentId", "accountId", "title", "text", "severity", "status", "service", "incidentUrl", "createdAt"],
            json.Select(p => p.Key));
        Assert.Equal("inc-7f3a:step-1:user-ana", (string?)json["key"]);
        Assert.Equal("inc-7f3a", (string?)json["incidentId"]);
        Assert.Equal("acme", (string?)json["accountId"]);
        Assert.Equal("ehr-api down", (string?)json["title"]);
        Assert.Equal("naïve <b>&</b>", (string?)json["text"]);
        Assert.Equal("sev1", (string?)json["severity"]);
        Assert.Equal("triggered", (string?)json["status"]);
        Assert.Equal("ehr-api", (string?)json["service"]);
        Assert.Equal("https://ops.example.com/incidents/inc-7f3a", (string?)json["incidentUrl"]);
        Assert.Equal(Notifications.CreatedAt, DateTimeOffset.Parse((string)json["createdAt"]!, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Webhook_without_secretRef_is_refused_before_any_request()
    {
        using var stub = new HttpStub();
        using var harness = new NotificationHarness(Settings());

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Webhook, stub.Url + "/orleansops"));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("webhook needs secretRef", report.Error);
        Assert.Empty(stub.Server.LogEntries);
    }

    [Fact]
    public async Task Webhook_whose_secretRef_is_unset_names_the_key_and_sends_nothing()
    {
        using var stub = new HttpStub();
        using var harness = new NotificationHarness(Settings());

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Webhook, stub.Url + "/orleansops") with { SecretRef = "OTHER_SECRET" });

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("secretRef 'OTHER_SECRET' is not set in configuration", report.Error);
        Assert.Empty(stub.Server.LogEntries);
    }

    [Fact]
    public void Signature_helper_matches_an_independent_hmac_and_rejects_malformed_headers()
    {
        const string body = """{"key":"k"}""";
        var now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
        var timestamp = now.ToUnixTimeSeconds();
        var signature = WebhookSignature.Compute("s3cret", timestamp, body);

        var independent = Convert.ToHexString(HMACSHA256.HashData("s3cret"u8, Encoding.UTF8.GetBytes($"{timestamp}.{body}"))).ToLowerInvariant();
        Assert.Equal("sha256=" + independent, signature);
        Assert.True(WebhookSignature.Verify("s3cret", timestamp.ToString(CultureInfo.InvariantCulture), body, signature, now.AddMinutes(4)));
        Assert.False(WebhookSignature.Verify("s3cret", timestamp.ToString(CultureInfo.InvariantCulture), body, signature.ToUpperInvariant(), now));
        Assert.False(WebhookSignature.Verify("s3cret", timestamp.ToString(CultureInfo.InvariantCulture), body, independent, now));
        Assert.False(WebhookSignature.Verify("s3cret", timestamp.ToString(CultureInfo.InvariantCulture), body, "sha256=" + new string('z', 64), now));
        Assert.False(WebhookSignature.Verify("s3cret", timestamp.ToString(CultureInfo.InvariantCulture), body, null, now));
        Assert.False(WebhookSignature.Verify("s3cret", "yesterday", body, signature, now));
        Assert.False(WebhookSignature.Verify("s3cret", null, body, signature, now));
        Assert.False(WebhookSignature.Verify("s3cret", "99999999999999999999", body, signature, now));
        Assert.False(WebhookSignature.Verify("s3cret", timestamp.ToString(CultureInfo.InvariantCulture), body, signature, now.AddMinutes(-6)));
    }
}
