using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// One-click links in an e-mail page: <c>{PublicUrl}/act/{token}</c>, where the token says which incident, which person,
/// which action and until when, and carries the server's HMAC-SHA256 of all that, so that nobody can make one or
/// change it. Opening a link only shows a confirmation page; the action is its form's POST, so a mail scanner or a
/// link preview that fetches every link acts on nothing. Each link works once.
/// </summary>
public static class ActionLinks
{
    public const string PathPrefix = "/act/";
    /// <summary>How long a link works after its page was sent: a night's on-call shift and then some.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    public const string Acknowledge = "acknowledge";
    public const string Resolve = "resolve";

    /// <summary>What a link may do: <see cref="Action"/> on <see cref="IncidentId"/> as <see cref="UserId"/> until <see cref="Expires"/>; <see cref="Nonce"/> tells links apart.</summary>
    public sealed record Claim(string IncidentId, string UserId, string Action, DateTimeOffset Expires, string Nonce);

    /// <summary>The link's token: the claim and its MAC, each Base64url.</summary>
    public static string Create(string secret, Claim claim)
    {
        var payload = Encoding.UTF8.GetBytes(string.Join('\n', "v1", claim.IncidentId, claim.UserId, claim.Action,
            claim.Expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), claim.Nonce));
        return Base64Url(payload) + "." + Base64Url(HMACSHA256.HashData(Key(secret), payload));
    }

    /// <summary>The claim a token carries when the server made it (its MAC holds), expired or not; null otherwise.</summary>
    public static Claim? Read(string secret, string token)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0 || FromBase64Url(token[..dot]) is not { } payload || FromBase64Url(token[(dot + 1)..]) is not { } mac
            || !CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(Key(secret), payload)))
            return null;
        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts is not ["v1", var incident, var user, var action, var expires, var nonce]
            || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) || action is not (Acknowledge or Resolve))
            return null;
        return new Claim(incident, user, action, DateTimeOffset.FromUnixTimeSeconds(unix), nonce);
    }

    /// <summary>
    /// The links of an e-mail page to a user while its incident is open (none to a stakeholder, who is no user of the
    /// account, nor once resolved): each action's label and URL. The nonce comes from the page's key, so the page sent
    /// again carries the same links.
    /// </summary>
    internal static IReadOnlyList<(string Label, string Url)> For(Notification n, string secret, string publicUrl)
    {
        if (n.Status == IncidentStatus.Resolved || !n.Key.Contains($"/user:{n.Recipient}/", StringComparison.Ordinal)) return [];
        var expires = n.CreatedAt + Lifetime;
        return [Link("Acknowledge", Acknowledge), Link("Resolve", Resolve)];

        (string, string) Link(string label, string action)
        {
            var nonce = Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(n.Key + "\n" + action)))[..22];
            return (label, publicUrl.TrimEnd('/') + PathPrefix + Create(secret, new Claim(n.IncidentId, n.Recipient, action, expires, nonce)));
        }
    }

    // The configured text is the key material; hashing it gives HMAC a key of its natural size whatever its length.
    private static byte[] Key(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes("orleansops-action-links\n" + secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        if (text.Length == 0 || text.Length > 2048) return null;
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        try { return Convert.FromBase64String(padded); }
        catch (FormatException) { return null; }
    }
}
