using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Sends notifications through their channel with one retry loop for all channels (Polly): exponential back-off from
/// <see cref="NotificationOptions.BaseDelay"/> capped at <see cref="NotificationOptions.MaxDelay"/>, the receiver's
/// Retry-After on 429 and 503 when within <see cref="NotificationOptions.MaxRetryAfter"/>, a timeout per attempt, and
/// per-channel rate limits (<see cref="SendRateLimits"/>). Retried: 5xx, 408, 429, timeouts, network errors, SMTP 4xx.
/// Not retried: other 4xx, SMTP 5xx, and anything wrong before the first attempt (a missing DestinationRef or
/// SecretRef, channel settings), which ends with no attempt at all. Every attempt is reported; destinations and
/// secrets are never logged nor reported.
/// </summary>
public sealed class NotificationSender : INotificationSender
{
    private static readonly ResiliencePropertyKey<SendLog> SendLogKey = new("OrleansOps.Notifications.SendLog");

    private readonly NotificationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DestinationResolver _resolver;
    private readonly SendRateLimits _rateLimits;
    private readonly IReadOnlyDictionary<ChannelKind, INotificationChannel> _channels;
    private readonly ResiliencePipeline<ChannelResult> _retries;

    /// <param name="configuration">
    /// Where DestinationRef, SecretRef, Smtp:PasswordRef and Twilio:AuthTokenRef are looked up: the application's whole configuration.
    /// </param>
    public NotificationSender(
        IOptions<NotificationOptions> options, IConfiguration configuration, IHttpClientFactory httpClients, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options.Value;
        // Also checked here for a sender built by hand, without the options validation the DI registration adds.
        if (new NotificationOptionsValidator().Validate(null, _options) is { Failed: true } invalid)
            throw new OptionsValidationException(NotificationServiceCollectionExtensions.Section, typeof(NotificationOptions), invalid.Failures);
        _time = time;
        _logger = loggers.CreateLogger<NotificationSender>();
        _resolver = new DestinationResolver(configuration);
        _rateLimits = new SendRateLimits(time, _options.MaxRateLimitWait);
        var twilio = new TwilioApi(_options.Twilio, _resolver, httpClients, time);
        INotificationChannel[] channels =
        [
            new LogChannel(loggers.CreateLogger<LogChannel>()),
            new SlackChannel(httpClients, time, interactive: _options.Slack.Secret(configuration) is not null),
            new TeamsChannel(httpClients, time),
            new WebhookChannel(httpClients, time),
            new EmailChannel(_options.Smtp, _resolver,
                _options.LinkKey(configuration) is { } linkKey && _options.PublicUrl is { } linkBase ? n => ActionLinks.For(n, linkKey, linkBase) : null),
            new SmsChannel(twilio, replies: _options.PublicUrl is not null),
            new VoiceChannel(twilio, gatherUrl: _options.PublicUrl is { } publicUrl ? publicUrl.TrimEnd('/') + TwilioReplies.VoicePath : null),
        ];
        _channels = channels.ToDictionary(channel => channel.Kind);
        _retries = BuildRetries();
    }

    public async Task<DeliveryReport> SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        if (!_channels.TryGetValue(notification.Channel, out var channel))
            return Refused(notification, $"no sender for channel '{notification.Channel.ToWire()}'");
        var resolution = _resolver.Resolve(notification, channel.Needs);
        if (resolution.Error is { } unresolved) return Refused(notification, unresolved);
        var destination = resolution.Destination!;
        if (channel.Check(notification, destination) is { } unusable) return Refused(notification, unusable);
        if (await _rateLimits.WaitForTurnAsync(notification, cancellationToken).ConfigureAwait(false) is { } limited)
            return Refused(notification, limited);

        var log = new SendLog(notification, channel, destination);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(SendLogKey, log);
            var outcome = await _retries.ExecuteOutcomeAsync(static (ctx, self) => self.AttemptAsync(ctx), context, this).ConfigureAwait(false);
            outcome.ThrowIfException();
            log.Record(retryIn: null);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
        return Report(log);
    }

    /// <summary>One attempt under its own timeout. Never throws for a receiver's failure; only the caller's cancellation escapes.</summary>
    private async ValueTask<Outcome<ChannelResult>> AttemptAsync(ResilienceContext context)
    {
        var log = context.Properties.GetValue(SendLogKey, null!);
        log.StartAttempt(_time.GetUtcNow());
        var callerToken = context.CancellationToken;
        using var timeout = new CancellationTokenSource(_options.AttemptTimeout, _time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(callerToken, timeout.Token);
        ChannelResult result;
        try
        {
            result = await log.Channel.SendAsync(log.Notification, log.Destination, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !callerToken.IsCancellationRequested)
        {
            result = ChannelResult.Transient($"timed out after {ShortDuration.Format(_options.AttemptTimeout)}");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // A defect, not a receiver's answer: retrying would repeat it. Only the type is logged, as messages may carry a destination.
            _logger.LogError("Notification {Key} via {Channel}: unexpected {ExceptionType}",
                log.Notification.Key, log.Channel.Kind.ToWire(), exception.GetType().FullName);
            result = ChannelResult.Permanent($"unexpected error ({exception.GetType().Name})");
        }
        log.Finish(result);
        return Outcome.FromResult(result);
    }

    private ResiliencePipeline<ChannelResult> BuildRetries()
    {
        var builder = new ResiliencePipelineBuilder<ChannelResult> { TimeProvider = _time };
        // Polly's retry needs at least one retry; with MaxAttempts = 1 the pipeline is a single attempt.
        if (_options.MaxAttempts < 2) return builder.Build();
        return builder.AddRetry(new RetryStrategyOptions<ChannelResult>
        {
            MaxRetryAttempts = _options.MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            Delay = _options.BaseDelay,
            MaxDelay = _options.MaxDelay,
            UseJitter = _options.UseJitter,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { } result && ShouldRetry(result)),
            // Null falls back to the back-off; a Retry-After replaces it (and MaxDelay does not cap it).
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter),
            OnRetry = args =>
            {
                args.Context.Properties.GetValue(SendLogKey, null!).Record(args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    private bool ShouldRetry(ChannelResult result) =>
        result.State == DeliveryState.Transient && !(result.RetryAfter > _options.MaxRetryAfter);

    private DeliveryReport Report(SendLog log)
    {
        var last = log.Attempts[^1];
        var delivered = log.LastResult!.State == DeliveryState.Delivered;
        var report = new DeliveryReport
        {
            Key = log.Notification.Key,
            Delivered = delivered,
            Attempts = [.. log.Attempts],
            Error = delivered ? null : FailureReason(log),
        };
        if (delivered)
            _logger.LogInformation("Notification {Key} via {Channel} delivered on attempt {Attempt}", report.Key, log.Channel.Kind.ToWire(), last.Number);
        else
            _logger.LogWarning("Notification {Key} via {Channel} not delivered: {Error}", report.Key, log.Channel.Kind.ToWire(), report.Error);
        return report;
    }

    private string FailureReason(SendLog log)
    {
        var result = log.LastResult!;
        if (result.State == DeliveryState.Permanent) return $"{result.Outcome}: a permanent failure, not retried";
        if (result.RetryAfter > _options.MaxRetryAfter)
            return $"{result.Outcome}: the receiver asked to retry after {ShortDuration.Format(result.RetryAfter.Value)}, " +
                   $"beyond MaxRetryAfter ({ShortDuration.Format(_options.MaxRetryAfter)})";
        return $"gave up after {log.Attempts.Count} attempt{(log.Attempts.Count == 1 ? "" : "s")}; last: {result.Outcome}";
    }

    private DeliveryReport Refused(Notification notification, string error)
    {
        _logger.LogWarning("Notification {Key} via {Channel} not sent: {Error}", notification.Key, notification.Channel.ToWire(), error);
        return new DeliveryReport { Key = notification.Key, Delivered = false, Attempts = [], Error = error };
    }

    /// <summary>The attempts of one send, filled in as Polly runs them.</summary>
    private sealed class SendLog(Notification notification, INotificationChannel channel, ResolvedDestination destination)
    {
        private DateTimeOffset _startedAt;
        private readonly List<DeliveryAttempt> _attempts = [];

        public Notification Notification { get; } = notification;
        public INotificationChannel Channel { get; } = channel;
        public ResolvedDestination Destination { get; } = destination;
        public ChannelResult? LastResult { get; private set; }
        public IReadOnlyList<DeliveryAttempt> Attempts => _attempts;

        public void StartAttempt(DateTimeOffset at) => _startedAt = at;

        public void Finish(ChannelResult result) => LastResult = result;

        /// <summary>Records the attempt that just finished; <paramref name="retryIn"/> is the wait before the next one, if any.</summary>
        public void Record(TimeSpan? retryIn)
        {
            _attempts.Add(new DeliveryAttempt
            {
                Number = _attempts.Count + 1,
                At = _startedAt,
                Succeeded = LastResult!.State == DeliveryState.Delivered,
                Outcome = LastResult.Outcome,
                RetryIn = retryIn,
            });
        }
    }
}
