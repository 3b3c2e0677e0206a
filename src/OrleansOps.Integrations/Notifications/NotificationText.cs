namespace OrleansOps.Integrations.Notifications;

/// <summary>The words every channel shows for a notification, so that Slack, email and SMS say the same thing.</summary>
internal static class NotificationText
{
    public static string SeverityLabel(Notification n) => n.Severity.ToWire().ToUpperInvariant();

    public static string StatusLabel(Notification n) => n.Status switch
    {
        IncidentStatus.Triggered => "Triggered",
        IncidentStatus.Acknowledged => "Acknowledged",
        IncidentStatus.Resolved => "Resolved",
        _ => n.Status.ToString(),
    };

    /// <summary>"[SEV1] ehr-api down" — the shortest line that says how bad and what.</summary>
    public static string Headline(Notification n) =>
        n.Status == IncidentStatus.Triggered
            ? $"[{SeverityLabel(n)}] {OneLine(n.Title)}"
            : $"[{SeverityLabel(n)} {StatusLabel(n).ToLowerInvariant()}] {OneLine(n.Title)}";

    /// <summary>The incident link when it is an http(s) URL; anything else is not offered as a link.</summary>
    public static string? IncidentLink(Notification n) =>
        HttpDelivery.IsHttpUrl(n.IncidentUrl, out var uri) ? uri.AbsoluteUri : null;

    /// <summary>Line breaks and other control characters flattened to spaces, for subjects and headers.</summary>
    public static string OneLine(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (char.IsControl(chars[i])) chars[i] = ' ';
        return new string(chars).Trim();
    }

    /// <summary>At most <paramref name="max"/> UTF-16 units, cut with an ellipsis and never inside a surrogate pair.</summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max) return text;
        if (max <= 1) return max == 1 ? "…" : "";
        var cut = max - 1;
        if (char.IsHighSurrogate(text[cut - 1])) cut--;
        return string.Concat(text.AsSpan(0, cut), "…");
    }
}
