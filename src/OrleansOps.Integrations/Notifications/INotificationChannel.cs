namespace OrleansOps.Integrations.Notifications;

/// <summary>One way of delivering a notification. A channel makes one attempt; the sender owns retries and timeouts.</summary>
internal interface INotificationChannel
{
    ChannelKind Kind { get; }

    /// <summary>What the channel needs from a notification's destination (an address, a signing secret).</summary>
    DestinationNeeds Needs { get; }

    /// <summary>
    /// Checks, before any attempt, what no retry can fix (a malformed address, missing server settings).
    /// Returns the reason, free of secrets, or null when the notification can be sent.
    /// </summary>
    string? Check(Notification notification, ResolvedDestination destination);

    /// <summary>
    /// One attempt. Receiver answers and network failures come back as a <see cref="ChannelResult"/>;
    /// cancellation (the caller's, or the attempt's timeout) surfaces as <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken);
}

[Flags]
internal enum DestinationNeeds
{
    None = 0,
    Address = 1,
    Secret = 2,
}

internal enum DeliveryState
{
    Delivered,
    /// <summary>Worth another attempt: 5xx, 408, 429, a timeout, a network error.</summary>
    Transient,
    /// <summary>Another attempt would get the same answer: other 4xx, a rejected recipient.</summary>
    Permanent,
}

/// <summary>How one attempt went. <see cref="Outcome"/> is short and free of secrets (it is recorded and logged).</summary>
internal sealed record ChannelResult(DeliveryState State, string Outcome, TimeSpan? RetryAfter = null)
{
    public static ChannelResult Delivered() => new(DeliveryState.Delivered, "delivered");
    public static ChannelResult Transient(string outcome, TimeSpan? retryAfter = null) => new(DeliveryState.Transient, outcome, retryAfter);
    public static ChannelResult Permanent(string outcome) => new(DeliveryState.Permanent, outcome);
}

/// <summary>
/// Where a notification goes, with any secret it needs, after configuration references were looked up.
/// Its text form hides both: an accidental log line or exception message must not carry a webhook URL or a key.
/// </summary>
internal sealed class ResolvedDestination(string? address, string? secret)
{
    public static readonly ResolvedDestination None = new(null, null);

    public string? Address { get; } = address;
    public string? Secret { get; } = secret;

    public string RequireAddress() => Address ?? throw new InvalidOperationException("The channel needs a destination address.");
    public string RequireSecret() => Secret ?? throw new InvalidOperationException("The channel needs a secret.");

    public override string ToString() => "[destination redacted]";
}
