using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Silences over the API and maintenance windows from the configuration, through the real server.</summary>
[Collection(SharedServer.Name)]
public sealed class SuppressionTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    /// <summary>A fresh account with one service and its own key, so counters and silences start empty.</summary>
    private async Task<(string Account, string Key)> NewAccountAsync(string maintenance = "")
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var yaml = $"id: {id}\nname: Suppression test\nservices:\n  - id: web\nintegrationKeys:\n  - name: main\n    key: {id}-key-000000\n    defaultService: web\n{maintenance}";
        var (status, body) = await Api.PutYamlConfigAsync(Server.Admin, id, yaml);
        Assert.True(status == 201, body?.ToJsonString());
        return (id, $"{id}-key-000000");
    }

    private async Task<JsonNode> SendAsync(string key, string alertname, string node = "node-a")
    {
        var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts",
            $$"""{"alerts":[{"labels":{"alertname":"{{alertname}}","node":"{{node}}"},"severity":"P2"}]}""", bearer: key);
        Assert.Equal(202, status);
        return body!["alerts"]![0]!;
    }

    private async Task<JsonArray> OpenIncidentsAsync(string account) =>
        (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents?status=open"))["items"]!.AsArray();

    [Fact]
    public async Task A_silence_holds_matching_alerts_back_lists_them_and_lets_them_through_when_expired()
    {
        var (account, key) = await NewAccountAsync();
        var (created, silence) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/silences", $$"""
            {"matchers":["alertname=~\"Disk.*\"", {"name":"node","value":"node-a"}],
             "endsAt":"{{DateTimeOffset.UtcNow.AddHours(1):O}}","createdBy":"ana","comment":"replacing disks"}
            """);
        Assert.Equal(201, created);
        Assert.Equal("active", silence!["state"]!.GetValue<string>());
        var silenceId = silence["id"]!.GetValue<string>();

        var held = await SendAsync(key, "DiskFull");
        var repeat = await SendAsync(key, "DiskFull");
        var otherNode = await SendAsync(key, "DiskWarn", node: "node-b");
        var notAnchored = await SendAsync(key, "MyDiskFull"); // Disk.* must match the whole value, as in Alertmanager
        var unrelated = await SendAsync(key, "HighLatency");

        Assert.Equal("suppressed", held["outcome"]!.GetValue<string>());
        Assert.Null(held["incidentId"]);
        Assert.Equal(silenceId, held["suppressedBy"]!["name"]!.GetValue<string>());
        Assert.Equal("suppressed", repeat["outcome"]!.GetValue<string>());
        Assert.True(otherNode["openedIncident"]!.GetValue<bool>());
        Assert.True(notAnchored["openedIncident"]!.GetValue<bool>());
        Assert.True(unrelated["openedIncident"]!.GetValue<bool>());
        Assert.Equal(3, (await OpenIncidentsAsync(account)).Count);

        var suppressed = (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/suppressed"))["items"]!.AsArray();
        var disk = Assert.Single(suppressed);
        Assert.Equal("DiskFull", disk!["labels"]!["alertname"]!.GetValue<string>());
        Assert.Equal(2, disk["count"]!.GetValue<int>());
        Assert.Equal("silence", disk["reason"]!["kind"]!.GetValue<string>());
        var counters = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/correlation");
        Assert.Equal(2, counters["total"]!["suppressed"]!.GetValue<int>());
        Assert.Equal(5, counters["total"]!["firingEvents"]!.GetValue<int>());
        Assert.Equal(3, counters["total"]!["incidentsOpened"]!.GetValue<int>());
        Assert.Equal(0.4, counters["total"]!["noiseReduction"]!.GetValue<double>(), 3);

        // Expired early: the held alerts still fire, so they are evaluated again at once and open incidents.
        var (expired, ended) = await Api.SendAsync(Server.Admin, HttpMethod.Delete, $"/api/v1/accounts/{account}/silences/{silenceId}?actor=bob");
        Assert.Equal(200, expired);
        Assert.Equal("expired", ended!["state"]!.GetValue<string>());
        Assert.Equal("bob", ended["expiredBy"]!.GetValue<string>());
        await Api.EventuallyAsync(async () => (await OpenIncidentsAsync(account)).Count == 4 ? (object)true : null,
            TimeSpan.FromSeconds(15), "the released alerts to open their incidents");
        Assert.Empty((await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/suppressed"))["items"]!.AsArray());
        Assert.True((await SendAsync(key, "DiskFull"))["incidentId"] is not null);
        var listed = (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/silences"))["items"]!.AsArray();
        Assert.Equal("expired", Assert.Single(listed)!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_maintenance_window_suppresses_until_its_exact_end_then_still_firing_alerts_open_incidents()
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        var end = DateTimeOffset.UtcNow.AddSeconds(4);
        var (account, key) = await NewAccountAsync($"maintenance:\n  - name: reboot\n    matchers: ['service=\"web\"']\n    start: {start:O}\n    end: {end:O}\n");

        var held = await SendAsync(key, "NodeDown");
        var resolvedMeanwhile = await SendAsync(key, "Flappy");
        var (resolveStatus, _) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts",
            """{"alerts":[{"labels":{"alertname":"Flappy","node":"node-a"},"status":"resolved"}]}""", bearer: key);

        Assert.Equal("suppressed", held["outcome"]!.GetValue<string>());
        Assert.Equal("maintenance", held["suppressedBy"]!["kind"]!.GetValue<string>());
        Assert.Equal(end, held["suppressedBy"]!["until"]!.GetValue<DateTimeOffset>());
        Assert.Equal("suppressed", resolvedMeanwhile["outcome"]!.GetValue<string>());
        Assert.Equal(202, resolveStatus);
        Assert.Empty(await OpenIncidentsAsync(account));

        // The window closes: the alert that still fires opens its incident; the one resolved meanwhile does not.
        var opened = await Api.EventuallyAsync(async () => await OpenIncidentsAsync(account) is { Count: > 0 } items ? items : null,
            TimeSpan.FromSeconds(20), "the window's end to release the held alert");
        Assert.True(DateTimeOffset.UtcNow >= end);
        Assert.StartsWith("NodeDown", Assert.Single(opened)!["title"]!.GetValue<string>());
        Assert.Empty((await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/suppressed"))["items"]!.AsArray());
        var config = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/config");
        Assert.Equal("service=\"web\"", config["maintenance"]![0]!["matchers"]![0]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"endsAt":"2099-01-01T00:00:00Z","createdBy":"a"}""", "matchers")]
    [InlineData("""{"matchers":[],"endsAt":"2099-01-01T00:00:00Z","createdBy":"a"}""", "matchers")]
    [InlineData("""{"matchers":["alertname=~\"(\""],"endsAt":"2099-01-01T00:00:00Z","createdBy":"a"}""", "regular expression")]
    [InlineData("""{"matchers":["a=\"b\""],"createdBy":"a"}""", "endsAt: required")]
    [InlineData("""{"matchers":["a=\"b\""],"endsAt":"2001-01-01T00:00:00Z","createdBy":"a"}""", "endsAt")]
    [InlineData("""{"matchers":["a=\"b\""],"endsAt":"tomorrow","createdBy":"a"}""", "RFC 3339")]
    [InlineData("""{"matchers":["a=\"b\""],"endsAt":"2099-01-01T00:00:00Z"}""", "createdBy")]
    [InlineData("""{"matchers":[{"name":"a"}],"endsAt":"2099-01-01T00:00:00Z","createdBy":"a"}""", "name and value")]
    [InlineData("""[1]""", "JSON object")]
    public async Task Bad_silences_are_refused_and_change_nothing(string body, string expected)
    {
        var (account, _) = await NewAccountAsync();

        var (status, problem) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/silences", body);

        Assert.Equal(400, status);
        Assert.Contains(expected, problem!.ToJsonString().Replace("\\u0022", "\""));
        Assert.Empty((await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/silences"))["items"]!.AsArray());
    }

    [Fact]
    public async Task Silences_of_unknown_accounts_and_ids_are_404_and_need_the_admin_token()
    {
        Assert.Equal(404, (await Api.PostAsync(Server.Admin, "/api/v1/accounts/nobody-here/silences",
            """{"matchers":["a=\"b\""],"endsAt":"2099-01-01T00:00:00Z","createdBy":"a"}""")).Status);
        Assert.Equal(404, (await Api.SendAsync(Server.Admin, HttpMethod.Delete, "/api/v1/accounts/healthnet/silences/sil-0000000000000000")).Status);
        Assert.Equal(401, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/accounts/healthnet/silences")).Status);
        Assert.Equal(401, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/correlation")).Status);
    }

    [Fact]
    public async Task Invalid_maintenance_windows_are_refused_with_the_field()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var yaml = $"id: {id}\nname: x\nmaintenance:\n  - name: bad\n    cron: '0 2 * *'\n    duration: 2h\n  - name: worse\n    matchers: ['nope']\n    start: 2026-12-01T00:00:00Z\n    end: 2026-11-01T00:00:00Z\n";

        var (status, problem) = await Api.PutYamlConfigAsync(Server.Admin, id, yaml);

        Assert.Equal(400, status);
        var text = problem!.ToJsonString();
        Assert.Contains("maintenance[0].cron", text);
        Assert.Contains("maintenance[1].matchers[0]", text);
        Assert.Contains("maintenance[1].end", text);
    }
}
