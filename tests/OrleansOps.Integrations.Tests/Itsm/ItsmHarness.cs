using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OrleansOps.Integrations.Itsm;
using OrleansOps.Integrations.Tests.Notifications;

namespace OrleansOps.Integrations.Tests.Itsm;

/// <summary>Ticket clients wired as a host wires them (AddItsmHttpClients, credentials by configuration key) against a stub.</summary>
internal sealed class ItsmHarness : IDisposable
{
    public const string SnUser = "svc.orleansops";
    public static readonly string SnPassword = "sn-pass-" + Guid.NewGuid().ToString("N"); // made up per run: a leak check looks for it
    public const string JiraEmail = "ops-bot@acme.example";
    public static readonly string JiraToken = "jira-token-" + Guid.NewGuid().ToString("N");
    public const string SysId = "46d44a5dc0a8010e000e5f0d54b0d3a1";
    public const string GroupSysId = "8a5055c9c61122780043563ef53438e3";

    private readonly ServiceProvider _services;

    public ItsmHarness(Dictionary<string, string?>? configuration = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["SN_USER"] = SnUser,
            ["SN_PASSWORD"] = SnPassword + "\n",
            ["JIRA_EMAIL"] = JiraEmail,
            ["JIRA_TOKEN"] = JiraToken,
        };
        foreach (var (key, value) in configuration ?? []) values[key] = value;
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        _services = new ServiceCollection().AddItsmHttpClients().BuildServiceProvider();
    }

    public HttpStub Stub { get; } = new();
    public IConfiguration Configuration { get; }
    public IHttpClientFactory Http => _services.GetRequiredService<IHttpClientFactory>();

    public ServiceNowSettings ServiceNowSettings => new()
    {
        InstanceUrl = Stub.Url + "/",
        UsernameRef = "SN_USER",
        PasswordRef = "SN_PASSWORD",
        AssignmentGroup = GroupSysId,
    };

    public JiraSettings JiraSettings => new()
    {
        SiteUrl = Stub.Url,
        EmailRef = "JIRA_EMAIL",
        ApiTokenRef = "JIRA_TOKEN",
        ProjectKey = "OPS",
        AcknowledgedTransition = "21",
        ResolvedTransition = "31",
    };

    public ITicketClient ServiceNow(ServiceNowSettings? settings = null, TimeSpan? callTimeout = null) =>
        TicketClients.ServiceNow(settings ?? ServiceNowSettings, Configuration, Http, TimeProvider.System, callTimeout);

    public ITicketClient Jira(JiraSettings? settings = null, TimeSpan? callTimeout = null) =>
        TicketClients.Jira(settings ?? JiraSettings, Configuration, Http, TimeProvider.System, callTimeout);

    public ITicketClient Client(TicketSystem system, TimeSpan? callTimeout = null) =>
        system == TicketSystem.ServiceNow ? ServiceNow(callTimeout: callTimeout) : Jira(callTimeout: callTimeout);

    public static TicketRef SnTicket => new(TicketSystem.ServiceNow, SysId, "INC0010001");
    public static TicketRef JiraTicket => new(TicketSystem.Jira, "10001", "OPS-1");
    public static TicketRef Ticket(TicketSystem system) => system == TicketSystem.ServiceNow ? SnTicket : JiraTicket;

    public static TicketDraft Draft => new("inc-7f3a", "ehr-api down", "p99 above 2s on ehr-api\nsince 10:00 UTC", Severity.Sev1,
        "https://ops.example.com/incidents/inc-7f3a");

    public static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    public void Dispose()
    {
        Stub.Dispose();
        _services.Dispose();
    }
}

internal static class StubRequests
{
    public static JsonElement Json(this WireMock.IRequestMessage request)
    {
        using var document = JsonDocument.Parse(request.Body!);
        return document.RootElement.Clone();
    }

    /// <summary>A query parameter decoded from the URL as sent (WireMock's own Query splits values at commas).</summary>
    public static string Query(this WireMock.IRequestMessage request, string name) =>
        Assert.Single(System.Web.HttpUtility.ParseQueryString(new Uri(request.Url).Query).GetValues(name) ?? []);

    public static IReadOnlyList<string> Names(this JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    /// <summary>The JSON compacted, so that a test can compare a whole structure to its literal.</summary>
    public static string Compact(this JsonElement element) => JsonSerializer.Serialize(element);
}
