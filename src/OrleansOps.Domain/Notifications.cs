namespace OrleansOps.Domain;

/// <summary>
/// One message to one destination, ready to send: what an escalation step or a notification rule produced.
/// Secrets are never in it: a webhook URL that is itself a secret (Slack, Teams) and a signing key are named by
/// the configuration key that holds them (<see cref="DestinationRef"/>, <see cref="SecretRef"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Notification
{
    /// <summary>Idempotency key: the same key is the same notification, however often it is handed over.</summary>
    [Id(0)] public required string Key { get; init; }
    [Id(1)] public required string IncidentId { get; init; }
    [Id(2)] public required string AccountId { get; init; }
    [Id(3)] public required ChannelKind Channel { get; init; }
    /// <summary>Who or what is notified, for the record: a user id, or the account channel's id.</summary>
    [Id(4)] public required string Recipient { get; init; }
    /// <summary>A webhook URL, an email address, or a phone number in E.164 form; null when <see cref="DestinationRef"/> names it.</summary>
    [Id(5)] public string? Destination { get; init; }
    /// <summary>The configuration key (e.g. an environment variable) whose value is the destination.</summary>
    [Id(6)] public string? DestinationRef { get; init; }
    /// <summary>The configuration key holding the HMAC key of a signed webhook.</summary>
    [Id(7)] public string? SecretRef { get; init; }
    /// <summary>Sends per minute allowed through this channel (0: no limit); the limit is shared by every notification with the same <see cref="RateKey"/>.</summary>
    [Id(8)] public int RatePerMinute { get; init; }
    [Id(9)] public required string RateKey { get; init; }
    [Id(10)] public required string Title { get; init; }
    [Id(11)] public required string Text { get; init; }
    [Id(12)] public required Severity Severity { get; init; }
    [Id(13)] public required IncidentStatus Status { get; init; }
    [Id(14)] public required string Service { get; init; }
    [Id(15)] public string? IncidentUrl { get; init; }
    /// <summary>When the step or rule that produced it fired.</summary>
    [Id(16)] public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One try at sending a notification and how it went.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryAttempt
{
    [Id(0)] public required int Number { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
    [Id(2)] public required bool Succeeded { get; init; }
    /// <summary>Short and free of secrets: "delivered", "HTTP 500", "HTTP 429", "timed out after 10s", "SMTP 550 …".</summary>
    [Id(3)] public required string Outcome { get; init; }
    /// <summary>How long until the next attempt, when there is one (the receiver's Retry-After, or back-off).</summary>
    [Id(4)] public TimeSpan? RetryIn { get; init; }
}

/// <summary>The final outcome of a notification, with every attempt.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryReport
{
    [Id(0)] public required string Key { get; init; }
    [Id(1)] public required bool Delivered { get; init; }
    [Id(2)] public required IReadOnlyList<DeliveryAttempt> Attempts { get; init; }
    /// <summary>Why it was not delivered (after the last attempt, or without any: a missing secret, no SMTP server configured).</summary>
    [Id(3)] public string? Error { get; init; }
}
