using System.Security;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrleansOps.Integrations.Notifications;

/// <summary>Twilio SMS: <c>POST {BaseUrl}/Accounts/{AccountSid}/Messages.json</c> with <c>To</c>, <c>From</c>, <c>Body</c>.</summary>
internal sealed class SmsChannel(TwilioApi twilio, bool replies = false) : INotificationChannel
{
    /// <summary>Twilio's limit for one message's body; longer bodies are refused (error 21617).</summary>
    public const int MaxBodyLength = 1600;

    public ChannelKind Kind => ChannelKind.Sms;
    public DestinationNeeds Needs => DestinationNeeds.Address;

    public string? Check(Notification notification, ResolvedDestination destination) => twilio.Check(Kind, destination);

    public Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken) =>
        twilio.PostAsync("Messages.json", destination, "Body", Body(notification, replies), cancellationToken);

    /// <summary>
    /// "[SEV1] title", the service, the text, the link, and with <paramref name="replies"/> how to reply while the incident
    /// is open; the text gives way first when it does not all fit.
    /// </summary>
    internal static string Body(Notification n, bool replies = false)
    {
        var link = NotificationText.IncidentLink(n) is { Length: < 300 } url ? "\n" + url : "";
        if (replies && n.Status != IncidentStatus.Resolved) link += "\n" + TwilioReplies.SmsInstruction(n.IncidentId);
        var message = $"{NotificationText.Headline(n)}\nService: {NotificationText.OneLine(n.Service)}";
        if (!string.IsNullOrWhiteSpace(n.Text)) message += "\n" + n.Text.Trim();
        return NotificationText.Truncate(message, MaxBodyLength - link.Length) + link;
    }
}

/// <summary>
/// Twilio voice: <c>POST {BaseUrl}/Accounts/{AccountSid}/Calls.json</c> with <c>To</c>, <c>From</c> and inline
/// <c>Twiml</c> that reads the alert out.
/// </summary>
internal sealed class VoiceChannel(TwilioApi twilio, string? gatherUrl = null) : INotificationChannel
{
    /// <summary>
    /// How much is read out: a call is for waking someone, the details are in the incident. Also Twilio takes at most
    /// 4,000 characters of TwiML, and escaping can make one character six.
    /// </summary>
    private const int SpokenLimit = 640;

    public ChannelKind Kind => ChannelKind.Voice;
    public DestinationNeeds Needs => DestinationNeeds.Address;

    public string? Check(Notification notification, ResolvedDestination destination) => twilio.Check(Kind, destination);

    public Task<ChannelResult> SendAsync(Notification notification, ResolvedDestination destination, CancellationToken cancellationToken) =>
        twilio.PostAsync("Calls.json", destination, "Twiml", Twiml(notification, gatherUrl), cancellationToken);

    /// <summary>The call reads the alert out; with <paramref name="gatherUrl"/>, while the incident is open, it then waits for 1 (acknowledge) or 2 (escalate).</summary>
    internal static string Twiml(Notification n, string? gatherUrl = null)
    {
        var spoken = $"OrleansOps alert. Severity {(int)n.Severity}, {NotificationText.StatusLabel(n).ToLowerInvariant()}. " +
                     $"Service {NotificationText.OneLine(n.Service)}. {NotificationText.OneLine(n.Title)}.";
        if (!string.IsNullOrWhiteSpace(n.Text)) spoken += " " + NotificationText.OneLine(n.Text);
        // The text is untrusted: escaped, it cannot close <Say> and add verbs such as <Dial> or <Redirect>.
        if (gatherUrl is not null && n.Status != IncidentStatus.Resolved)
            return TwilioReplies.Gather(NotificationText.Truncate(spoken, SpokenLimit), $"{gatherUrl}?incident={Uri.EscapeDataString(n.IncidentId)}");
        return $"<Response><Say>{SecurityElement.Escape(NotificationText.Truncate(spoken, SpokenLimit))}</Say></Response>";
    }
}

/// <summary>What SMS and voice share: the account settings, the auth token lookup, and the form POST.</summary>
internal sealed partial class TwilioApi(TwilioSettings settings, DestinationResolver resolver, IHttpClientFactory clients, TimeProvider time)
{
    private const string Section = NotificationServiceCollectionExtensions.Section + ":Twilio";

    public string? Check(ChannelKind kind, ResolvedDestination destination)
    {
        if (string.IsNullOrWhiteSpace(settings.AccountSid)) return $"Twilio is not configured: {Section}:AccountSid is not set";
        if (string.IsNullOrWhiteSpace(settings.From)) return $"Twilio is not configured: {Section}:From is not set";
        if (AuthTokenProblem() is { } problem) return problem;
        return E164().IsMatch(destination.Address ?? "") ? null : $"{kind.ToWire()} destination is not a phone number in E.164 form";
    }

    /// <summary>Posts <c>To</c>, <c>From</c> and the resource's own field (<c>Body</c> or <c>Twiml</c>), form-encoded.</summary>
    public async Task<ChannelResult> PostAsync(
        string resource, ResolvedDestination destination, string field, string value, CancellationToken cancellationToken)
    {
        var accountSid = settings.AccountSid!.Trim();
        var url = $"{settings.BaseUrl.TrimEnd('/')}/Accounts/{Uri.EscapeDataString(accountSid)}/{resource}";
        var form = new FormUrlEncodedContent(
        [
            new("To", destination.RequireAddress()),
            new("From", settings.From!.Trim()),
            new(field, value),
        ]);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
        request.Headers.Authorization = HttpDelivery.BasicAuth(accountSid, AuthToken()!);
        return await HttpDelivery.SendAsync(clients.CreateClient(NotificationHttpClients.Twilio), request, time, DescribeError, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Looked up per send, so that a rotated token is picked up without a restart.</summary>
    private string? AuthToken() =>
        !string.IsNullOrWhiteSpace(settings.AuthTokenRef) ? resolver.Lookup(settings.AuthTokenRef)
        : string.IsNullOrWhiteSpace(settings.AuthToken) ? null : settings.AuthToken.Trim();

    private string? AuthTokenProblem()
    {
        if (!string.IsNullOrWhiteSpace(settings.AuthTokenRef))
            return AuthToken() is null ? $"Twilio is not configured: {Section}:AuthTokenRef names '{settings.AuthTokenRef}', which is not set" : null;
        return AuthToken() is null ? $"Twilio is not configured: {Section}:AuthToken or {Section}:AuthTokenRef is not set" : null;
    }

    /// <summary>Twilio's error body is <c>{"code":21211,"message":"…"}</c>; only the code is kept, the message may quote the number.</summary>
    private static string? DescribeError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                   document.RootElement.TryGetProperty("code", out var code) && code.TryGetInt32(out var number)
                ? $"Twilio error {number}"
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\+[1-9][0-9]{1,14}$")]
    private static partial Regex E164();
}
