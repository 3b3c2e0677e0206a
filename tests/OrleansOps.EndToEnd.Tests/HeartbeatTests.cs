using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Heartbeats through the real server: declared in YAML, pinged with the integration key, listed, and refused clearly.</summary>
[Collection(SharedServer.Name)]
public sealed class HeartbeatTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task A_job_pings_its_heartbeat_with_the_accounts_key_and_the_account_lists_where_each_stands()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Heartbeats
            services:
              - id: backups
            heartbeats:
              - name: nightly-backup
                interval: 24h
                grace: 1h
                service: backups
              - name: prometheus
                alert: Watchdog
                interval: 1m
                grace: 4m
                severity: critical
            integrationKeys:
              - name: main
                key: {key}
            """)).Status);
        var config = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config");
        Assert.Equal(["nightly-backup", "prometheus"], config["heartbeats"]!.AsArray().Select(h => h!["name"]!.GetValue<string>()));
        Assert.Equal(("1d", "1h", "sev2"), (config["heartbeats"]![0]!["interval"]!.GetValue<string>(), config["heartbeats"]![0]!["grace"]!.GetValue<string>(),
            config["heartbeats"]![0]!["severity"]!.GetValue<string>()));

        var before = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/heartbeats");
        Assert.Equal(["waiting", "waiting"], before.AsArray().Select(h => h!["status"]!.GetValue<string>()));

        var (status, pinged) = await Api.PostAsync(Server.Anonymous, "/api/v1/heartbeats/nightly-backup", "", bearer: key);
        Assert.Equal(200, status);
        Assert.Equal(("up", 1, "backups"), (pinged!["status"]!.GetValue<string>(), pinged["pings"]!.GetValue<int>(), pinged["service"]!.GetValue<string>()));
        var lastPing = pinged["lastPing"]!.GetValue<DateTimeOffset>();
        Assert.Equal(lastPing + TimeSpan.FromHours(25), pinged["deadline"]!.GetValue<DateTimeOffset>());

        // Prometheus' Watchdog, as Alertmanager forwards it, is the other heartbeat's ping and opens nothing.
        var (sent, receipts) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            """[{"labels":{"alertname":"Watchdog","severity":"none","prometheus":"monitoring/k8s"}}]""", bearer: key);
        Assert.Equal(200, sent);
        var receipt = receipts!["alerts"]![0]!;
        Assert.Equal("heartbeat", receipt["outcome"]!.GetValue<string>());
        Assert.Null(receipt["incidentId"]);

        var listed = (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/heartbeats")).AsArray();
        Assert.Equal(["up", "up"], listed.Select(h => h!["status"]!.GetValue<string>()));
        Assert.Equal(("1m", "4m", "sev1", "Watchdog"), (listed[1]!["interval"]!.GetValue<string>(), listed[1]!["grace"]!.GetValue<string>(),
            listed[1]!["severity"]!.GetValue<string>(), listed[1]!["alert"]!.GetValue<string>()));
        Assert.Empty((await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/incidents"))["items"]!.AsArray());

        var (code, table, error) = await Opsctl.RunAsync(Server, "heartbeats", id);
        Assert.True(code == 0, error);
        Assert.Matches(@"nightly-backup\W+up\W+1d\W+1h\W+POST", table);
        Assert.Matches(@"prometheus\W+up\W+1m\W+4m\W+alert", table);
    }

    [Fact]
    public async Task A_ping_without_a_known_key_or_of_an_undeclared_heartbeat_is_refused_and_a_bad_heartbeat_is_not_configured()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Heartbeats
            heartbeats: [{"{"}name: cron, interval: 5m{"}"}]
            integrationKeys: [{"{"}name: main, key: {key}{"}"}]
            """)).Status);

        var (anonymous, problem) = await Api.PostAsync(Server.Anonymous, "/api/v1/heartbeats/cron", "");
        Assert.Equal(401, anonymous);
        Assert.Equal("An integration key is required: send Authorization: Bearer <key>.", problem!["detail"]!.GetValue<string>());
        Assert.Equal(401, (await Api.PostAsync(Server.Anonymous, "/api/v1/heartbeats/cron", "", bearer: "not-a-key-of-anyone-here")).Status);
        var (unknown, missing) = await Api.PostAsync(Server.Anonymous, "/api/v1/heartbeats/backup", "", bearer: key);
        Assert.Equal(404, unknown);
        Assert.Equal($"Account {id} has no heartbeat named 'backup': declare it under heartbeats: in the account's configuration.", missing!["detail"]!.GetValue<string>());
        Assert.Equal("waiting", (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/heartbeats"))[0]!["status"]!.GetValue<string>());

        var (refused, errors) = await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Heartbeats
            heartbeats: [{"{"}name: cron, interval: 5s{"}"}, {"{"}name: cron, interval: soon, severity: urgent{"}"}]
            integrationKeys: [{"{"}name: main, key: {key}{"}"}]
            """);
        Assert.Equal(400, refused);
        var messages = errors!["errors"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Contains(messages, m => m.Contains("heartbeats[0].interval: must be between 10s and 31d"));
        Assert.Contains(messages, m => m.Contains("heartbeats[1].interval: 'soon' is not a duration"));
        Assert.Contains(messages, m => m.Contains("heartbeats[1].severity: 'urgent' is not a severity"));
        Assert.Contains(messages, m => m.Contains("heartbeats[1].name: 'cron' is used twice"));
        Assert.Equal("5m", (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config"))["heartbeats"]![0]!["interval"]!.GetValue<string>());
    }
}
