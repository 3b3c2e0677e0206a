namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Settings of the notification sender, bound from the configuration section <c>OrleansOps:Notifications</c>
/// (<see cref="NotificationServiceCollectionExtensions.Section"/>). Durations use .NET's TimeSpan form ("00:00:02").
/// <list type="table">
/// <item><term><c>OrleansOps:Notifications:MaxAttempts</c></term><description>attempts per notification, the first included (default 4).</description></item>
/// <item><term><c>…:BaseDelay</c></term><description>back-off before the second attempt; doubles each retry (default 2 s).</description></item>
/// <item><term><c>…:MaxDelay</c></term><description>cap of the back-off (default 60 s); a receiver's Retry-After is not capped by it.</description></item>
/// <item><term><c>…:UseJitter</c></term><description>randomises the back-off so that many senders do not retry in step (default true).</description></item>
/// <item><term><c>…:AttemptTimeout</c></term><description>how long one attempt may take, connect to answer (default 10 s).</description></item>
/// <item><term><c>…:MaxRetryAfter</c></term><description>the longest Retry-After honoured (default 5 min); a longer one ends the retries.</description></item>
/// <item><term><c>…:MaxRateLimitWait</c></term><description>the longest a notification waits for its channel's rate limit
/// (default 2 min); a notification whose turn is further away fails at once.</description></item>
/// <item><term><c>…:Smtp:*</c></term><description>see <see cref="SmtpSettings"/>.</description></item>
/// <item><term><c>…:Twilio:*</c></term><description>see <see cref="TwilioSettings"/>.</description></item>
/// <item><term><c>…:Slack:*</c></term><description>see <see cref="SlackSettings"/>.</description></item>
/// </list>
/// </summary>
public sealed class NotificationOptions
{
    public int MaxAttempts { get; set; } = 4;
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(60);
    public bool UseJitter { get; set; } = true;
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan MaxRateLimitWait { get; set; } = TimeSpan.FromMinutes(2);
    public SmtpSettings Smtp { get; set; } = new();
    public TwilioSettings Twilio { get; set; } = new();
    public SlackSettings Slack { get; set; } = new();
    /// <summary>
    /// <c>OrleansOps:Notifications:PublicUrl</c>: this server as Twilio reaches it. With it, an SMS page says how to reply
    /// (ACK, RES or ESC and the incident's code) and a call waits for a key; both come back signed to this server.
    /// </summary>
    public string? PublicUrl { get; set; }
    /// <summary><c>OrleansOps:Notifications:LinkSecret</c>: the key of e-mail pages' one-click links (with <see cref="PublicUrl"/>); prefer <see cref="LinkSecretRef"/>.</summary>
    public string? LinkSecret { get; set; }
    /// <summary><c>OrleansOps:Notifications:LinkSecretRef</c>: the configuration key whose value is the link key; wins over <see cref="LinkSecret"/>.</summary>
    public string? LinkSecretRef { get; set; }

    /// <summary>The key of one-click links, looked up when given by reference; null when none is set.</summary>
    public string? LinkKey(Microsoft.Extensions.Configuration.IConfiguration configuration) => Setting(configuration, LinkSecretRef, LinkSecret);

    /// <summary>
    /// A secret given by reference (<paramref name="reference"/>, the configuration key holding it, which wins) or
    /// itself, trimmed (an environment variable often ends in a newline); null when neither is set.
    /// </summary>
    internal static string? Setting(Microsoft.Extensions.Configuration.IConfiguration configuration, string? reference, string? value)
    {
        var found = !string.IsNullOrWhiteSpace(reference) ? configuration[reference] : value;
        return string.IsNullOrWhiteSpace(found) ? null : found.Trim();
    }

    /// <summary>Every problem with these settings, empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        // Polly accepts delays up to a day; anything near that is a typo, not a retry policy.
        var day = TimeSpan.FromDays(1);
        if (MaxAttempts is < 1 or > 100) problems.Add("MaxAttempts must be between 1 and 100");
        if (BaseDelay < TimeSpan.Zero || BaseDelay > day) problems.Add("BaseDelay must be between 0 and 1 day");
        if (MaxDelay < BaseDelay || MaxDelay > day) problems.Add("MaxDelay must be at least BaseDelay and at most 1 day");
        if (AttemptTimeout <= TimeSpan.Zero || AttemptTimeout > day) problems.Add("AttemptTimeout must be positive and at most 1 day");
        if (MaxRetryAfter < TimeSpan.Zero || MaxRetryAfter > day) problems.Add("MaxRetryAfter must be between 0 and 1 day");
        if (MaxRateLimitWait < TimeSpan.Zero) problems.Add("MaxRateLimitWait must not be negative");
        if (Smtp.Port is < 1 or > 65535) problems.Add("Smtp:Port must be between 1 and 65535");
        if (!Uri.TryCreate(Twilio.BaseUrl, UriKind.Absolute, out var twilio) || twilio.Scheme is not ("http" or "https"))
            problems.Add("Twilio:BaseUrl must be an absolute http(s) URL");
        return problems;
    }
}

/// <summary>
/// The SMTP server of the email channel (<c>OrleansOps:Notifications:Smtp:*</c>). Without <see cref="Host"/> email
/// notifications fail at once with "no SMTP server configured".
/// </summary>
public sealed class SmtpSettings
{
    /// <summary><c>Smtp:Host</c>: the server's host name or address.</summary>
    public string? Host { get; set; }
    /// <summary><c>Smtp:Port</c> (default 587, the submission port).</summary>
    public int Port { get; set; } = 587;
    /// <summary><c>Smtp:From</c>: the sender address, e.g. <c>orleansops@example.com</c> or <c>OrleansOps &lt;ops@example.com&gt;</c>.</summary>
    public string? From { get; set; }
    /// <summary><c>Smtp:Username</c>: when set, the client authenticates with it and the password.</summary>
    public string? Username { get; set; }
    /// <summary><c>Smtp:Password</c>: the password itself; prefer <see cref="PasswordRef"/> so it stays out of settings files.</summary>
    public string? Password { get; set; }
    /// <summary><c>Smtp:PasswordRef</c>: the configuration key (e.g. an environment variable) whose value is the password; wins over <see cref="Password"/>.</summary>
    public string? PasswordRef { get; set; }
    /// <summary><c>Smtp:StartTls</c>: <c>None</c>, <c>Auto</c> (default: upgrade when the server offers it) or <c>Required</c>.</summary>
    public SmtpStartTls StartTls { get; set; } = SmtpStartTls.Auto;
}

/// <summary>
/// The Slack app behind the Slack channels' webhooks (<c>OrleansOps:Notifications:Slack:*</c>). With its signing secret
/// set, a Slack page carries Acknowledge, Resolve and Escalate buttons, and Slack's interaction requests to
/// <c>POST /api/v1/integrations/slack/interactions</c> are verified with it; without it a page has only its link.
/// </summary>
public sealed class SlackSettings
{
    /// <summary><c>Slack:SigningSecret</c>: the app's signing secret; prefer <see cref="SigningSecretRef"/>.</summary>
    public string? SigningSecret { get; set; }
    /// <summary><c>Slack:SigningSecretRef</c>: the configuration key (e.g. an environment variable) whose value is the signing secret; wins over <see cref="SigningSecret"/>.</summary>
    public string? SigningSecretRef { get; set; }

    /// <summary>The signing secret, looked up in <paramref name="configuration"/> when given by reference; null when none is set.</summary>
    public string? Secret(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        NotificationOptions.Setting(configuration, SigningSecretRef, SigningSecret);
}

/// <summary>Whether the SMTP connection is upgraded to TLS with STARTTLS.</summary>
public enum SmtpStartTls
{
    /// <summary>Plain text throughout (a local relay or a test server).</summary>
    None = 0,
    /// <summary>Upgrade when the server offers STARTTLS, plain text otherwise.</summary>
    Auto = 1,
    /// <summary>Upgrade or fail: a server without STARTTLS is a permanent failure.</summary>
    Required = 2,
}

/// <summary>
/// Twilio's REST API for the SMS and voice channels (<c>OrleansOps:Notifications:Twilio:*</c>). Without an account,
/// a token and a sender number, SMS and voice notifications fail at once with a message naming the missing key.
/// </summary>
public sealed class TwilioSettings
{
    public const string DefaultBaseUrl = "https://api.twilio.com/2010-04-01";

    /// <summary><c>Twilio:AccountSid</c>: the account (<c>AC…</c>); also the user name of HTTP Basic auth.</summary>
    public string? AccountSid { get; set; }
    /// <summary><c>Twilio:AuthToken</c>: the token itself; prefer <see cref="AuthTokenRef"/>.</summary>
    public string? AuthToken { get; set; }
    /// <summary><c>Twilio:AuthTokenRef</c>: the configuration key whose value is the auth token; wins over <see cref="AuthToken"/>.</summary>
    public string? AuthTokenRef { get; set; }
    /// <summary><c>Twilio:From</c>: the sending number in E.164 form (or a messaging service's sender).</summary>
    public string? From { get; set; }
    /// <summary><c>Twilio:BaseUrl</c>: the API root up to the version (default <c>https://api.twilio.com/2010-04-01</c>; tests point it at a stub).</summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>The auth token, looked up in <paramref name="configuration"/> when given by reference; null when none is set.</summary>
    public string? Token(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        NotificationOptions.Setting(configuration, AuthTokenRef, AuthToken);
}
