using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace OrleansOps.Integrations.Notifications;

/// <summary>Email over SMTP with MailKit: a plain-text body and an HTML one, one connection per attempt.</summary>
internal sealed class EmailChannel(SmtpSettings settings, DestinationResolver resolver, Func<Notification, IReadOnlyList<(string Label, string Url)>>? actionLinks = null)
    : INotificationChannel
{
    private const string Section = NotificationServiceCollectionExtensions.Section + ":Smtp";

    public ChannelKind Kind => ChannelKind.Email;
    public DestinationNeeds Needs => DestinationNeeds.Address;

    public string? Check(Notification notification, ResolvedDestination destination)
    {
        if (string.IsNullOrWhiteSpace(settings.Host)) return $"no SMTP server configured ({Section}:Host is not set)";
        if (!MailboxAddress.TryParse(settings.From, out _)) return $"{Section}:From is not set to an email address";
        if (!string.IsNullOrWhiteSpace(settings.Username) && Password() is null)
            return string.IsNullOrWhiteSpace(settings.PasswordRef)
                ? $"{Section}:Username is set but neither {Section}:Password nor {Section}:PasswordRef"
                : $"{Section}:PasswordRef names '{settings.PasswordRef}', which is not set";
        return MailboxAddress.TryParse(destination.Address, out var to) && to.Address.Contains('@', StringComparison.Ordinal)
            ? null
            : "email destination is not an email address";
    }

    public async Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken)
    {
        using var message = Message(notification, MailboxAddress.Parse(settings.From!), MailboxAddress.Parse(destination.RequireAddress()), actionLinks?.Invoke(notification));
        using var client = new SmtpClient();
        try
        {
            await client.ConnectAsync(settings.Host!.Trim(), settings.Port, SecureSocket(settings.StartTls), cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrWhiteSpace(settings.Username))
                await client.AuthenticateAsync(settings.Username, Password()!, cancellationToken).ConfigureAwait(false);
            await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return Classify(exception);
        }
        await QuitQuietlyAsync(client, cancellationToken).ConfigureAwait(false);
        return ChannelResult.Delivered();
    }

    internal static MimeMessage Message(Notification n, MailboxAddress from, MailboxAddress to, IReadOnlyList<(string Label, string Url)>? actions = null)
    {
        var message = new MimeMessage();
        message.From.Add(from);
        message.To.Add(to);
        message.Subject = $"{NotificationText.Headline(n)} — {NotificationText.OneLine(n.Service)}";
        // Lets a mailbox rule or a ticketing system drop a duplicate that a retry after a lost answer produced.
        message.Headers.Add("X-OrleansOps-Idempotency-Key", NotificationText.OneLine(n.Key));
        message.Body = new BodyBuilder { TextBody = PlainBody(n, actions), HtmlBody = HtmlBody(n, actions) }.ToMessageBody();
        return message;
    }

    internal static string PlainBody(Notification n, IReadOnlyList<(string Label, string Url)>? actions = null)
    {
        var lines = new List<string>
        {
            NotificationText.OneLine(n.Title),
            "",
            $"Severity: {NotificationText.SeverityLabel(n)}",
            $"Status: {NotificationText.StatusLabel(n)}",
            $"Service: {n.Service}",
            $"Incident: {n.IncidentId} (account {n.AccountId})",
        };
        if (!string.IsNullOrWhiteSpace(n.Text)) lines.AddRange(["", n.Text.Trim()]);
        if (NotificationText.IncidentLink(n) is { } link) lines.AddRange(["", $"Open the incident: {link}"]);
        foreach (var (label, url) in actions ?? []) lines.Add($"{label}: {url}");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>Every piece of notification text is HTML-encoded: an alert's text must not become markup in a mail client.</summary>
    internal static string HtmlBody(Notification n, IReadOnlyList<(string Label, string Url)>? actions = null)
    {
        static string E(string text) => WebUtility.HtmlEncode(text);
        var html = $"<h2>{E(NotificationText.OneLine(n.Title))}</h2>\n<table>\n" +
                   $"<tr><th align=\"left\">Severity</th><td>{E(NotificationText.SeverityLabel(n))}</td></tr>\n" +
                   $"<tr><th align=\"left\">Status</th><td>{E(NotificationText.StatusLabel(n))}</td></tr>\n" +
                   $"<tr><th align=\"left\">Service</th><td>{E(n.Service)}</td></tr>\n" +
                   $"<tr><th align=\"left\">Incident</th><td>{E(n.IncidentId)} (account {E(n.AccountId)})</td></tr>\n</table>\n";
        if (!string.IsNullOrWhiteSpace(n.Text)) html += $"<p style=\"white-space: pre-wrap\">{E(n.Text.Trim())}</p>\n";
        if (NotificationText.IncidentLink(n) is { } link) html += $"<p><a href=\"{E(link)}\">Open the incident</a></p>\n";
        if (actions is { Count: > 0 }) html += "<p>" + string.Join(" · ", actions.Select(a => $"<a href=\"{E(a.Url)}\">{E(a.Label)}</a>")) + "</p>\n";
        return html;
    }

    private string? Password() =>
        !string.IsNullOrWhiteSpace(settings.PasswordRef) ? resolver.Lookup(settings.PasswordRef)
        : string.IsNullOrEmpty(settings.Password) ? null : settings.Password;

    private static SecureSocketOptions SecureSocket(SmtpStartTls startTls) => startTls switch
    {
        SmtpStartTls.None => SecureSocketOptions.None,
        SmtpStartTls.Required => SecureSocketOptions.StartTls,
        _ => SecureSocketOptions.StartTlsWhenAvailable,
    };

    /// <summary>
    /// SMTP reply codes decide: 4xx is "try again later", 5xx is final. Messages are not repeated: servers quote the
    /// recipient's address in them.
    /// </summary>
    internal static ChannelResult Classify(Exception exception) => exception switch
    {
        SmtpCommandException command when (int)command.StatusCode >= 500 => ChannelResult.Permanent($"SMTP {(int)command.StatusCode}"),
        SmtpCommandException command => ChannelResult.Transient($"SMTP {(int)command.StatusCode}"),
        AuthenticationException => ChannelResult.Permanent("SMTP authentication failed"),
        SslHandshakeException => ChannelResult.Permanent("SMTP TLS handshake failed"),
        // MailKit's answer when StartTls is Required and the server does not offer it.
        NotSupportedException => ChannelResult.Permanent("SMTP server does not offer STARTTLS"),
        SocketException socket => ChannelResult.Transient($"network error ({socket.SocketErrorCode})"),
        SmtpProtocolException or IOException or ServiceNotConnectedException => ChannelResult.Transient("SMTP connection failed"),
        _ => ChannelResult.Transient($"SMTP error ({exception.GetType().Name})"),
    };

    /// <summary>The message is accepted once DATA is answered; a failing QUIT does not undo that.</summary>
    private static async Task QuitQuietlyAsync(SmtpClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SmtpProtocolException or SocketException or OperationCanceledException)
        {
            // Nothing to do: the server has the message.
        }
    }
}
