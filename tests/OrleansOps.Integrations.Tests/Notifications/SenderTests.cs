using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrleansOps.Abstractions;
using OrleansOps.Integrations.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class SenderTests
{
    [Fact]
    public async Task Log_channel_always_delivers_and_writes_the_notification_to_the_log()
    {
        var time = new FakeTimeProvider(Notifications.CreatedAt.AddMinutes(3));
        using var harness = new NotificationHarness(time: time);

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Log));

        Assert.True(report.Delivered);
        Assert.Equal("inc-7f3a:step-1:user-ana", report.Key);
        var attempt = Assert.Single(report.Attempts);
        Assert.Equal(new DeliveryAttempt { Number = 1, At = time.GetUtcNow(), Succeeded = true, Outcome = "delivered" }, attempt);
        Assert.Contains(harness.Logs.Lines,
            line => line.Contains("LogChannel", StringComparison.Ordinal) && line.Contains("[SEV1] ehr-api down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Log_channel_writes_an_account_notice_without_an_incident_or_a_missing_link()
    {
        using var harness = new NotificationHarness();
        var notice = Notifications.For(ChannelKind.Log) with { Key = "sla:acme:avail:breached", IncidentId = "", IncidentUrl = null, Title = "Availability breached" };
        var page = Notifications.For(ChannelKind.Log) with { Key = "inc-7f3a:step-2:user-ana", IncidentUrl = null };

        Assert.True((await harness.SendAsync(notice)).Delivered);
        Assert.True((await harness.SendAsync(page)).Delivered);

        var noticeLine = Assert.Single(harness.Logs.Lines, line => line.Contains("LogChannel", StringComparison.Ordinal) && line.Contains("sla:acme:avail:breached", StringComparison.Ordinal));
        Assert.Contains("Availability breached (account acme, service ehr-api)", noticeLine);
        Assert.DoesNotContain("incident", noticeLine.Replace("LogChannel", ""), StringComparison.OrdinalIgnoreCase);
        var pageLine = Assert.Single(harness.Logs.Lines, line => line.Contains("LogChannel", StringComparison.Ordinal) && line.Contains("inc-7f3a:step-2:user-ana", StringComparison.Ordinal));
        Assert.Contains("(incident inc-7f3a, account acme", pageLine);
        Assert.DoesNotContain("(null)", noticeLine + pageLine);
    }

    [Fact]
    public void Settings_are_bound_from_the_OrleansOps_Notifications_section()
    {
        using var harness = new NotificationHarness(new Dictionary<string, string?>
        {
            ["OrleansOps:Notifications:MaxAttempts"] = "6",
            ["OrleansOps:Notifications:MaxRetryAfter"] = "00:02:00",
            ["OrleansOps:Notifications:MaxRateLimitWait"] = "00:00:45",
            ["OrleansOps:Notifications:Smtp:Host"] = "smtp.example.com",
            ["OrleansOps:Notifications:Smtp:Port"] = "2525",
            ["OrleansOps:Notifications:Smtp:From"] = "ops@example.com",
            ["OrleansOps:Notifications:Smtp:Username"] = "ops",
            ["OrleansOps:Notifications:Smtp:PasswordRef"] = "SMTP_PASSWORD",
            ["OrleansOps:Notifications:Smtp:StartTls"] = "required",
            ["OrleansOps:Notifications:Twilio:AccountSid"] = "AC1",
            ["OrleansOps:Notifications:Twilio:AuthTokenRef"] = "TWILIO_TOKEN",
            ["OrleansOps:Notifications:Twilio:From"] = "+15550001111",
            ["OrleansOps:Notifications:Twilio:BaseUrl"] = "http://127.0.0.1:9/2010-04-01",
        });

        var options = harness.Services.GetRequiredService<IOptions<NotificationOptions>>().Value;

        Assert.Equal(6, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.BaseDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxRetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(45), options.MaxRateLimitWait);
        Assert.Equal(("smtp.example.com", 2525, "ops@example.com", "ops", "SMTP_PASSWORD", SmtpStartTls.Required),
            (options.Smtp.Host, options.Smtp.Port, options.Smtp.From, options.Smtp.Username, options.Smtp.PasswordRef, options.Smtp.StartTls));
        Assert.Equal(("AC1", "TWILIO_TOKEN", "+15550001111", "http://127.0.0.1:9/2010-04-01"),
            (options.Twilio.AccountSid, options.Twilio.AuthTokenRef, options.Twilio.From, options.Twilio.BaseUrl));
    }

    [Fact]
    public void Defaults_match_the_documented_policy()
    {
        var options = new NotificationOptions();

        Assert.Equal(4, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(2), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(60), options.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), options.MaxRetryAfter);
        Assert.Equal(SmtpStartTls.Auto, options.Smtp.StartTls);
        Assert.Equal("https://api.twilio.com/2010-04-01", options.Twilio.BaseUrl);
        Assert.Empty(options.Problems());
    }

    [Fact]
    public void Invalid_settings_are_refused_when_the_sender_is_built()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OrleansOps:Notifications:MaxAttempts"] = "0",
            ["OrleansOps:Notifications:Twilio:BaseUrl"] = "api.twilio.com",
        }).Build();
        using var services = new ServiceCollection().AddNotificationSender(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<INotificationSender>());

        Assert.Equal(
            ["OrleansOps:Notifications: MaxAttempts must be between 1 and 100", "OrleansOps:Notifications: Twilio:BaseUrl must be an absolute http(s) URL"],
            error.Failures);
    }

    [Fact]
    public async Task Secrets_and_ref_urls_appear_in_no_outcome_error_or_log_line()
    {
        var slackPath = "/services/T0/B0/" + Guid.NewGuid().ToString("N");
        var hookSecret = "whsec-" + Guid.NewGuid().ToString("N");
        var twilioToken = "twilio-" + Guid.NewGuid().ToString("N");
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(500).WithBody($"echo {slackPath} {hookSecret}"));
        using var harness = new NotificationHarness(new Dictionary<string, string?>
        {
            ["SLACK_URL"] = stub.Url + slackPath,
            ["HOOK_URL"] = stub.Url + "/hook?token=hookUrlSecret",
            ["HOOK_SECRET"] = hookSecret,
            ["TWILIO_TOKEN"] = twilioToken,
            ["OrleansOps:Notifications:Twilio:AccountSid"] = "AC1",
            ["OrleansOps:Notifications:Twilio:AuthTokenRef"] = "TWILIO_TOKEN",
            ["OrleansOps:Notifications:Twilio:From"] = "+15550001111",
            ["OrleansOps:Notifications:Twilio:BaseUrl"] = stub.Url,
        });

        var reports = new List<DeliveryReport>
        {
            await harness.SendAsync(Notifications.For(ChannelKind.Slack) with { DestinationRef = "SLACK_URL" }),
            await harness.SendAsync(Notifications.For(ChannelKind.Teams) with { DestinationRef = "SLACK_URL" }),
            await harness.SendAsync(Notifications.For(ChannelKind.Webhook) with { DestinationRef = "HOOK_URL", SecretRef = "HOOK_SECRET" }),
            await harness.SendAsync(Notifications.For(ChannelKind.Sms, "+4915112345678")),
            await harness.SendAsync(Notifications.For(ChannelKind.Voice, "+4915112345678")),
            await harness.SendAsync(Notifications.For(ChannelKind.Slack) with { DestinationRef = $"http://127.0.0.1:{FreePorts.Next()}{slackPath}" }),
        };
        // And through a network failure, whose exception messages carry host and port.
        using var unreachable = new NotificationHarness(new Dictionary<string, string?> { ["SLACK_URL"] = $"http://127.0.0.1:{FreePorts.Next()}{slackPath}" });
        reports.Add(await unreachable.SendAsync(Notifications.For(ChannelKind.Slack) with { DestinationRef = "SLACK_URL" }));

        Assert.All(reports, report => Assert.False(report.Delivered));
        // The URL pasted where a key name belongs is refused without being repeated.
        Assert.StartsWith("destinationRef is not a configuration key name", reports[5].Error, StringComparison.Ordinal);
        var printed = reports.SelectMany(r => r.Attempts.Select(a => a.Outcome).Append(r.Error ?? ""))
            .Concat(harness.Logs.Lines).Concat(unreachable.Logs.Lines).ToList();
        Assert.NotEmpty(harness.Logs.Lines);
        foreach (var secret in new[] { "SECRET", "hookUrlSecret", hookSecret, twilioToken, "127.0.0.1" })
            Assert.DoesNotContain(printed, line => line.Contains(secret, StringComparison.Ordinal));
    }
}
