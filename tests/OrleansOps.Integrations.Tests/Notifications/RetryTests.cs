using System.Net.Http.Headers;
using OrleansOps.Integrations.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Notifications;

/// <summary>The one retry loop, driven through real HTTP against stubs; assertions are on recorded attempts, never on wall-clock time.</summary>
public sealed class RetryTests
{
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task A_500_then_a_200_is_delivered_on_the_second_attempt()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).InScenario("flaky").WillSetStateTo("recovered")
            .RespondWith(Response.Create().WithStatusCode(500));
        stub.Server.Given(Request.Create().UsingPost()).InScenario("flaky").WhenStateIs("recovered")
            .RespondWith(Response.Create().WithStatusCode(200));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.True(report.Delivered, report.Error);
        Assert.Null(report.Error);
        Assert.Equal(2, report.Attempts.Count);
        Assert.Equal([1, 2], report.Attempts.Select(a => a.Number));
        Assert.Equal(["HTTP 500", "delivered"], report.Attempts.Select(a => a.Outcome));
        Assert.Equal([false, true], report.Attempts.Select(a => a.Succeeded));
        Assert.Equal(BaseDelay, report.Attempts[0].RetryIn);
        Assert.Null(report.Attempts[1].RetryIn);
        Assert.True(report.Attempts[1].At >= report.Attempts[0].At);
        Assert.Equal(2, stub.Requests.Count);
    }

    [Fact]
    public async Task A_429_with_retry_after_waits_as_asked_then_delivers()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).InScenario("limited").WillSetStateTo("free")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "1").WithBody("rate_limited"));
        stub.Server.Given(Request.Create().UsingPost()).InScenario("limited").WhenStateIs("free")
            .RespondWith(Response.Create().WithStatusCode(200));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.True(report.Delivered, report.Error);
        Assert.Equal(["HTTP 429 (rate_limited)", "delivered"], report.Attempts.Select(a => a.Outcome));
        // The receiver's Retry-After replaces the 10 ms back-off.
        Assert.Equal(TimeSpan.FromSeconds(1), report.Attempts[0].RetryIn);
    }

    [Fact]
    public async Task A_retry_after_beyond_MaxRetryAfter_ends_the_retries()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(503).WithHeader("Retry-After", "3600"));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Teams, stub.Url + "/hook"));

        Assert.False(report.Delivered);
        var attempt = Assert.Single(report.Attempts);
        Assert.Equal("HTTP 503", attempt.Outcome);
        Assert.Null(attempt.RetryIn);
        Assert.Equal("HTTP 503: the receiver asked to retry after 1h, beyond MaxRetryAfter (5s)", report.Error);
    }

    [Fact]
    public async Task A_receiver_slower_than_AttemptTimeout_times_out_on_every_attempt()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithDelay(TimeSpan.FromSeconds(3)));
        using var harness = new NotificationHarness(new Dictionary<string, string?>
        {
            ["OrleansOps:Notifications:AttemptTimeout"] = "00:00:00.300",
            ["OrleansOps:Notifications:MaxAttempts"] = "2",
        });

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.False(report.Delivered);
        Assert.Equal(["timed out after 300ms", "timed out after 300ms"], report.Attempts.Select(a => a.Outcome));
        Assert.Equal("gave up after 2 attempts; last: timed out after 300ms", report.Error);
    }

    [Fact]
    public async Task A_400_is_permanent_one_attempt_and_no_retry()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400).WithBody("invalid_payload"));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.False(report.Delivered);
        var attempt = Assert.Single(report.Attempts);
        Assert.Equal("HTTP 400 (invalid_payload)", attempt.Outcome);
        Assert.False(attempt.Succeeded);
        Assert.Null(attempt.RetryIn);
        Assert.Equal("HTTP 400 (invalid_payload): a permanent failure, not retried", report.Error);
        Assert.Single(stub.Requests);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(502)]
    [InlineData(429)]
    public async Task Timeouts_rate_limits_and_server_errors_are_retried(int status)
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(status));
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.Equal(3, report.Attempts.Count);
        Assert.Equal(3, stub.Requests.Count);
    }

    [Fact]
    public async Task When_every_attempt_fails_MaxAttempts_are_recorded_with_exponential_backoff()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(500));
        using var harness = new NotificationHarness(new Dictionary<string, string?>
        {
            ["OrleansOps:Notifications:MaxAttempts"] = "5",
            ["OrleansOps:Notifications:MaxDelay"] = "00:00:00.030",
        });

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.False(report.Delivered);
        Assert.Equal([1, 2, 3, 4, 5], report.Attempts.Select(a => a.Number));
        Assert.All(report.Attempts, attempt => Assert.Equal("HTTP 500", attempt.Outcome));
        // 10 ms doubling, capped at MaxDelay; no wait after the last attempt.
        Assert.Equal(
            [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(30), null],
            report.Attempts.Select(a => a.RetryIn));
        Assert.Equal("gave up after 5 attempts; last: HTTP 500", report.Error);
        Assert.Equal(5, stub.Requests.Count);
    }

    [Fact]
    public async Task A_refused_connection_is_a_network_error_and_retried()
    {
        using var harness = new NotificationHarness();

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, $"http://127.0.0.1:{FreePorts.Next()}/hook"));

        Assert.False(report.Delivered);
        Assert.Equal(3, report.Attempts.Count);
        Assert.All(report.Attempts, attempt => Assert.Equal("network error (ConnectionError)", attempt.Outcome));
    }

    [Fact]
    public async Task A_single_attempt_policy_does_not_retry()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(500));
        using var harness = new NotificationHarness(new Dictionary<string, string?> { ["OrleansOps:Notifications:MaxAttempts"] = "1" });

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"));

        Assert.Equal("HTTP 500", Assert.Single(report.Attempts).Outcome);
        Assert.Equal("gave up after 1 attempt; last: HTTP 500", report.Error);
    }

    [Fact]
    public async Task The_callers_cancellation_stops_the_send()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithDelay(TimeSpan.FromSeconds(3)));
        using var harness = new NotificationHarness();
        using var cancel = new CancellationTokenSource();

        var sending = harness.Sender.SendAsync(Notifications.For(ChannelKind.Slack, stub.Url + "/hook"), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
    }

    [Fact]
    public void Retry_after_is_read_as_seconds_or_as_an_http_date()
    {
        var now = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(120), RetryAfter.From(RetryConditionHeaderValue.Parse("120"), now));
        Assert.Equal(TimeSpan.FromSeconds(90), RetryAfter.From(RetryConditionHeaderValue.Parse("Thu, 26 Nov 2026 12:01:30 GMT"), now));
        Assert.Equal(TimeSpan.Zero, RetryAfter.From(RetryConditionHeaderValue.Parse("Thu, 26 Nov 2026 11:00:00 GMT"), now));
        Assert.Null(RetryAfter.From(null, now));
    }

    [Theory]
    [InlineData(300, "300ms")]
    [InlineData(10_000, "10s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(300_000, "5m")]
    [InlineData(3_600_000, "1h")]
    [InlineData(90_000, "90s")]
    public void Durations_print_short(int milliseconds, string expected) =>
        Assert.Equal(expected, ShortDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
