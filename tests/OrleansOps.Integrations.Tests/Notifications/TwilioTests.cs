using System.Text;
using System.Web;
using System.Xml.Linq;
using OrleansOps.Integrations.Notifications;
using WireMock.ResponseBuilders;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.Integrations.Tests.Notifications;

public sealed class TwilioTests
{
    private const string AccountSid = "AC0123456789abcdef0123456789abcdef";
    private static readonly string AuthToken = "twilio-token-" + Guid.NewGuid().ToString("N");
    private const string From = "+15550001111";
    private const string To = "+4915112345678";

    private static Dictionary<string, string?> Settings(HttpStub stub) => new()
    {
        ["OrleansOps:Notifications:Twilio:AccountSid"] = AccountSid,
        ["OrleansOps:Notifications:Twilio:AuthTokenRef"] = "TWILIO_AUTH_TOKEN",
        ["TWILIO_AUTH_TOKEN"] = AuthToken,
        ["OrleansOps:Notifications:Twilio:From"] = From,
        ["OrleansOps:Notifications:Twilio:BaseUrl"] = stub.Url + "/2010-04-01",
    };

    [Fact]
    public async Task Sms_posts_the_form_to_messages_with_basic_auth()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Messages.json").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"sid":"SM1","status":"queued"}"""));
        using var harness = new NotificationHarness(Settings(stub));

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Sms, To));

        Assert.True(report.Delivered, report.Error);
        var request = stub.SingleRequest();
        Assert.StartsWith("application/x-www-form-urlencoded", request.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal(ExpectedBasicAuth(), request.Header("Authorization"));
        var form = HttpUtility.ParseQueryString(request.Body!);
        Assert.Equal(new string?[] { "To", "From", "Body" }, form.AllKeys);
        Assert.Equal(To, form["To"]);
        Assert.Equal(From, form["From"]);
        Assert.Equal("[SEV1] ehr-api down\nService: ehr-api\np99 above 2s on ehr-api\nhttps://ops.example.com/incidents/inc-7f3a", form["Body"]);
    }

    [Fact]
    public void Sms_body_stays_within_1600_characters_and_keeps_the_link()
    {
        var body = SmsChannel.Body(Notifications.For(ChannelKind.Sms, To) with { Text = new string('x', 5000) + "😀" });

        Assert.True(body.Length <= SmsChannel.MaxBodyLength, $"{body.Length} characters");
        Assert.EndsWith("…\nhttps://ops.example.com/incidents/inc-7f3a", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Voice_posts_escaped_twiml_to_calls()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Calls.json").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(201).WithBody("""{"sid":"CA1"}"""));
        using var harness = new NotificationHarness(Settings(stub));
        var notification = Notifications.For(ChannelKind.Voice, To) with { Text = "disk </Say><Dial>+19005550000</Dial> & more" };

        var report = await harness.SendAsync(notification);

        Assert.True(report.Delivered, report.Error);
        var request = stub.SingleRequest();
        Assert.Equal(ExpectedBasicAuth(), request.Header("Authorization"));
        var form = HttpUtility.ParseQueryString(request.Body!);
        Assert.Equal(new string?[] { "To", "From", "Twiml" }, form.AllKeys);
        Assert.Equal(To, form["To"]);
        Assert.Equal(From, form["From"]);
        Assert.StartsWith("<Response><Say>", form["Twiml"], StringComparison.Ordinal);
        // Parsed as TwiML: one <Say>, and the injected verbs are only words inside it.
        var response = XElement.Parse(form["Twiml"]!);
        Assert.Equal("Response", response.Name.LocalName);
        var say = Assert.Single(response.Elements());
        Assert.Equal("Say", say.Name.LocalName);
        Assert.Empty(say.Elements());
        Assert.Equal(
            "OrleansOps alert. Severity 1, triggered. Service ehr-api. ehr-api down. disk </Say><Dial>+19005550000</Dial> & more",
            say.Value);
    }

    [Fact]
    public async Task Twilio_error_code_is_reported_without_its_message()
    {
        using var stub = new HttpStub();
        stub.Server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(400)
            .WithBody($$"""{"code":21211,"message":"The 'To' number {{To}} is not a valid phone number.","status":400}"""));
        using var harness = new NotificationHarness(Settings(stub));

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Sms, To));

        Assert.False(report.Delivered);
        Assert.Equal("HTTP 400 (Twilio error 21211)", Assert.Single(report.Attempts).Outcome);
        Assert.DoesNotContain(To, report.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OrleansOps:Notifications:Twilio:AccountSid", "OrleansOps:Notifications:Twilio:AccountSid is not set")]
    [InlineData("OrleansOps:Notifications:Twilio:From", "OrleansOps:Notifications:Twilio:From is not set")]
    [InlineData("TWILIO_AUTH_TOKEN", "OrleansOps:Notifications:Twilio:AuthTokenRef names 'TWILIO_AUTH_TOKEN', which is not set")]
    public async Task Missing_twilio_settings_fail_without_a_request(string missing, string error)
    {
        using var stub = new HttpStub();
        var settings = Settings(stub);
        settings[missing] = null;
        using var harness = new NotificationHarness(settings);

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Sms, To));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Contains(error, report.Error, StringComparison.Ordinal);
        Assert.Empty(stub.Server.LogEntries);
    }

    [Theory]
    [InlineData("015112345678")]
    [InlineData("+49 151 1234")]
    [InlineData("ana@example.com")]
    public async Task A_destination_that_is_not_e164_fails_without_a_request(string destination)
    {
        using var stub = new HttpStub();
        using var harness = new NotificationHarness(Settings(stub));

        var report = await harness.SendAsync(Notifications.For(ChannelKind.Voice, destination));

        Assert.False(report.Delivered);
        Assert.Empty(report.Attempts);
        Assert.Equal("voice destination is not a phone number in E.164 form", report.Error);
        Assert.Empty(stub.Server.LogEntries);
    }

    private static string ExpectedBasicAuth() => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"));
}
