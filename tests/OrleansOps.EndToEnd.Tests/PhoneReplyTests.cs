using System.Text;
using System.Text.Json.Nodes;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// Acting on a page from the phone through the real server: an SMS reply with the incident's code, and a key pressed
/// during the call, each posted as Twilio posts them (form-encoded, signed with the auth token over the public URL).
/// </summary>
public sealed class PhoneReplyTests : IAsyncLifetime
{
    private const string PublicUrl = "https://ops.e2e.example";
    private const string TwilioSid = "ACe2e0000000000000000000000000001";
    private const string OurNumber = "+15550001111";
    private static readonly string TwilioToken = "e2e-twilio-" + Guid.NewGuid().ToString("N");
    private LoopbackReceiver _twilio = null!;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _twilio = LoopbackReceiver.Start();
        _server = await ServerProcess.StartAsync(settings:
        [
            $"--E2E_TWILIO_TOKEN={TwilioToken}",
            $"--OrleansOps:Notifications:Twilio:AccountSid={TwilioSid}",
            "--OrleansOps:Notifications:Twilio:AuthTokenRef=E2E_TWILIO_TOKEN",
            $"--OrleansOps:Notifications:Twilio:From={OurNumber}",
            $"--OrleansOps:Notifications:Twilio:BaseUrl={_twilio.Url}2010-04-01",
            "--OrleansOps:Notifications:MaxAttempts=1",
            $"--OrleansOps:Notifications:PublicUrl={PublicUrl}/",
        ]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
        _twilio.Dispose();
    }

    /// <summary>Posts <paramref name="form"/> as Twilio does to <paramref name="pathAndQuery"/>, signed with <paramref name="token"/>; the TwiML answer.</summary>
    private async Task<(int Status, string Body)> PostAsTwilioAsync(string pathAndQuery, Dictionary<string, string> form, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add(TwilioReplies.SignatureHeader, TwilioReplies.Sign(token ?? TwilioToken, PublicUrl + pathAndQuery, form));
        using var response = await _server.Anonymous.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<(int Status, string Body)> SmsAsync(string from, string body, string? token = null) =>
        PostAsTwilioAsync(TwilioReplies.SmsPath, new() { ["MessageSid"] = "SM" + Guid.NewGuid().ToString("N"), ["AccountSid"] = TwilioSid, ["From"] = from, ["To"] = OurNumber, ["Body"] = body }, token);

    [Fact]
    public async Task A_page_is_acknowledged_by_an_sms_reply_and_escalated_by_a_key_pressed_during_the_call_each_once_and_only_by_its_people()
    {
        var account = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var (configured, problems) = await Api.PutYamlConfigAsync(_server.Admin, account, $$"""
            id: {{account}}
            name: Phone replies
            services: [{id: api, escalationPolicy: standard}]
            users:
              - {id: ana, name: Ana Silva, contacts: [{id: mobile, kind: sms, address: "+15551230001"}]}
              - {id: ben, contacts: [{id: phone, kind: voice, address: "+15551230002"}]}
            escalationPolicies:
              - {id: standard, levels: [{delay: 0m, targets: ["user:ana", "user:ben"]}, {delay: 1h, targets: ["user:ana"]}]}
            integrationKeys: [{name: main, key: {{key}}, defaultService: api}]
            """);
        Assert.True(configured == 201, problems?.ToJsonString());
        var (sent, receipt) = await Api.PostAsync(_server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"ApiDown","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, sent);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        var code = TwilioReplies.Code(incidentId);

        // The SMS page says how to reply; the call waits for a key, posted back to this server.
        var sms = await Api.EventuallyAsync(() => Task.FromResult(_twilio.Requests.FirstOrDefault(r => r.Path.EndsWith("/Messages.json"))), TimeSpan.FromSeconds(20), "the SMS page");
        Assert.Contains($"Reply ACK {code} to acknowledge, RES {code} to resolve, ESC {code} to escalate.", System.Web.HttpUtility.ParseQueryString(sms.Body)["Body"]);
        var call = await Api.EventuallyAsync(() => Task.FromResult(_twilio.Requests.FirstOrDefault(r => r.Path.EndsWith("/Calls.json"))), TimeSpan.FromSeconds(20), "the call");
        var twiml = System.Web.HttpUtility.ParseQueryString(call.Body)["Twiml"]!;
        Assert.Contains($"<Gather numDigits=\"1\" timeout=\"10\" method=\"POST\" action=\"{PublicUrl}{TwilioReplies.VoicePath}?incident={incidentId}\">", twiml);
        Assert.Contains("Press 1 to acknowledge, or 2 to escalate.", twiml);

        // Not Twilio's, not a reply, not her number: nothing changes.
        Assert.Equal(401, (await SmsAsync("+15551230001", $"ACK {code}", token: "not-the-token")).Status);
        var (nonsense, what) = await SmsAsync("+15551230001", "on my way");
        Assert.Equal(200, nonsense);
        Assert.Contains("Reply ACK, RES or ESC and the code the page gave", what);
        Assert.Contains($"no open incident of yours has the code {code}", (await SmsAsync("+15559999999", $"ACK {code}")).Body);
        Assert.Equal("triggered", (await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}"))["status"]!.GetValue<string>());

        // Ana replies; her second reply changes nothing.
        var (replied, answer) = await SmsAsync("+15551230001", $"ack {code}");
        Assert.Equal(200, replied);
        Assert.Equal($"<Response><Message>Acknowledged: ApiDown on api ({incidentId}), as Ana Silva.</Message></Response>", answer);
        Assert.Contains("Nothing was changed", (await SmsAsync("+15551230001", $"ACK {code}")).Body);
        var incident = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}");
        Assert.Equal(("acknowledged", "ana via sms"), (incident["status"]!.GetValue<string>(), incident["acknowledgedBy"]!.GetValue<string>()));

        // Ben presses 2 on his call: the next level now. Only the number the call went to counts.
        var keypress = $"{TwilioReplies.VoicePath}?incident={incidentId}";
        Dictionary<string, string> Pressed(string to, string digits) => new() { ["CallSid"] = "CA" + Guid.NewGuid().ToString("N"), ["AccountSid"] = TwilioSid, ["From"] = OurNumber, ["To"] = to, ["Digits"] = digits };
        Assert.Equal(401, (await PostAsTwilioAsync(keypress, Pressed("+15551230002", "2"), token: "not-the-token")).Status);
        Assert.Contains("Nothing was changed", (await PostAsTwilioAsync(keypress, Pressed("+15559999999", "2"))).Body);
        var (pressed, said) = await PostAsTwilioAsync(keypress, Pressed("+15551230002", "2"));
        Assert.Equal(200, pressed);
        Assert.Equal("<Response><Say>Escalated to the next level. Goodbye.</Say></Response>", said);

        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        Assert.Single(chronicle, e => e!["kind"]!.GetValue<string>() == "incident.acknowledged" && e["actor"]!.GetValue<string>() == "ana via sms");
        Assert.Contains(chronicle, e => e!["actor"]!.GetValue<string>() == "ben via voice");
    }
}
