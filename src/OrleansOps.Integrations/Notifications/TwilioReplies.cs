using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Acting on a page from the phone: an SMS reply (<c>ACK 4821</c>, <c>RES 4821</c>, <c>ESC 4821</c>) and a keypress during
/// the call (1 acknowledges, 2 escalates). Twilio posts both to this server, signed with the account's auth token:
/// <c>X-Twilio-Signature</c> is the Base64 HMAC-SHA1 of the full URL Twilio called followed by each form field's name
/// and value, sorted by name.
/// </summary>
public static partial class TwilioReplies
{
    public const string SignatureHeader = "X-Twilio-Signature";
    /// <summary>Where Twilio posts a reply to a page (the number's "A message comes in" webhook).</summary>
    public const string SmsPath = "/api/v1/integrations/twilio/sms";
    /// <summary>Where a call's keypress is posted (the Gather verb's action).</summary>
    public const string VoicePath = "/api/v1/integrations/twilio/voice";

    public const string Acknowledge = "ACK";
    public const string Resolve = "RES";
    public const string Escalate = "ESC";

    /// <summary>
    /// An incident's short code, the same on every page of it: four digits, easy to type on a phone. Codes of two
    /// incidents can coincide; a reply names the person's open incident with that code, and asks again if there are two.
    /// </summary>
    public static string Code(string incidentId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(incidentId));
        return (1000 + BitConverter.ToUInt32(hash, 0) % 9000).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The reply's action (<see cref="Acknowledge"/>, <see cref="Resolve"/> or <see cref="Escalate"/>) and code, or null when it is neither.</summary>
    public static (string Action, string Code)? ParseReply(string? body) =>
        body is not null && Reply().Match(body) is { Success: true } match
            ? (match.Groups[1].Value.ToUpperInvariant() switch { "ACK" or "A" => Acknowledge, "RES" or "R" => Resolve, _ => Escalate }, match.Groups[2].Value)
            : null;

    [GeneratedRegex(@"^\s*(ACK|RES|ESC|A|R|E)\s*([0-9]{4})\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Reply();

    /// <summary>The <c>X-Twilio-Signature</c> of a request to <paramref name="url"/> with <paramref name="form"/>.</summary>
    public static string Sign(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in form.OrderBy(p => p.Key, StringComparer.Ordinal)) data.Append(name).Append(value);
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    /// <summary>Whether the request is Twilio's: <paramref name="signature"/> is the auth token's over the URL and the form, compared in constant time.</summary>
    public static bool Verify(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form, string? signature)
    {
        if (string.IsNullOrEmpty(signature)) return false;
        var expected = Encoding.ASCII.GetBytes(Sign(authToken, url, form));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    /// <summary>TwiML that answers an SMS with <paramref name="text"/>.</summary>
    public static string Message(string text) => $"<Response><Message>{SecurityElement.Escape(text)}</Message></Response>";

    /// <summary>TwiML that says <paramref name="text"/> and hangs up.</summary>
    public static string Say(string text) => $"<Response><Say>{SecurityElement.Escape(text)}</Say></Response>";

    /// <summary>What an SMS page adds when replies reach this server.</summary>
    internal static string SmsInstruction(string incidentId)
    {
        var code = Code(incidentId);
        return $"Reply ACK {code} to acknowledge, RES {code} to resolve, ESC {code} to escalate.";
    }

    /// <summary>TwiML that reads <paramref name="spoken"/> and waits for one key, posted to <paramref name="gatherUrl"/>.</summary>
    internal static string Gather(string spoken, string gatherUrl) =>
        $"<Response><Gather numDigits=\"1\" timeout=\"10\" method=\"POST\" action=\"{SecurityElement.Escape(gatherUrl)}\">" +
        $"<Say>{SecurityElement.Escape(spoken)} Press 1 to acknowledge, or 2 to escalate.</Say></Gather><Say>No key was pressed. Goodbye.</Say></Response>";
}
