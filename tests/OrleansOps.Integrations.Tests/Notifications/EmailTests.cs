using OrleansOps.Testing;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class EmailTests
{
    private static Dictionary<string, string?> Settings(SmtpTestServer smtp) => new()
    {
        ["OrleansOps:Notifications:Smtp:Host"] = "127.0.0.1",
        ["OrleansOps:Notifications:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["OrleansOps:Notifications:Smtp:From"] = "OrleansOps <ops@orleansops.test>",
        ["OrleansOps:Notifications:Smtp:StartTls"] = "auto",
    };

    [Fact]
    public async Task Email_reaches_a_real_smtp_server_with_subject_recipient_and_both_bodies()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        using var harness = new NotificationHarness(Settings(smtp));
        var notification = Notifications.For(ChannelKind.Email, "ana@hospital.test") with { Text = "queue <script>alert(1)</script> & growing" };

        var report = await harness.SendAsync(notification);

        Assert.True(report.Delivered, report.Error);
        Assert.Equal("delivered", Assert.Single(report.Attempts).Outcome);
        var message = Assert.Single(smtp.Messages);
        Assert.Equal("[SEV1] ehr-api down — ehr-api", message.Subject);
        Assert.Equal("ana@hospital.test", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("ops@orleansops.test", Assert.Single(message.From.Mailboxes).Address);
        Assert.Equal(notification.Key, message.Headers["X-OrleansOps-Idempotency-Key"]);
        Assert.Contains("Severity: SEV1", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("queue <script>alert(1)</script> & growing", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Open the incident: https://ops.example.com/incidents/inc-7f3a", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("queue &lt;script&gt;alert(1)&lt;/script&gt; &amp; growing", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", message.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://ops.example.com/incidents/inc-7f3a\">", message.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Smtp_4xx_is_retried_and_5xx_is_not()
    {
        await using var flaky = await SmtpTestServer.StartAsync(answers: [451]);
        using (var harness = new NotificationHarness(Settings(flaky)))
        {
            var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, "ana@hospital.test"));

            Assert.True(report.Delivered, report.Error);
            Assert.Equal(["SMTP 451", "delivered"], report.Attempts.Select(a => a.Outcome));
            Assert.Single(flaky.Messages);
        }

        await using var refusing = await SmtpTestServer.StartAsync(answers: [554, 554, 554]);
        using (var harness = new NotificationHarness(Settings(refusing)))
        {
            var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, "ana@hospital.test"));

            Assert.False(report.Delivered);
            Assert.Equal("SMTP 554", Assert.Single(report.Attempts).Outcome);
            Assert.Equal("SMTP 554: a permanent failure, not retried", report.Error);
            Assert.Equal(1, refusing.DataCommands);
        }
    }

    [Fact]
    public async Task Smtp_password_comes_from_the_configuration_key_it_names()
    {
        await using var smtp = await SmtpTestServer.StartAsync(credentials: ("notifier", "smtp-pass-do-not-leak"));
        var settings = Settings(smtp);
        settings["OrleansOps:Notifications:Smtp:Username"] = "notifier";
        settings["OrleansOps:Notifications:Smtp:PasswordRef"] = "SMTP_PASSWORD";
        settings["SMTP_PASSWORD"] = "smtp-pass-do-not-leak";
        using var harness = new NotificationHarness(settings);

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, "ana@hospital.test"));

        Assert.True(report.Delivered, report.Error);
        Assert.Equal(["smtp-pass-do-not-leak"], smtp.AuthenticatedPasswords);
        Assert.Single(smtp.Messages);
        Assert.DoesNotContain(harness.Logs.Lines, line => line.Contains("smtp-pass-do-not-leak", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Wrong_smtp_password_is_a_permanent_failure()
    {
        await using var smtp = await SmtpTestServer.StartAsync(credentials: ("notifier", "right"));
        var settings = Settings(smtp);
        settings["OrleansOps:Notifications:Smtp:Username"] = "notifier";
        settings["OrleansOps:Notifications:Smtp:Password"] = "wrong";
        using var harness = new NotificationHarness(settings);

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, "ana@hospital.test"));

        Assert.False(report.Delivered);
        Assert.Equal("SMTP authentication failed", Assert.Single(report.Attempts).Outcome);
        Assert.Empty(smtp.Messages);
    }

    [Fact]
    public async Task Required_starttls_against_a_server_without_it_fails_without_sending()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var settings = Settings(smtp);
        settings["OrleansOps:Notifications:Smtp:StartTls"] = "Required";
        using var harness = new NotificationHarness(settings);

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, "ana@hospital.test"));

        Assert.False(report.Delivered);
        Assert.Equal("SMTP server does not offer STARTTLS", Assert.Single(report.Attempts).Outcome);
        Assert.Empty(smtp.Messages);
    }

    [Fact]
    public async Task Email_without_an_smtp_host_fails_at_once_naming_the_setting()
    {
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, "ana@hospital.test"));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("no SMTP server configured (OrleansOps:Notifications:Smtp:Host is not set)", report.Error);
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("+4915112345678")]
    public async Task A_destination_that_is_not_an_address_fails_at_once(string destination)
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        using var harness = new NotificationHarness(Settings(smtp));

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Email, destination));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("email destination is not an email address", report.Error);
    }

    [Fact]
    public void Html_body_encodes_every_field()
    {
        var html = EmailChannel.HtmlBody(Notifications.For(ChannelKind.Email) with
        {
            Title = "<img src=x>",
            Service = "a&b",
            IncidentUrl = "https://x.test/?a=1&b=\"2\"",
        });

        Assert.Contains("<h2>&lt;img src=x&gt;</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<td>a&amp;b</td>", html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://x.test/?a=1&amp;b=%222%22\"", html, StringComparison.Ordinal);
    }
}
