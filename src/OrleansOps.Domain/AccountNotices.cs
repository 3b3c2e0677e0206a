namespace OrleansOps.Domain;

/// <summary>
/// Messages about an account rather than one incident (its SLA in trouble), to the users and channels it names:
/// every contact method of each user at once, whatever their paging rules say, since nobody is asked to act within
/// minutes. The key names the account, the subject and the instant, so the same notice is never sent twice.
/// </summary>
public static class AccountNotices
{
    public static IReadOnlyList<Notification> For(AccountConfig config, IEnumerable<EscalationTarget> targets, string subject,
        string title, string text, Severity severity, DateTimeOffset at)
    {
        var reached = IncidentState.Reach(targets, config.OnCall, at);
        var key = $"{config.Id}/{subject}/{at.UtcTicks}";
        var notices = new List<Notification>();
        foreach (var user in reached.Users.Select(id => config.OnCall.Users.FirstOrDefault(u => u.Id == id)).OfType<UserDefinition>())
        {
            foreach (var contact in user.Contacts)
                notices.Add(Notice($"{key}/user:{user.Id}/{contact.Id}", contact.Kind, user.Id, contact.Address, null, null, 0, contact.Kind.ToWire()));
        }
        foreach (var channel in reached.Channels)
            notices.Add(Notice($"{key}/channel:{channel.Id}", channel.Kind, channel.Id, channel.Url, channel.UrlRef, channel.SecretRef,
                channel.RatePerMinute, $"{config.Id}/channel:{channel.Id}"));
        return notices;

        Notification Notice(string noticeKey, ChannelKind kind, string recipient, string? destination, string? destinationRef, string? secretRef, int rate, string rateKey) => new()
        {
            Key = noticeKey,
            IncidentId = "",
            AccountId = config.Id,
            Channel = kind,
            Recipient = recipient,
            Destination = destination,
            DestinationRef = destinationRef,
            SecretRef = secretRef,
            RatePerMinute = rate,
            RateKey = rateKey,
            Title = title,
            Text = text,
            Severity = severity,
            Status = IncidentStatus.Triggered,
            Service = config.Id,
            CreatedAt = at,
        };
    }
}
