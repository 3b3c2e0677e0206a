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
        var standing = fleet["items"]!.AsArray().Single(i => i!["accountId"]!.GetValue<string>() == account)!;
        Assert.Equal("breached", standing["status"]!.GetValue<string>());
        // With the figures an operator scans the fleet for: the credit owed, the medians and their targets, nothing open.
        Assert.Equal(10, standing["creditPercent"]!.GetValue<double>());
        Assert.Equal(5, standing["mttaMinutes"]!.GetValue<double>(), 6);
        Assert.Equal(29, standing["mttrMinutes"]!.GetValue<double>(), 6);
        Assert.False(standing["mttaOverTarget"]!.GetValue<bool>()); // 5 against 7.5
        Assert.False(standing["mttrOverTarget"]!.GetValue<bool>()); // 29 against 60
        Assert.Equal(0, standing["open"]!.AsObject().Sum(s => s.Value!.GetValue<int>()));
        Assert.Null(standing["exhaustedAt"]);

        // Its incidents across the fleet, narrowed by account, severity and text; a bad filter is a 400 naming it.
        var found = await Api.GetOkAsync(Server.Admin, $"/api/v1/fleet/incidents?account={account}&severity=sev1&limit=500");
        Assert.Equal(3, found["items"]!.AsArray().Count);
        Assert.All(found["items"]!.AsArray(), i => Assert.Equal(account, i!["account"]!.GetValue<string>()));
        Assert.Empty((await Api.GetOkAsync(Server.Admin, $"/api/v1/fleet/incidents?account={account}&severity=sev2"))["items"]!.AsArray());
        Assert.Empty((await Api.GetOkAsync(Server.Admin, $"/api/v1/fleet/incidents?account={account}&status=open"))["items"]!.AsArray());
        // A search looks past the newest few: the oldest outage is found with a limit of one.
        var oldest = await Api.GetOkAsync(Server.Admin, $"/api/v1/fleet/incidents?account={account}&q=outage%201&limit=1");
        Assert.Equal("Outage 1", Assert.Single(oldest["items"]!.AsArray())!["title"]!.GetValue<string>());
        var (badStatus, bad) = await Api.SendAsync(Server.Admin, HttpMethod.Get, "/api/v1/fleet/incidents?severity=urgent&status=gone");
        Assert.Equal(400, badStatus);
        Assert.Contains("severity: 'urgent'", bad!["detail"]!.GetValue<string>());
        Assert.Contains("status: 'gone'", bad["detail"]!.GetValue<string>());

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
        // The response and resolution medians by severity against their targets, in both (sev1: MTTA 5 of 7.5, MTTR 29 of 60).
        Assert.Contains("Response and resolution by severity", html);
        Assert.Contains("<tr><td>sev1</td><td>3</td><td>5</td><td>7.5</td><td>29</td><td>60</td>", html);
        Assert.Contains("\nseverity,incidents,mtta_median_minutes,mtta_target_minutes,mttr_median_minutes,mttr_target_minutes", csv);
        Assert.Contains("\nsev1,3,5,7.5,29,60,", csv);
        Assert.Contains("@media print", html);
        Assert.Contains("=cmd|&#39; /C calc&#39;!A0", html);
        Assert.Equal(400, (await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{account}/reports/sla?period=2026-13")).Status);

        // The fleet's report of the month holds the account's rows as its own report does, and names it in the page.
        using var fleetCsvRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/fleet/reports/sla?period={period}&format=csv");
        var fleetCsv = await (await Server.Admin.SendAsync(fleetCsvRequest)).Content.ReadAsStringAsync();
        Assert.StartsWith("account,account_name,period,slo,kind,status", fleetCsv);
        Assert.Contains($"{account},'=cmd|' /C calc'!A0,{period},availability,availability,breached,99.95,", fleetCsv);
        Assert.Contains("healthnet,HealthNet Hospitals,", fleetCsv);
        using var fleetHtmlRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/fleet/reports/sla?period={period}&format=html");
        var fleetHtml = await (await Server.Admin.SendAsync(fleetHtmlRequest)).Content.ReadAsStringAsync();
        Assert.Contains($"<tr class=\"breached\"><td>{account}</td>", fleetHtml);
        var fleetJson = await Api.GetOkAsync(Server.Admin, $"/api/v1/fleet/reports/sla?period={period}");
        Assert.Equal(86, fleetJson["accounts"]!.AsArray().Single(a => a!["account"]!.GetValue<string>() == account)!["slos"]![0]!["downtimeMinutes"]!.GetValue<double>(), 6);
        var (noMonth, notAMonth) = await Api.SendAsync(Server.Admin, HttpMethod.Get, "/api/v1/fleet/reports/sla?period=2026-13");
        Assert.Equal(400, noMonth);
        Assert.DoesNotContain("has not begun", notAMonth!["detail"]!.GetValue<string>());
        var (badPeriod, said) = await Api.SendAsync(Server.Admin, HttpMethod.Get, "/api/v1/fleet/reports/sla?period=soon&format=pdf");
        Assert.Equal(400, badPeriod);
        Assert.Contains("format: 'pdf' is not json, csv or html", said!["detail"]!.GetValue<string>().Replace("\u0027", "'"));
    }

    [Fact]
    public async Task An_operator_leaves_an_outage_out_of_the_SLA_with_a_reason_and_every_figure_and_report_follows()
    {
        var account = "acct-fix-" + Guid.NewGuid().ToString("N")[..8];
        var (configured, problems) = await Api.PutYamlConfigAsync(Server.Admin, account, Config(account));
        Assert.True(configured == 201, problems?.ToJsonString());
        // One 40-minute sev1 an hour ago: against 21.6 minutes of budget, the SLO is breached.
        var started = DateTimeOffset.UtcNow.AddHours(-1);
        var (imported, result) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents/import",
            $$"""{"incidents":[{"service":"ehr-api","severity":"sev1","title":"Customer pulled the plug","startedAt":"{{started:O}}","acknowledgedAt":"{{started.AddMinutes(3):O}}","resolvedAt":"{{started.AddMinutes(40):O}}"}]}""");
        Assert.True(imported == 200, result?.ToJsonString());
        var incident = result!["incidents"]![0]!.GetValue<string>();
        async Task<JsonNode> AvailabilityAsync() => (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/sla"))["slos"]!.AsArray()
            .Single(s => s!["id"]!.GetValue<string>() == "availability")!;
        Assert.Equal("breached", (await AvailabilityAsync())["status"]!.GetValue<string>());

        var path = $"/api/v1/incidents/{incident}/sla-correction";
        // Refused whole: no reason, an SLO the account does not have, two kinds of change at once; an account token may not.
        var (refused, problem) = await Api.PostAsync(Server.Admin, path, """{"exclude":true,"slos":["uptime"]}""");
        Assert.Equal(400, refused);
        var said = problem!.ToJsonString().Replace("\\u0027", "'");
        Assert.Contains("reason: is required", said);
        Assert.Contains("slos: 'uptime' is not an SLO of the account", said);
        Assert.Equal(400, (await Api.PostAsync(Server.Admin, path, $$"""{"reason":"x","exclude":true,"impactStart":"{{started:O}}"}""")).Status);
        Assert.Equal(404, (await Api.PostAsync(Server.Admin, "/api/v1/incidents/inc-aaaaaaaaaaaaaaaa/sla-correction", """{"reason":"x","exclude":true}""")).Status);
        // A window that would start after the incident was resolved: a conflict with the incident, nothing chronicled.
        var (late, lateProblem) = await Api.PostAsync(Server.Admin, path, $$"""{"reason":"x","impactStart":"{{started.AddMinutes(50):O}}"}""");
        Assert.Equal(409, late);
        Assert.Contains("is after the impact's end", lateProblem!["detail"]!.GetValue<string>().Replace("\u0027", "'"));
        Assert.Null((await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incident}"))["slaCorrection"]);

        var (corrected, view) = await Api.PostAsync(Server.Admin, path, """{"actor":"ana","reason":"the customer's own maintenance, agreed on the call","exclude":true}""");
        Assert.True(corrected == 200, view?.ToJsonString());
        Assert.True(view!["slaCorrection"]!["excluded"]!.GetValue<bool>());
        var availability = await AvailabilityAsync();
        Assert.Equal(0, availability["downtimeMinutes"]!.GetValue<double>(), 6);
        Assert.Equal("healthy", availability["status"]!.GetValue<string>());
        var sla = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/sla");
        var listed = Assert.Single(sla["corrections"]!.AsArray())!;
        Assert.Equal(incident, listed["incidentId"]!.GetValue<string>());
        Assert.Equal("ana", listed["correction"]!["actor"]!.GetValue<string>());

        var chronicle = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incident}/chronicle");
        var entry = Assert.Single(chronicle, e => e!["kind"]!.GetValue<string>() == "sla.corrected")!;
        Assert.Equal("ana", entry["actor"]!.GetValue<string>());
        Assert.Contains("the customer's own maintenance", entry["text"]!.GetValue<string>());
        Assert.True((await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incident}/chronicle/verify"))["valid"]!.GetValue<bool>());

        // The month's report says which incident was left out, by whom and why.
        var period = started.ToString("yyyy-MM");
        using var csv = await Server.Admin.GetAsync($"/api/v1/accounts/{account}/reports/sla?period={period}&format=csv");
        var text = await csv.Content.ReadAsStringAsync();
        Assert.Contains("incident,title,service,severity,started,acknowledged,resolved,minutes", text);
        Assert.Matches($@"{incident},Customer pulled the plug,ehr-api,sev1,[^,]+,[^,]+,[^,]+,40\r?\n", text);
        Assert.Contains("incident,title,service,severity,started,resolved,correction,by,at,reason", text);
        using var page = await Server.Admin.GetAsync($"/api/v1/accounts/{account}/reports/sla?period={period}&format=html");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<caption>Incidents in " + period + "</caption>", html);
        Assert.Contains("1 incident in the period, 1 of them corrected by an operator.", html);
        Assert.Contains("<style>", html);
        Assert.Contains($"{incident},Customer pulled the plug,ehr-api,sev1,", text);
        Assert.Contains("left out of every SLO,ana,", text);

        // Withdrawn, the outage counts again.
        var (withdrawn, _) = await Api.PostAsync(Server.Admin, path, """{"actor":"ben","reason":"the customer disputes it","withdraw":true}""");
        Assert.Equal(200, withdrawn);
        Assert.Equal(40, (await AvailabilityAsync())["downtimeMinutes"]!.GetValue<double>(), 6);
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
