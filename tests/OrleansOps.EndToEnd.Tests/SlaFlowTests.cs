using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

[Collection(SharedServer.Name)]
public sealed class SlaFlowTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static string Config(string id) => $$"""
        id: {{id}}
        name: "=cmd|' /C calc'!A0"
        timeZone: UTC
        services: [{id: ehr-api}, {id: imaging}]
        sla:
          availability:
            - name: availability
              target: 99.95
              window: 30d
              services: [ehr-api, imaging]
              credits: [{below: 99.95, credit: 10}, {below: 99.0, credit: 25}, {below: 95.0, credit: 100}]
          response: {sev1: 15m}
          resolution: {sev1: 2h}
        """;

    [Fact]
    public async Task Three_imported_sev1_outages_breach_the_budget_and_every_view_says_so()
    {
        var account = "acct-sla-" + Guid.NewGuid().ToString("N")[..8];
        var (configured, problems) = await Api.PutYamlConfigAsync(Server.Admin, account, Config(account));
        Assert.True(configured == 201, problems?.ToJsonString());

        // Three sev1 outages of 26, 31 and 29 minutes, days ago, inside this month and the rolling 30 days.
        var now = DateTimeOffset.UtcNow;
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var first = now - monthStart > TimeSpan.FromHours(5) ? now.AddHours(-4) : monthStart.AddHours(-5); // all three in one month
        var outages = new[] { (first, 26), (first.AddHours(1), 31), (first.AddHours(2), 29) };
        var body = new JsonObject
        {
            ["incidents"] = new JsonArray(outages.Select((o, i) => (JsonNode)new JsonObject
            {
                ["service"] = i == 1 ? "imaging" : "ehr-api",
                ["severity"] = "critical",
                ["title"] = $"Outage {i + 1}",
                ["startedAt"] = o.Item1.ToString("O"),
                ["acknowledgedAt"] = o.Item1.AddMinutes(i == 2 ? 20 : 5).ToString("O"),
                ["resolvedAt"] = o.Item1.AddMinutes(o.Item2).ToString("O"),
            }).ToArray()),
        };
        var (imported, result) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents/import", body.ToJsonString());
        Assert.True(imported == 200, result?.ToJsonString());
        Assert.Equal(3, result!["imported"]!.GetValue<int>());
        var (again, repeat) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents/import", body.ToJsonString());
        Assert.Equal(200, again);
        Assert.Equal(3, repeat!["alreadyThere"]!.GetValue<int>());

        var sla = await Api.EventuallyAsync(async () =>
        {
            var view = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/sla");
            return view["slos"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "availability")!["downtimeMinutes"]!.GetValue<double>() > 0 ? view : null;
        }, TimeSpan.FromSeconds(10), "the imported downtime");
        var availability = sla["slos"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "availability")!;
        Assert.Equal(21.6, availability["budgetMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(86, availability["downtimeMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(99.8009, availability["sli"]!.GetValue<double>());               // 1 − 86 / 43200
        Assert.Equal(-64.4, availability["remainingMinutes"]!.GetValue<double>(), 6);
        Assert.Equal("breached", availability["status"]!.GetValue<string>());
        Assert.Equal(10, availability["creditPercent"]!.GetValue<double>());
        Assert.Equal(["1h", "30m", "3d", "5m", "6h"], availability["burnRates"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        var response = sla["slos"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "sev1-response")!;
        Assert.Equal(2, response["met"]!.GetValue<int>());
        Assert.Equal(1, response["breached"]!.GetValue<int>()); // acknowledged after 20 minutes
        Assert.Equal("breached", sla["status"]!.GetValue<string>());
        Assert.Equal("healthy", sla["slos"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "sev1-resolution")!["status"]!.GetValue<string>());

        // KPIs: MTTA of 5, 5, 20 minutes; MTTR of 26, 31, 29.
        var kpis = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/kpis?period=30d&severity=sev1");
        var sev1 = kpis["severities"]![0]!;
        Assert.Equal(10, sev1["kpis"]!["mtta"]!["meanMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(5, sev1["kpis"]!["mtta"]!["medianMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(29, sev1["kpis"]!["mttr"]!["medianMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(60, sev1["targets"]!["mttrMinutes"]!.GetValue<double>(), 6);   // half of the 2 h window
        Assert.Equal(400, (await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}/kpis?period=soon")).Status);

        // The fleet puts a breached account before healthy ones.
        var fleet = await Api.EventuallyAsync(async () =>
        {
            var page = await Api.GetOkAsync(Server.Admin, "/api/v1/fleet/sla?limit=500");
            return page["items"]!.AsArray().Any(i => i!["accountId"]!.GetValue<string>() == account) ? page : null;
        }, TimeSpan.FromSeconds(10), "the account in the fleet index");
        var statuses = fleet["items"]!.AsArray().Select(i => i!["status"]!.GetValue<string>()).ToList();
        Assert.Equal(statuses.OrderBy(s => s switch { "breached" => 0, "atRisk" => 1, _ => 2 }), statuses);
        Assert.Equal("breached", fleet["items"]!.AsArray().Single(i => i!["accountId"]!.GetValue<string>() == account)!["status"]!.GetValue<string>());

        // The month's report in three formats; the tenant's hostile name stays inert.
        var period = $"{first:yyyy-MM}";
        var report = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/reports/sla?period={period}");
        Assert.Equal(86, report["slos"]![0]!["downtimeMinutes"]!.GetValue<double>(), 6);
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/accounts/{account}/reports/sla?period={period}&format=csv");
        var csv = await (await Server.Admin.SendAsync(csvRequest)).Content.ReadAsStringAsync();
        Assert.StartsWith("account,account_name,period,slo,kind,status", csv);
        Assert.Contains($"{account},'=cmd|' /C calc'!A0,{period},availability,availability,breached,99.95,", csv); // a formula stays text
        using var htmlRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/accounts/{account}/reports/sla?period={period}&format=html");
        var html = await (await Server.Admin.SendAsync(htmlRequest)).Content.ReadAsStringAsync();
        Assert.Contains("<td>availability</td>", html);
        Assert.Contains("=cmd|&#39; /C calc&#39;!A0", html);
        Assert.Equal(400, (await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}/reports/sla?period=2026-13")).Status);
    }

    [Fact]
    public async Task An_import_with_problems_names_each_and_imports_nothing()
    {
        var account = "acct-slabad-" + Guid.NewGuid().ToString("N")[..8];
        await Api.PutYamlConfigAsync(Server.Admin, account, Config(account));
        var (status, problem) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents/import", """
            {"incidents":[
              {"service":"ehr-api","severity":"sev1","title":"fine","startedAt":"2026-11-01T10:00:00Z","resolvedAt":"2026-11-01T10:30:00Z"},
              {"service":"billing","severity":"loud","title":"","startedAt":"yesterday","resolvedAt":"2026-11-01T10:00:00Z"},
              {"service":"ehr-api","severity":"sev2","title":"backwards","startedAt":"2026-11-01T10:00:00Z","resolvedAt":"2026-11-01T09:00:00Z"}]}
            """);
        Assert.Equal(400, status);
        var errors = problem!["errors"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Contains("incidents[1].service: 'billing' is not a declared service of the account", errors);
        Assert.Contains(errors, e => e.StartsWith("incidents[1].severity: 'loud' is not a severity"));
        Assert.Contains("incidents[1].title: required", errors);
        Assert.Contains("incidents[1].startedAt: not a timestamp like 2026-11-01T10:00:00Z", errors);
        Assert.Contains("incidents[2].resolvedAt: before startedAt", errors);
        var incidents = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents");
        Assert.Empty(incidents["items"]!.AsArray());
    }
}
