using System.Collections.Concurrent;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Per-channel rate limits: notifications with the same <see cref="Notification.RateKey"/> share one token bucket of
/// <see cref="Notification.RatePerMinute"/> tokens, refilled evenly over the minute (one every 60/N seconds) and
/// holding at most N, so a quiet channel may burst up to N sends before it is paced.
/// <para>
/// A send over the limit waits for its turn rather than failing; turns are handed out in arrival order. The wait is
/// bounded by <see cref="NotificationOptions.MaxRateLimitWait"/>: a notification whose turn is further away fails at
/// once, without an attempt, instead of queueing indefinitely behind a flood. The limit counts notifications, not
/// attempts: retries are already spaced by back-off and by the receiver's Retry-After.
/// </para>
/// Time comes from the injected <see cref="TimeProvider"/>, which is why this is not System.Threading.RateLimiting's
/// token bucket (its replenishment runs on a wall-clock timer).
/// </summary>
internal sealed class SendRateLimits(TimeProvider time, TimeSpan maxWait)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Waits for the notification's turn; returns why it may not be sent, or null once it may.</summary>
    public async Task<string?> WaitForTurnAsync(Notification notification, CancellationToken cancellationToken)
    {
        if (notification.RatePerMinute <= 0) return null;
        var bucket = Bucket(notification.RateKey, notification.RatePerMinute);
        var wait = bucket.Reserve(maxWait);
        if (wait is null)
            return $"rate limit of {notification.RatePerMinute}/min for '{notification.RateKey}' reached; " +
                   $"the next turn is more than MaxRateLimitWait ({ShortDuration.Format(maxWait)}) away";
        if (wait == TimeSpan.Zero) return null;
        try
        {
            await Task.Delay(wait.Value, time, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException)
        {
            // Hand the turn back, so the senders behind it are not delayed for a send that never happened.
            bucket.Release();
            throw;
        }
    }

    private TokenBucket Bucket(string rateKey, int perMinute) =>
        // A changed rate (the account's channel was reconfigured) starts a fresh bucket at the new rate.
        _buckets.AddOrUpdate(rateKey,
            static (_, state) => new TokenBucket(state.perMinute, state.time),
            static (_, existing, state) => existing.PerMinute == state.perMinute ? existing : new TokenBucket(state.perMinute, state.time),
            (perMinute, time));

    /// <summary>
    /// Tokens may go negative: each negative token is a send already promised a later turn, so the next one
    /// waits behind all of them.
    /// </summary>
    internal sealed class TokenBucket
    {
        private readonly TimeProvider _time;
        private readonly TimeSpan _interval;
        private readonly Lock _gate = new();
        private double _tokens;
        private long _refilledAt;

        public TokenBucket(int perMinute, TimeProvider time)
        {
            PerMinute = perMinute;
            _time = time;
            _interval = TimeSpan.FromMinutes(1) / perMinute;
            _tokens = perMinute;
            _refilledAt = time.GetTimestamp();
        }

        public int PerMinute { get; }

        /// <summary>Takes a token: zero when one is free now, the wait for the next one, or null when that wait exceeds <paramref name="maxWait"/>.</summary>
        public TimeSpan? Reserve(TimeSpan maxWait)
        {
            lock (_gate)
            {
                Refill();
                var wait = _tokens >= 1 ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Ceiling((1 - _tokens) * _interval.Ticks));
                if (wait > maxWait) return null;
                _tokens -= 1;
                return wait;
            }
        }

        public void Release()
        {
            lock (_gate) _tokens = Math.Min(PerMinute, _tokens + 1);
        }

        private void Refill()
        {
            var now = _time.GetTimestamp();
            var elapsed = _time.GetElapsedTime(_refilledAt, now);
            _refilledAt = now;
            _tokens = Math.Min(PerMinute, _tokens + elapsed.Ticks / (double)_interval.Ticks);
        }
    }
}
