using Microsoft.Extensions.Configuration;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Looks up what a notification names by reference: its destination (<see cref="Notification.DestinationRef"/>)
/// and its signing key (<see cref="Notification.SecretRef"/>). Errors name the configuration key, never its value.
/// </summary>
internal sealed class DestinationResolver(IConfiguration configuration)
{
    public Resolution Resolve(Notification notification, DestinationNeeds needs)
    {
        string? address = null;
        if (needs.HasFlag(DestinationNeeds.Address))
        {
            // A literal destination is taken as given; only when there is none is the reference looked up.
            if (!string.IsNullOrWhiteSpace(notification.Destination)) address = notification.Destination.Trim();
            else if (string.IsNullOrWhiteSpace(notification.DestinationRef))
                return Resolution.Failed($"{notification.Channel.ToWire()} notification has neither destination nor destinationRef");
            else if (!LooksLikeKey(notification.DestinationRef)) return Resolution.Failed(NotAKey("destinationRef"));
            else if (Lookup(notification.DestinationRef) is { } value) address = value;
            else return Resolution.Failed($"destinationRef '{notification.DestinationRef}' is not set in configuration");
        }

        string? secret = null;
        if (needs.HasFlag(DestinationNeeds.Secret))
        {
            if (string.IsNullOrWhiteSpace(notification.SecretRef)) return Resolution.Failed("webhook needs secretRef");
            if (!LooksLikeKey(notification.SecretRef)) return Resolution.Failed(NotAKey("secretRef"));
            secret = Lookup(notification.SecretRef);
            if (secret is null) return Resolution.Failed($"secretRef '{notification.SecretRef}' is not set in configuration");
        }

        return address is null && secret is null
            ? Resolution.Resolved(ResolvedDestination.None)
            : Resolution.Resolved(new ResolvedDestination(address, secret));
    }

    /// <summary>
    /// Configuration keys are names like <c>SLACK_ONCALL_URL</c> or <c>Hooks:Oncall</c>. Anything else (a URL, a token)
    /// is most likely the secret itself pasted into the reference, so errors must not repeat it.
    /// </summary>
    internal static bool LooksLikeKey(string reference) =>
        reference.Length <= 256 && reference.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');

    private static string NotAKey(string field) =>
        $"{field} is not a configuration key name (letters, digits, '_', '-', '.', ':'); it is not repeated here in case it is the secret itself";

    /// <summary>A configured value, trimmed (an environment variable often ends in a newline), or null when unset or blank.</summary>
    public string? Lookup(string key)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}

internal readonly record struct Resolution(ResolvedDestination? Destination, string? Error)
{
    public static Resolution Resolved(ResolvedDestination destination) => new(destination, null);
    public static Resolution Failed(string error) => new(null, error);
}
