namespace OrleansOps.Domain;

/// <summary>How a notification travels: the account's channels (Slack, Teams, webhook, log) or a user's contact methods (email, SMS, voice).</summary>
[GenerateSerializer]
public enum ChannelKind
{
    Log = 0,
    Slack = 1,
    Teams = 2,
    Webhook = 3,
    Email = 4,
    Sms = 5,
    Voice = 6,
}

public static class ChannelKinds
{
    public static string ToWire(this ChannelKind kind) => kind.ToString().ToLowerInvariant();

    public static ChannelKind? FromWire(string? word) =>
        Enum.TryParse<ChannelKind>(word, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(word, out _) ? kind : null;
}
