using Microsoft.Extensions.Time.Testing;
using OrleansOps.Abstractions;

namespace OrleansOps.Integrations.Tests.Notifications;

/// <summary>Rate limits run on the injected clock; a FakeTimeProvider decides when a waiting send may go.</summary>
public sealed class RateLimitTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static Notification Limited(int perMinute, string rateKey = "acme:slack-oncall") =>
        Notifications.For(ChannelKind.Log) with { RatePerMinute = perMinute, RateKey = rateKey };

    [Fact]
    public async Task The_send_after_the_limit_waits_for_a_token_then_goes()
    {
        var time = new FakeTimeProvider(Notifications.CreatedAt);
        using var harness = new NotificationHarness(time: time);

        var first = await harness.SendAsync(Limited(2));
        var second = await harness.SendAsync(Limited(2));
        var third = harness.SendAsync(Limited(2));

        Assert.True(first.Delivered && second.Delivered);
        Assert.False(third.IsCompleted);
        // Two a minute: a token every 30 s. Not yet after 29 s...
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(third.IsCompleted);
        // ...and on its way once the token is there.
        time.Advance(TimeSpan.FromSeconds(1));
        var report = await third.WaitAsync(Guard);
        Assert.True(report.Delivered, report.Error);
        Assert.Equal(Notifications.CreatedAt.AddSeconds(30), Assert.Single(report.Attempts).At);
    }

    [Fact]
    public async Task Different_rate_keys_and_unlimited_notifications_do_not_wait()
    {
        var time = new FakeTimeProvider(Notifications.CreatedAt);
        using var harness = new NotificationHarness(time: time);

        await harness.SendAsync(Limited(1, "acme:slack"));
        var otherKey = harness.SendAsync(Limited(1, "acme:teams"));
        var unlimited = harness.SendAsync(Limited(0, "acme:slack"));
        var sameKey = harness.SendAsync(Limited(1, "acme:slack"));

        Assert.True(otherKey.IsCompleted);
        Assert.True(unlimited.IsCompleted);
        Assert.False(sameKey.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await sameKey.WaitAsync(Guard)).Delivered);
    }

    [Fact]
    public async Task Waiting_sends_go_in_turn_a_token_apart()
    {
        var time = new FakeTimeProvider(Notifications.CreatedAt);
        using var harness = new NotificationHarness(time: time);

        await harness.SendAsync(Limited(6));
        for (var i = 0; i < 5; i++) await harness.SendAsync(Limited(6));
        var seventh = harness.SendAsync(Limited(6));
        var eighth = harness.SendAsync(Limited(6));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(Notifications.CreatedAt.AddSeconds(10), Assert.Single((await seventh.WaitAsync(Guard)).Attempts).At);
        Assert.False(eighth.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(Notifications.CreatedAt.AddSeconds(20), Assert.Single((await eighth.WaitAsync(Guard)).Attempts).At);
    }

    [Fact]
    public async Task A_wait_longer_than_MaxRateLimitWait_fails_at_once_without_an_attempt()
    {
        var time = new FakeTimeProvider(Notifications.CreatedAt);
        using var harness = new NotificationHarness(new Dictionary<string, string?> { ["OrleansOps:Notifications:MaxRateLimitWait"] = "00:00:10" }, time);

        await harness.SendAsync(Limited(1));
        var report = await harness.SendAsync(Limited(1));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("rate limit of 1/min for 'acme:slack-oncall' reached; the next turn is more than MaxRateLimitWait (10s) away", report.Error);
    }

    [Fact]
    public async Task A_cancelled_wait_hands_its_turn_back()
    {
        var time = new FakeTimeProvider(Notifications.CreatedAt);
        using var harness = new NotificationHarness(time: time);
        using var cancel = new CancellationTokenSource();

        await harness.SendAsync(Limited(1));
        var abandoned = harness.Sender.SendAsync(Limited(1), cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(Guard));

        // Had the abandoned send kept its turn, this one would wait two minutes.
        var next = harness.SendAsync(Limited(1));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await next.WaitAsync(Guard)).Delivered);
    }
}
