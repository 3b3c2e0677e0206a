using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class DestinationTests
{
    [Fact]
    public async Task The_destination_can_come_from_the_configuration_key_DestinationRef_names()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath("/services/T9/B9/secret-path").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        using var harness = new NotificationHarness(new Dictionary<string, string?> { ["SLACK_ONCALL_URL"] = $"{stub.Url}/services/T9/B9/secret-path\n" });

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack) with { DestinationRef = "SLACK_ONCALL_URL" });

        Assert.True(report.Delivered, report.Error);
        Assert.Equal("/services/T9/B9/secret-path", stub.SingleRequest().Path);
    }

    [Theory]
    [InlineData(ChannelKind.Slack)]
    [InlineData(ChannelKind.Teams)]
    [InlineData(ChannelKind.Webhook)]
    [InlineData(ChannelKind.Email)]
    [InlineData(ChannelKind.Sms)]
    [InlineData(ChannelKind.Voice)]
    public async Task A_missing_DestinationRef_fails_naming_the_key_with_no_request(ChannelKind channel)
    {
        using var stub = new HttpStub();
        using var harness = new NotificationHarness(new Dictionary<string, string?>
        {
            ["OTHER_KEY"] = stub.Url,
            ["HOOK_SECRET"] = "s",
            ["OrleansOps:Notifications:Twilio:BaseUrl"] = stub.Url,
        });

        var report = await harness.SendAsync(Notifications.For(channel) with { DestinationRef = "ONCALL_DESTINATION", SecretRef = "HOOK_SECRET" });

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("destinationRef 'ONCALL_DESTINATION' is not set in configuration", report.Error);
        Assert.Empty(stub.Requests);
        Assert.Contains(harness.Logs.Lines, line => line.Contains("ONCALL_DESTINATION", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_notification_with_neither_destination_nor_ref_fails_at_once()
    {
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("slack notification has neither destination nor destinationRef", report.Error);
    }

    [Theory]
    [InlineData("hooks.slack.com/services/T/B/x")]
    [InlineData("ftp://hooks.example.com/x")]
    [InlineData("not a url")]
    public async Task A_webhook_destination_that_is_not_an_http_url_fails_without_repeating_it(string destination)
    {
        using var harness = new NotificationHarness(new Dictionary<string, string?> { ["SLACK_URL"] = destination });

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack) with { DestinationRef = "SLACK_URL" });

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("slack destination is not an absolute http(s) URL", report.Error);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_not_retried()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath("/old").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(308).WithHeader("Location", stub.Url + "/new"));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/old"));

        Assert.False(report.Delivered);
        Assert.Equal("HTTP 308", Assert.Single(report.Attempts).Outcome);
        Assert.Equal("/old", stub.SingleRequest().Path);
    }
}
