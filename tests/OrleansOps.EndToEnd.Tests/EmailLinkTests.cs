using System.Text.RegularExpressions;
using OrleansOps.Integrations.Notifications;
using OrleansOps.Testing;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// One-click links in an e-mail page, through the real server and a real SMTP server: opening a link changes nothing,
/// its button acts once, and a link that is changed, expired, used or someone else's acts on nothing.
/// </summary>
public sealed class EmailLinkTests : IAsyncLifetime
{
    private const string PublicUrl = "https://ops.e2e.example";
    private static readonly string LinkSecret = "e2e-links-" + Guid.NewGuid().ToString("N");
    private SmtpTestServer _smtp = null!;
    private ServerProcess _server = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpTestServer.StartAsync();
        _server = await ServerProcess.StartAsync(settings:
        [
            $"--E2E_LINK_SECRET={LinkSecret}",
            "--OrleansOps:Notifications:LinkSecretRef=E2E_LINK_SECRET",
            $"--OrleansOps:Notifications:PublicUrl={PublicUrl}/",
            "--OrleansOps:Notifications:Smtp:Host=127.0.0.1",
            $"--OrleansOps:Notifications:Smtp:Port={_smtp.Port}",
            "--OrleansOps:Notifications:Smtp:From=orleansops@e2e.example",
            "--OrleansOps:Notifications:Smtp:StartTls=None",
        ]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
        await _smtp.DisposeAsync();
    }

    private async Task<(int Status, string Html)> OpenAsync(HttpMethod method, string token)
    {
        using var response = await _server.Anonymous.SendAsync(new HttpRequestMessage(method, ActionLinks.PathPrefix + token));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<string> StatusAsync(string incidentId) =>
        (await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}"))["status"]!.GetValue<string>();

    [Fact]
    public async Task An_email_pages_links_show_what_they_would_do_act_only_when_confirmed_and_only_once()
    {
        var account = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var mailbox = $"ana-{account}@e2e.example";
        var (configured, problems) = await Api.PutYamlConfigAsync(_server.Admin, account, $$"""
            id: {{account}}
            name: Email links
            services: [{id: api, escalationPolicy: standard}]
            users:
              - {id: ana, name: Ana Silva, contacts: [{id: work, kind: email, address: "{{mailbox}}"}]}
            escalationPolicies:
              - {id: standard, levels: [{delay: 0m, targets: ["user:ana"]}]}
            integrationKeys: [{name: main, key: {{key}}, defaultService: api}]
            """);
        Assert.True(configured == 201, problems?.ToJsonString());
        var (sent, receipt) = await Api.PostAsync(_server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"ApiDown","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, sent);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();

        var email = await Api.EventuallyAsync(() => Task.FromResult(_smtp.Messages.FirstOrDefault(m => m.To.ToString().Contains(mailbox))), TimeSpan.FromSeconds(20), "the e-mail page");
        string Token(string label) => Regex.Match(email.TextBody ?? "", $@"^{label}: {Regex.Escape(PublicUrl)}/act/(\S+)$", RegexOptions.Multiline).Groups[1].Value;
        var acknowledge = Token("Acknowledge");
        var resolve = Token("Resolve");
        Assert.NotEmpty(acknowledge);
        Assert.Contains($"{PublicUrl}/act/{resolve}", email.HtmlBody);

        // Opened, by a person or a scanner, as often as it likes: a question and a button, nothing done.
        for (var i = 0; i < 2; i++)
        {
            var (opened, page) = await OpenAsync(HttpMethod.Get, acknowledge);
            Assert.Equal(200, opened);
            Assert.Contains($"Acknowledge ApiDown on api ({incidentId}), SEV1, triggered as Ana Silva?", page);
            Assert.Contains("<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>", page);
        }
        Assert.Equal("triggered", await StatusAsync(incidentId));

        // Changed, expired, or naming someone who is not of the account: nothing.
        var tampered = (acknowledge[0] == 'A' ? 'B' : 'A') + acknowledge[1..];
        Assert.Equal(404, (await OpenAsync(HttpMethod.Post, tampered)).Status);
        var expired = ActionLinks.Create(LinkSecret, new ActionLinks.Claim(incidentId, "ana", ActionLinks.Acknowledge, DateTimeOffset.UtcNow.AddMinutes(-1), "expired-link-nonce"));
        var (gone, expiredPage) = await OpenAsync(HttpMethod.Post, expired);
        Assert.Equal(410, gone);
        Assert.Contains("expired at", expiredPage);
        var stranger = ActionLinks.Create(LinkSecret, new ActionLinks.Claim(incidentId, "mallory", ActionLinks.Acknowledge, DateTimeOffset.UtcNow.AddHours(1), "stranger-nonce"));
        Assert.Equal(404, (await OpenAsync(HttpMethod.Post, stranger)).Status);
        Assert.Equal("triggered", await StatusAsync(incidentId));

        // Confirmed: acknowledged as Ana from e-mail; the same link again is refused.
        var (acted, done) = await OpenAsync(HttpMethod.Post, acknowledge);
        Assert.Equal(200, acted);
        Assert.Contains($"Acknowledged ApiDown on api ({incidentId}) as Ana Silva.", done);
        var (again, used) = await OpenAsync(HttpMethod.Post, acknowledge);
        Assert.Equal(410, again);
        Assert.Contains("each link works once", used);
        Assert.Equal(410, (await OpenAsync(HttpMethod.Get, acknowledge)).Status);
        var incident = await Api.GetOkAsync(_server.Admin, $"/api/v1/incidents/{incidentId}");
        Assert.Equal(("acknowledged", "ana via email"), (incident["status"]!.GetValue<string>(), incident["acknowledgedBy"]!.GetValue<string>()));

        Assert.Equal(200, (await OpenAsync(HttpMethod.Post, resolve)).Status);
        Assert.Equal("resolved", await StatusAsync(incidentId));
        var chronicle = await Api.GetAllAsync(_server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        Assert.Equal(["ana via email", "ana via email"], chronicle
            .Where(e => e!["kind"]!.GetValue<string>() is "incident.acknowledged" or "incident.resolved").Select(e => e!["actor"]!.GetValue<string>()));
    }
}
