using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// opsctl's account commands against the running server: sla, kpi, oncall, silence and config apply. Each is checked
/// in its table, in its --json (against what the HTTP API answers for the same thing) and in its exit code.
/// </summary>
[Collection(SharedServer.Name)]
public sealed class OpsctlAccountTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private Task<(int ExitCode, string Out, string Err)> OpsctlAsync(params string[] args) => Opsctl.RunAsync(Server, args);

    private static string NewAccountId(string what) => $"acct-{what}-{Guid.NewGuid():N}"[..24];

    /// <summary>A shop with a 99.9 % monthly budget (43.2 minutes over 30 days), a 10-minute response and a 1-hour resolution for sev1.</summary>
    private static string ShopConfig(string id, string name = "Demo Shop") => $$"""
        id: {{id}}
        name: {{name}}
        timeZone: Europe/Berlin
        services: [{id: checkout}]
        sla:
          availability:
            - {name: checkout-availability, target: 99.9, window: 30d, services: [checkout]}
          response: {sev1: 10m}
          resolution: {sev1: 1h}
        integrationKeys:
          - {name: test, key: key-{{id}}, defaultService: checkout}
        """;

    private async Task<string> NewShopAsync(string what)
    {
        var id = NewAccountId(what);
        var (status, problem) = await Api.PutYamlConfigAsync(Server.Admin, id, ShopConfig(id));
        Assert.True(status == 201, problem?.ToJsonString());
        return id;
    }

    /// <summary>A past sev1 outage of the shop: acknowledged after 4 minutes, resolved after 36.</summary>
    private async Task ImportOutageAsync(string account, DateTimeOffset startedAt)
    {
        var body = $$"""
            {"incidents":[{"service":"checkout","severity":"sev1","title":"Checkout down","startedAt":"{{startedAt:O}}",
              "acknowledgedAt":"{{startedAt.AddMinutes(4):O}}","resolvedAt":"{{startedAt.AddMinutes(36):O}}"}]}
            """;
        var (status, result) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents/import", body);
        Assert.True(status == 200, result?.ToJsonString());
    }

    private static JsonNode Slo(JsonNode sla, string id) => sla["slos"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == id)!;

    [Fact]
    public async Task Sla_shows_the_budget_an_outage_spent_as_the_API_does()
    {
        var account = await NewShopAsync("sla");
        await ImportOutageAsync(account, DateTimeOffset.UtcNow.AddDays(-4)); // out of every burn-rate look-back (3 days at most)
        var api = await Api.EventuallyAsync(async () =>
        {
            var sla = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/sla");
            return Slo(sla, "checkout-availability")["downtimeMinutes"]!.GetValue<double>() > 0 ? sla : null;
        }, TimeSpan.FromSeconds(10), "the imported downtime");

        var (code, table, error) = await OpsctlAsync("sla", "--wide", account);
        Assert.True(code == 0, error);
        // 36 of 43.2 minutes spent leaves 7.2, a fifth of one such outage: at risk.
        Assert.Matches(@"checkout-availability\s+99\.9%\s+30d rolling\s+99\.9167%\s+43\.2\s+36\s+7\.2\s+83\.33%\s+0/0/0/0/0\s+-\s+-\s+0\.2\s+atRisk", table);
        Assert.Matches(@"sev1-response\s+response\s+10m\s+1\s+1\s+0\s+100%\s+0\s+no\s+healthy", table);
        Assert.Matches(@"sev1-resolution\s+resolution\s+1h\s+1\s+1\s+0\s+100%\s+0\s+no\s+healthy", table);
        Assert.StartsWith($"{account}: atRisk at ", table);

        // Without --wide, what an operator reads first, within a 120-column terminal.
        var (narrowCode, narrow, narrowError) = await OpsctlAsync("sla", account);
        Assert.True(narrowCode == 0, narrowError);
        Assert.Matches(@"checkout-availability\s+99\.9%\s+99\.9167%\s+7\.2 of 43\.2 min\s+0\s+-\s+atRisk", narrow);
        Assert.Matches(@"sev1-response\s+10m\s+1\s+0\s+100%\s+0\s+healthy", narrow);
        Assert.All(narrow.Split('\n'), line => Assert.True(line.TrimEnd().Length <= 120, $"{line.TrimEnd().Length} columns: {line}"));

        var (jsonCode, json, _) = await OpsctlAsync("sla", account, "--json");
        Assert.Equal(0, jsonCode);
        var cli = JsonNode.Parse(json)!;
        // The API's shape, field for field; the figures of a past outage do not move between the two reads.
        Assert.Equal(api.AsObject().Select(p => p.Key), cli.AsObject().Select(p => p.Key));
        foreach (var id in new[] { "checkout-availability", "sev1-response", "sev1-resolution" })
        {
            Assert.Equal(Slo(api, id).AsObject().Select(p => p.Key), Slo(cli, id).AsObject().Select(p => p.Key));
            foreach (var field in new[] { "kind", "status", "target", "budgetMinutes", "downtimeMinutes", "remainingMinutes", "consumed", "headroom", "limit", "met", "breached" })
                Assert.True(JsonNode.DeepEquals(Slo(api, id)[field], Slo(cli, id)[field]), $"{id}.{field}: API {Slo(api, id)[field]}, opsctl {Slo(cli, id)[field]}");
        }
        Assert.Equal(43.2, Slo(cli, "checkout-availability")["budgetMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(36, Slo(cli, "checkout-availability")["downtimeMinutes"]!.GetValue<double>(), 6);
        Assert.Equal("atRisk", cli["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sla_of_a_demo_account_shows_its_contract()
    {
        var (code, table, error) = await OpsctlAsync("sla", "healthnet", "--wide");
        Assert.True(code == 0, error);
        Assert.Matches(@"availability\s+99\.95%\s+30d rolling\s+\S+%\s+21\.6\s", table); // 0.05 % of 30 days
        Assert.Matches(@"sev1-response\s+response\s+15m\s", table);
        Assert.Matches(@"sev1-resolution\s+resolution\s+2h\s", table);

        var (missing, _, why) = await OpsctlAsync("sla", "acct-nobody-here");
        Assert.Equal(1, missing);
        Assert.Contains("No account 'acct-nobody-here'.", why);
    }

    [Fact]
    public async Task Kpi_reports_each_severity_against_its_targets_as_the_API_does()
    {
        var account = await NewShopAsync("kpi");
        await ImportOutageAsync(account, new DateTimeOffset(2026, 10, 5, 8, 0, 0, TimeSpan.Zero));
        var api = await Api.EventuallyAsync(async () =>
        {
            var kpis = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/kpis?period=2026-10");
            return kpis["all"]!["incidents"]!.GetValue<int>() > 0 ? kpis : null;
        }, TimeSpan.FromSeconds(10), "the imported incident in the KPIs");

        var (code, table, error) = await OpsctlAsync("kpi", account, "--period", "2026-10");
        Assert.True(code == 0, error);
        // October in Berlin: from midnight CEST (UTC+2) to midnight CET (UTC+1).
        Assert.StartsWith($"{account}: incidents opened from 2026-09-30 22:00:00Z to 2026-10-31 23:00:00Z", table);
        // Targets are half the SLA windows: MTTA 4m against 5m is met, MTTR 36m against 30m is missed.
        Assert.Matches(@"sev1\s+1\s+4m / 4m / 4m\s+5m met\s+36m / 36m / 36m\s+30m missed\s+0s / 0s / 0s\s+100%\s+0", table);
        Assert.Matches(@"sev2\s+0\s+-\s+-\s+-\s+-\s+-\s+-\s+-", table);

        var (jsonCode, json, _) = await OpsctlAsync("kpi", account, "--period", "2026-10", "--json");
        Assert.Equal(0, jsonCode);
        Assert.True(JsonNode.DeepEquals(api, JsonNode.Parse(json)), $"API {api.ToJsonString()}\nopsctl {json}");

        var (oneCode, one, _) = await OpsctlAsync("kpi", account, "--period", "2026-10", "--severity", "sev1", "--json");
        Assert.Equal(0, oneCode);
        var sev1 = Assert.Single(JsonNode.Parse(one)!["severities"]!.AsArray())!;
        Assert.Equal(30, sev1["targets"]!["mttrMinutes"]!.GetValue<double>());

        var (usage, _, why) = await OpsctlAsync("kpi", account, "--period", "last-week");
        Assert.Equal(2, usage);
        Assert.Contains("--period: 'last-week' is neither a duration", why);
    }

    [Fact]
    public async Task Oncall_names_who_is_on_call_and_the_shifts_ahead_as_the_API_does()
    {
        // healthnet's clinical-primary: ana and ben a week each from Monday 2 November 2026, 09:00 New York time.
        string[] query = ["--at", "2026-11-03T12:00:00Z", "--until", "2026-11-17T12:00:00Z"];
        var (code, table, error) = await OpsctlAsync(["oncall", "healthnet", "clinical-primary", .. query]);
        Assert.True(code == 0, error);
        Assert.StartsWith("clinical-primary (healthnet) at 2026-11-03 12:00:00Z: ana", table);
        Assert.Matches(@"ana\s+2026-11-03 12:00:00Z\s+2026-11-09 14:00:00Z\s+Tue 2026-11-03 07:00\s+Mon 2026-11-09 09:00", table);
        Assert.Matches(@"ben\s+2026-11-09 14:00:00Z\s+2026-11-16 14:00:00Z\s+Mon 2026-11-09 09:00\s+Mon 2026-11-16 09:00", table);

        var (jsonCode, json, _) = await OpsctlAsync(["oncall", "healthnet", "clinical-primary", "--json", .. query]);
        Assert.Equal(0, jsonCode);
        var api = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/healthnet/schedules/clinical-primary/oncall?at=2026-11-03T12:00:00Z&until=2026-11-17T12:00:00Z");
        Assert.True(JsonNode.DeepEquals(api, JsonNode.Parse(json)), $"API {api.ToJsonString()}\nopsctl {json}");
        Assert.Equal(["ana", "ben", "ana"], JsonNode.Parse(json)!["shifts"]!.AsArray().Select(s => s!["user"]!.GetValue<string>()));

        var (missing, _, why) = await OpsctlAsync("oncall", "healthnet", "night-shift");
        Assert.Equal(1, missing);
        Assert.Contains("Account 'healthnet' has no schedule 'night-shift'.", why);
        var (usage, _, when) = await OpsctlAsync("oncall", "healthnet", "clinical-primary", "--at", "yesterday");
        Assert.Equal(2, usage);
        Assert.Contains("--at: 'yesterday' is not a timestamp", when);
    }

    [Fact]
    public async Task Silences_are_added_listed_and_expired_and_hold_alerts_back()
    {
        var account = await NewShopAsync("sil");
        var (code, added, error) = await OpsctlAsync("silence", "add", account, "--matcher", "alertname=DiskFull", "--matcher", "node=~\"db-.*\"",
            "--ends", "2h", "--comment", "disk swap", "--author", "ana");
        Assert.True(code == 0, error);
        var id = Regex.Match(added, @"^(sil-[0-9a-f]{16}): active from \S+ \S+ until \S+ \S+, silencing alertname=""DiskFull"" node=~""db-\.\*""").Groups[1].Value;
        Assert.NotEmpty(id);

        // The silence is the server's own: a matching alert is held back and opens nothing.
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            """[{"labels":{"alertname":"DiskFull","node":"db-1","severity":"critical"}}]""", bearer: $"key-{account}");
        Assert.Equal(200, status);
        Assert.Equal("silence", receipt!["alerts"]![0]!["suppressedBy"]!["kind"]!.GetValue<string>());
        Assert.Null(receipt["alerts"]![0]!["incidentId"]);

        var (pendingCode, pending, _) = await OpsctlAsync("silence", "add", account, "--matcher", "alertname!~\"Disk.*\"", "--starts", "1h", "--ends", "30m",
            "--comment", "later", "--json");
        Assert.Equal(0, pendingCode);
        var later = JsonNode.Parse(pending)!;
        Assert.Equal("pending", later["state"]!.GetValue<string>());
        Assert.Equal(["alertname!~\"Disk.*\""], later["matchers"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(TimeSpan.FromMinutes(30), later["endsAt"]!.GetValue<DateTimeOffset>() - later["startsAt"]!.GetValue<DateTimeOffset>()); // --ends counts from --starts

        var (listCode, list, _) = await OpsctlAsync("silence", "list", account);
        Assert.Equal(0, listCode);
        Assert.Matches($@"{id}\s+active\s+alertname=""DiskFull"" node=~""db-\.\*""\s+.+\s+ana\s+disk swap", list);
        Assert.Matches($@"{later["id"]!.GetValue<string>()}\s+pending\s", list);
        var (listJsonCode, listJson, _) = await OpsctlAsync("silence", "list", account, "--json");
        Assert.Equal(0, listJsonCode);
        var api = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/silences");
        Assert.True(JsonNode.DeepEquals(api, JsonNode.Parse(listJson)), $"API {api.ToJsonString()}\nopsctl {listJson}");

        var (expireCode, expired, _) = await OpsctlAsync("silence", "expire", account, id, "--actor", "ben");
        Assert.Equal(0, expireCode);
        Assert.Matches($@"^{id}: expired at \S+ \S+ by ben", expired);
        var (againCode, again, _) = await OpsctlAsync("silence", "expire", account, id, "--actor", "cy", "--json");
        Assert.Equal(0, againCode);
        Assert.Equal("ben", JsonNode.Parse(again)!["expiredBy"]!.GetValue<string>()); // an ended silence stays as it ended
        Assert.Equal("expired", JsonNode.Parse(again)!["state"]!.GetValue<string>());

        // Refusals change nothing: still the two silences.
        var (regex, _, badRegex) = await OpsctlAsync("silence", "add", account, "--matcher", "alertname=~\"(\"", "--matcher", "nope", "--ends", "1h", "--comment", "x");
        Assert.Equal(2, regex);
        Assert.Contains("--matcher[0]: '(' is not a valid regular expression", badRegex);
        Assert.Contains("--matcher[1]: 'nope' is not a matcher", badRegex);
        var (none, _, noMatcher) = await OpsctlAsync("silence", "add", account, "--ends", "1h", "--comment", "x");
        Assert.Equal(2, none);
        Assert.Contains("--matcher: at least one matcher is required", noMatcher);
        var (past, _, ended) = await OpsctlAsync("silence", "add", account, "--matcher", "a=b", "--ends", "2001-01-01T00:00:00Z", "--comment", "x");
        Assert.Equal(2, past);
        Assert.Contains("--ends: must be after startsAt", ended);
        var (unknown, _, noAccount) = await OpsctlAsync("silence", "add", "acct-nobody-here", "--matcher", "a=b", "--ends", "1h", "--comment", "x");
        Assert.Equal(1, unknown);
        Assert.Contains("No account 'acct-nobody-here'.", noAccount);
        var (noSilence, _, noSuch) = await OpsctlAsync("silence", "expire", account, "sil-0000000000000000");
        Assert.Equal(1, noSilence);
        Assert.Contains($"No silence 'sil-0000000000000000' in account '{account}'.", noSuch);
        Assert.Equal(2, (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/silences"))["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Config_apply_creates_and_replaces_an_account_and_refuses_an_invalid_file_whole()
    {
        var account = NewAccountId("cfg");
        var folder = ServerProcess.NewTempFolder("opsctl-config");
        var file = Path.Combine(folder, $"{account}.yaml");
        try
        {
            await File.WriteAllTextAsync(file, ShopConfig(account));
            var (code, created, error) = await OpsctlAsync("config", "apply", "-f", file);
            Assert.True(code == 0, error);
            Assert.Equal($"{account}: created at configuration version 1", created.Trim());
            Assert.Equal("Demo Shop", (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/config"))["name"]!.GetValue<string>());

            await File.WriteAllTextAsync(file, ShopConfig(account, "Demo Shop EU"));
            var (replaceCode, replaced, _) = await OpsctlAsync("config", "apply", "-f", file, "--json");
            Assert.Equal(0, replaceCode);
            var result = JsonNode.Parse(replaced)!;
            Assert.Equal((account, false, 2L), (result["account"]!.GetValue<string>(), result["created"]!.GetValue<bool>(), result["version"]!.GetValue<long>()));
            // The configuration as the API's PUT answers it, and as the server now holds it.
            var held = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/config");
            Assert.True(JsonNode.DeepEquals(held, result["config"]), $"server {held.ToJsonString()}\nopsctl {result["config"]!.ToJsonString()}");
            var shown = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}");
            Assert.Equal(("Demo Shop EU", 2L, "opsctl"), (shown["name"]!.GetValue<string>(), shown["configVersion"]!.GetValue<long>(), shown["configSource"]!.GetValue<string>()));

            // The same file again changes nothing: the version stays.
            var (againCode, again, _) = await OpsctlAsync("config", "apply", "-f", file);
            Assert.Equal(0, againCode);
            Assert.Equal($"{account}: configuration version 2 unchanged (the file says what is applied already)", again.Trim());
            Assert.Equal(2L, (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}"))["configVersion"]!.GetValue<long>());

            // Every problem of a refused file is named, and nothing changes.
            await File.WriteAllTextAsync(file, ShopConfig(account, "Broken").Replace("Europe/Berlin", "Mars/Olympus").Replace("target: 99.9", "target: 120"));
            var (refused, _, why) = await OpsctlAsync("config", "apply", "-f", file);
            Assert.Equal(1, refused);
            Assert.Contains($"{account}.yaml is invalid; nothing was changed", why);
            Assert.Contains("timeZone: 'Mars/Olympus' is not a known IANA time zone", why);
            Assert.Contains("sla.availability[0].target: 120 must be a percentage between 0 and 100", why);
            await File.WriteAllTextAsync(file, ShopConfig(account, "Broken") + "\ncolour: blue\n");
            var (unknownField, _, colour) = await OpsctlAsync("config", "apply", "-f", file);
            Assert.Equal(1, unknownField);
            Assert.Contains("Property 'colour' not found", colour);
            shown = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}");
            Assert.Equal(("Demo Shop EU", 2L), (shown["name"]!.GetValue<string>(), shown["configVersion"]!.GetValue<long>()));

            var (usage, _, noFile) = await OpsctlAsync("config", "apply", "-f", Path.Combine(folder, "nothing-here.yaml"));
            Assert.Equal(2, usage);
            Assert.Contains("nothing-here.yaml: no such file", noFile);
            Assert.Equal(2, (await OpsctlAsync("config", "apply")).ExitCode); // -f is required
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
