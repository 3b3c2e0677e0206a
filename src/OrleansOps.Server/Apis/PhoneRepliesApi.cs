using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Acting on a page from the phone, through Twilio: a reply to an SMS page (<c>ACK 4821</c>, <c>RES 4821</c>,
/// <c>ESC 4821</c>) and a key pressed during a call (1 acknowledges, 2 escalates). Twilio's signature, made with the
/// auth token over the URL it called (under <c>OrleansOps:Notifications:PublicUrl</c>) and the form, proves each
/// request; the phone number must be a contact of one of the incident's account's users, who acts "via sms" or "via voice".
/// </summary>
public static class PhoneRepliesApi
{
    private const long MaxFormBytes = 64 * 1024;
    private const string TwiML = "text/xml";

    public static IEndpointRouteBuilder MapPhoneRepliesApi(this IEndpointRouteBuilder app)
    {
        var twilio = app.MapGroup("").WithTags("Twilio").DisableAntiforgery()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        twilio.MapPost(TwilioReplies.SmsPath, ReplyBySms)
            .WithSummary("Twilio's incoming SMS webhook: a reply to a page, ACK, RES or ESC and the incident's code (signed with the Twilio auth token)")
            .Produces<string>(StatusCodes.Status200OK, TwiML);
        twilio.MapPost(TwilioReplies.VoicePath, ReplyByKeypress)
            .WithSummary("A key pressed during a page's call: 1 acknowledges, 2 escalates (Twilio's Gather action, signed with the Twilio auth token)")
            .Produces<string>(StatusCodes.Status200OK, TwiML);
        return app;
    }

    private static async Task<IResult> ReplyBySms(HttpRequest request, IOptions<NotificationOptions> options, IConfiguration configuration, IGrainFactory grains)
    {
        var (form, refused) = await ReadSignedAsync(request, options.Value, configuration);
        if (refused is not null) return refused;
        var from = form!.GetValueOrDefault("From");
        if (TwilioReplies.ParseReply(form!.GetValueOrDefault("Body")) is not var (action, code))
            return Answer(TwilioReplies.Message("Nothing was changed. Reply ACK, RES or ESC and the code the page gave, as in ACK 4821."));

        var matches = new List<(IIncidentGrain Incident, UserDefinition User)>();
        foreach (var accountId in await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List())
        {
            var account = grains.GetGrain<IAccountGrain>(accountId);
            if (await account.GetConfig() is not { } config || UserReachedAt(config, from, ChannelKind.Sms) is not { } user) continue;
            foreach (var incident in (await account.ListIncidents(IncidentStatusFilter.Open, null, 500)).Items.Where(i => TwilioReplies.Code(i.Id) == code))
                matches.Add((grains.GetGrain<IIncidentGrain>(incident.Id), user));
        }
        if (matches.Count == 0) return Answer(TwilioReplies.Message($"Nothing was changed: no open incident of yours has the code {code}."));
        if (matches.Count > 1) return Answer(TwilioReplies.Message($"Nothing was changed: {matches.Count} open incidents of yours have the code {code}. Use the page's link."));

        var (target, by) = matches[0];
        var actor = $"{by.Id} via sms";
        var result = action switch
        {
            TwilioReplies.Acknowledge => await target.Acknowledge(actor),
            TwilioReplies.Resolve => await target.Resolve(actor, "Resolved by SMS"),
            _ => await target.Escalate(actor),
        };
        var title = result.Incident?.Summary.Title ?? "";
        var done = action switch { TwilioReplies.Acknowledge => "Acknowledged", TwilioReplies.Resolve => "Resolved", _ => "Escalated" };
        return Answer(TwilioReplies.Message(result.Outcome == CommandOutcome.Applied
            ? $"{done}: {title} ({target.GetPrimaryKeyString()}), as {by.Name ?? by.Id}."
            : $"Nothing was changed: {result.Message ?? $"{title} is {result.Incident?.Summary.Status.ToString().ToLowerInvariant() ?? "gone"} already."}"));
    }

    private static async Task<IResult> ReplyByKeypress(string? incident, HttpRequest request, IOptions<NotificationOptions> options, IConfiguration configuration, IGrainFactory grains)
    {
        var (form, refused) = await ReadSignedAsync(request, options.Value, configuration);
        if (refused is not null) return refused;
        // An outbound call: Twilio's To is the person called.
        var called = form!.GetValueOrDefault("To");
        var digits = form!.GetValueOrDefault("Digits");
        if (incident is null || !Ids.IsIncidentId(incident)) return Answer(TwilioReplies.Say("Nothing was changed. Goodbye."));
        var target = grains.GetGrain<IIncidentGrain>(incident);
        if (await target.Describe() is not { } view
            || await grains.GetGrain<IAccountGrain>(view.Summary.AccountId).GetConfig() is not { } config
            || UserReachedAt(config, called, ChannelKind.Voice) is not { } user)
            return Answer(TwilioReplies.Say("Nothing was changed. Goodbye."));
        var actor = $"{user.Id} via voice";
        var result = digits switch
        {
            "1" => await target.Acknowledge(actor),
            "2" => await target.Escalate(actor),
            _ => null,
        };
        if (result is null) return Answer(TwilioReplies.Say("That key does nothing. Nothing was changed. Goodbye."));
        return Answer(TwilioReplies.Say(result.Outcome == CommandOutcome.Applied
            ? $"{(digits == "1" ? "Acknowledged" : "Escalated to the next level")}. Goodbye."
            : "Nothing was changed: the incident was acknowledged or resolved already. Goodbye."));
    }

    /// <summary>The account's user one of whose contacts of <paramref name="kind"/> (or the other phone kind) is <paramref name="phone"/>.</summary>
    private static UserDefinition? UserReachedAt(AccountConfig config, string? phone, ChannelKind kind) =>
        string.IsNullOrEmpty(phone) ? null
        : config.OnCall.Users.FirstOrDefault(u => u.Contacts.Any(c => c.Kind == kind && c.Address == phone))
          ?? config.OnCall.Users.FirstOrDefault(u => u.Contacts.Any(c => c.Kind is ChannelKind.Sms or ChannelKind.Voice && c.Address == phone));

    /// <summary>The posted form, once Twilio's signature over this server's public URL and the form holds.</summary>
    private static async Task<(Dictionary<string, string>? Form, IResult? Refused)> ReadSignedAsync(HttpRequest request, NotificationOptions options, IConfiguration configuration)
    {
        if (options.Twilio.Token(configuration) is not { } token || options.PublicUrl is not { } publicUrl)
            return (null, Problems.NotFound("Replies by phone are not configured on this server: set OrleansOps:Notifications:Twilio:AuthTokenRef and OrleansOps:Notifications:PublicUrl."));
        var (bytes, tooLarge) = await RequestBodies.ReadAsync(request, MaxFormBytes, request.HttpContext.RequestAborted);
        if (tooLarge is not null) return (null, tooLarge);
        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(bytes!)).ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var url = publicUrl.TrimEnd('/') + request.Path + request.QueryString;
        return TwilioReplies.Verify(token, url, form, request.Headers[TwilioReplies.SignatureHeader])
            ? (form, null)
            : (null, Problems.Unauthorized($"The request is not signed with this server's Twilio auth token for {url}."));
    }

    private static IResult Answer(string twiml) => TypedResults.Text(twiml, TwiML, Encoding.UTF8);
}
