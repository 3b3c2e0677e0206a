namespace OrleansOps.Grains;

/// <summary>How incidents hand notifications to the notifier (configuration section <c>OrleansOps:Notifications</c>).</summary>
public sealed class NotificationDispatchOptions
{
    /// <summary>The server's public base URL; when set, notifications link to the incident.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// A notification whose report has not come back after this long (its notifier's silo died) is sent again. Longer
    /// than the sender's worst case with its default settings (about 18 minutes: rate-limit wait, attempts,
    /// back-off and Retry-After), since a second send may reach the receiver twice.
    /// </summary>
    public TimeSpan RedispatchAfter { get; set; } = TimeSpan.FromMinutes(30);
}
