using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

[Collection(SharedServer.Name)]
public sealed class OperatorFlowTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static string Unique(string name) => $"{name}{Guid.NewGuid():N}"[..(name.Length + 12)];

    [Fact]
    public async Task Start_up_prints_the_url_and_loads_the_demo_accounts()
    {
        Assert.Contains($"OrleansOps is running at http://127.0.0.1:{Server.HttpPort}", Server.Output);
        var accounts = await Api.GetAllAsync(Server.Admin, "/api/v1/accounts");
        var ids = accounts.Select(a => a!["id"]!.GetValue<string>()).ToList();
        // The demo accounts, in id order; other tests on this shared server add accounts of their own (acct-…).
        Assert.Equal(["healthnet", "logiship", "telco"], ids.Where(id => !id.StartsWith("acct-", StringComparison.Ordinal)));
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);

        var healthnet = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/healthnet");
        Assert.Equal(["ehr-api", "imaging"], healthnet["services"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
        var config = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/healthnet/config");
        Assert.Equal(99.95, config["sla"]!["availability"]![0]!["target"]!.GetValue<double>());
        Assert.Equal("2h", config["sla"]!["resolution"]!["sev1"]!.GetValue<string>());
        Assert.DoesNotContain("demo-key-healthnet", config.ToJsonString());
    }

    [Fact]
    public async Task The_readme_curl_flow_creates_an_incident_the_api_returns_and_acts_on()
    {
        var alertname = Unique("HighLatency");
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$"""[{"labels":{"alertname":"{{alertname}}","service":"ehr-api","severity":"critical"},"annotations":{"summary":"p99 above 2s"},"startsAt":"2026-11-26T10:00:00Z"}]""",
            bearer: "demo-key-healthnet");
        Assert.Equal(200, status);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        Assert.True(receipt["alerts"]![0]!["openedIncident"]!.GetValue<bool>());

        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}");
        Assert.Equal("healthnet", incident["account"]!.GetValue<string>());
        Assert.Equal("ehr-api", incident["service"]!.GetValue<string>());
        Assert.Equal("sev1", incident["severity"]!.GetValue<string>());
        Assert.Equal("triggered", incident["status"]!.GetValue<string>());
        Assert.Equal("2026-11-26T10:00:00+00:00", incident["startedAt"]!.GetValue<string>());
        var alert = incident["alerts"]![0]!;
        Assert.Equal(receipt["alerts"]![0]!["fingerprint"]!.GetValue<string>(), alert["fingerprint"]!.GetValue<string>());
        Assert.Equal("firing", alert["status"]!.GetValue<string>());
        Assert.Equal(1, alert["count"]!.GetValue<int>());

        var open = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/healthnet/incidents?status=open");
        Assert.Contains(open["items"]!.AsArray(), i => i!["id"]!.GetValue<string>() == incidentId);

        var (ackStatus, acked) = await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/ack", """{"actor":"ana"}""");
        Assert.Equal(200, ackStatus);
        Assert.Equal("acknowledged", acked!["status"]!.GetValue<string>());
        Assert.Equal("ana", acked["acknowledgedBy"]!.GetValue<string>());
        var (noteStatus, _) = await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/notes", """{"actor":"ana","text":"failing over to the standby"}""");
        Assert.Equal(200, noteStatus);
        var (resolveStatus, resolved) = await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/resolve", """{"actor":"ana","note":"standby healthy"}""");
        Assert.Equal(200, resolveStatus);
        Assert.Equal("resolved", resolved!["status"]!.GetValue<string>());
        var (conflict, problem) = await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/ack", "");
        Assert.Equal(409, conflict);
        Assert.Contains("resolved", problem!["detail"]!.GetValue<string>());

        // The demo policy's first level paged the console (log) channel; wait for its outcome so the record is complete.
        await Api.EventuallyAsync(async () =>
            (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}"))["notifications"]!.AsArray().Count == 1 ? "" : null,
            TimeSpan.FromSeconds(20), "the console page's outcome");
        var chronicle = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        var kinds = chronicle.Select(e => e!["kind"]!.GetValue<string>()).ToList();
        Assert.Equal(
            ["incident.opened", "alert.attached", "incident.acknowledged", "note.added", "incident.resolved"],
            kinds.Where(k => k.StartsWith("incident.") || k.StartsWith("alert.") || k.StartsWith("note.")));
        Assert.Equal(["escalation.policy", "escalation.step", "notification.attempt", "notification.delivered"],
            kinds.Where(k => k.StartsWith("escalation.") || k.StartsWith("notification.")));
        var verify = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle/verify");
        Assert.True(verify["valid"]!.GetValue<bool>());
        Assert.Equal(kinds.Count, verify["entries"]!.GetValue<int>());

        var resolvedList = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/healthnet/incidents?status=resolved");
        Assert.Contains(resolvedList["items"]!.AsArray(), i => i!["id"]!.GetValue<string>() == incidentId);
        var stillOpen = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/healthnet/incidents?status=open");
        Assert.DoesNotContain(stillOpen["items"]!.AsArray(), i => i!["id"]!.GetValue<string>() == incidentId);
    }

    [Fact]
    public async Task Every_ingest_format_and_the_path_key_reach_the_same_model()
    {
        var name = Unique("Probe");
        var (webhook, _) = await Api.PostAsync(Server.Anonymous, "/i/demo-key-logiship/api/v1/integrations/alertmanager",
            $$"""{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"{{name}}","instance":"a"},"annotations":{},"startsAt":"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}""");
        Assert.Equal(200, webhook);

        var (canonical, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts",
            $$"""{"alerts":[{"labels":{"alertname":"{{name}}","instance":"b"},"severity":"P2","summary":"probe failing"}]}""", bearer: "demo-key-logiship");
        Assert.Equal(202, canonical);
        var incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();

        var dedupKey = Unique("pd-");
        var (pagerDuty, pdAnswer) = await Api.PostAsync(Server.Anonymous, "/v2/enqueue",
            $$$"""{"routing_key":"demo-key-logiship","event_action":"trigger","dedup_key":"{{{dedupKey}}}","payload":{"summary":"{{{name}}}","source":"host-1","severity":"error","class":"{{{name}}}"}}""");
        Assert.Equal(202, pagerDuty);
        Assert.Equal("success", pdAnswer!["status"]!.GetValue<string>());
        Assert.Equal("Event processed", pdAnswer["message"]!.GetValue<string>());
        Assert.Equal(dedupKey, pdAnswer["dedup_key"]!.GetValue<string>());

        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}");
        Assert.Equal("tracking-api", incident["service"]!.GetValue<string>());
        Assert.Equal(3, incident["alerts"]!.AsArray().Count);
        Assert.Equal("sev2", incident["severity"]!.GetValue<string>());
        Assert.Contains(incident["alerts"]!.AsArray(), a => a!["fingerprint"]!.GetValue<string>() == dedupKey);

        var (ack, _) = await Api.PostAsync(Server.Anonymous, "/v2/enqueue", $$"""{"routing_key":"demo-key-logiship","event_action":"acknowledge","dedup_key":"{{dedupKey}}"}""");
        Assert.Equal(202, ack);
        Assert.Equal("acknowledged", (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_undeclared_service_is_accepted_and_flagged()
    {
        var service = Unique("billing-");
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$$"""[{"labels":{"alertname":"Down","service":"{{{service}}}"}}]""", bearer: "demo-key-telco");
        Assert.Equal(200, status);
        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>()}");
        Assert.Equal(service, incident["service"]!.GetValue<string>());
        Assert.False(incident["serviceDeclared"]!.GetValue<bool>());
        var account = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/telco");
        Assert.Contains(account["undeclaredServices"]!.AsArray(), s => s!.GetValue<string>() == service);
    }

    [Fact]
    public async Task In_the_demo_an_imaging_alert_soon_after_an_ehr_api_failure_joins_that_failure()
    {
        // HealthNet's imaging archive depends on the records API, and its correlation window is 5 minutes: a symptom
        // downstream joins the failure upstream instead of paging on its own.
        var (failed, failure) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$$"""[{"labels":{"alertname":"{{{Unique("EhrDatabaseDown")}}}","service":"ehr-api","severity":"critical"}}]""", bearer: "demo-key-healthnet");
        Assert.Equal(200, failed);
        Assert.True(failure!["alerts"]![0]!["openedIncident"]!.GetValue<bool>());
        var (seen, symptom) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$$"""[{"labels":{"alertname":"{{{Unique("ImagingErrors")}}}","service":"imaging","severity":"critical"}}]""", bearer: "demo-key-healthnet");
        Assert.Equal(200, seen);
        Assert.False(symptom!["alerts"]![0]!["openedIncident"]!.GetValue<bool>());
        // Other tests on this shared server open ehr-api incidents too: the one joined is the latest failure upstream.
        var joined = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{symptom["alerts"]![0]!["incidentId"]!.GetValue<string>()}");
        Assert.Equal("ehr-api", joined["service"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lists_page_with_a_cursor()
    {
        var name = Unique("Page");
        var batch = string.Join(",", Enumerable.Range(0, 5).Select(i => $$$"""{"labels":{"alertname":"{{{name}}}{{{i}}}","service":"imaging"}}"""));
        Assert.Equal(200, (await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", $"[{batch}]", bearer: "demo-key-healthnet")).Status);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/healthnet/incidents?limit=2{(cursor is null ? "" : $"&cursor={cursor}")}");
            Assert.True(page["items"]!.AsArray().Count <= 2);
            seen.AddRange(page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
            cursor = page["next"]?.GetValue<string>();
        } while (cursor is not null);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var all = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/healthnet/incidents?limit=500");
        Assert.Equal(all["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()), seen);
    }

    [Fact]
    public async Task Configuration_can_be_replaced_over_the_admin_api()
    {
        var id = Unique("acct-");
        var yaml = $"""
            id: {id}
            name: Test account
            services:
              - id: web
            integrationKeys:
              - name: primary
                key: {id}-key-000000
                defaultService: web
            """;
        var (created, _) = await Api.PutYamlConfigAsync(Server.Admin, id, yaml);
        Assert.Equal(201, created);
        Assert.Equal(202, (await Api.PostAsync(Server.Anonymous, "/api/v1/alerts", """{"alerts":[{"labels":{"alertname":"X"}}]}""", bearer: $"{id}-key-000000")).Status);

        var json = new JsonObject
        {
            ["name"] = "Renamed",
            ["services"] = new JsonArray(new JsonObject { ["id"] = "web" }, new JsonObject { ["id"] = "db" }),
            ["integrationKeys"] = new JsonArray(),
        };
        var (replaced, body) = await Api.SendAsync(Server.Admin, HttpMethod.Put, $"/api/v1/accounts/{id}/config", json.ToJsonString());
        Assert.Equal(200, replaced);
        Assert.Equal("Renamed", body!["name"]!.GetValue<string>());
        var account = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}");
        Assert.Equal(2, account["configVersion"]!.GetValue<int>());
        // The key was removed with the new configuration, so it no longer ingests.
        Assert.Equal(401, (await Api.PostAsync(Server.Anonymous, "/api/v1/alerts", """{"alerts":[{"labels":{"alertname":"X"}}]}""", bearer: $"{id}-key-000000")).Status);
    }

    [Fact]
    public async Task Health_and_openapi_are_served()
    {
        Assert.Equal(200, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/healthz")).Status);
        var openApi = await Api.GetOkAsync(Server.Anonymous, "/openapi/v1.json");
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/v2/alerts", paths);
        Assert.Contains("/v2/enqueue", paths);
        Assert.Contains("/api/v1/incidents/{incidentId}/chronicle/verify", paths);
    }

    [Fact]
    public async Task An_alert_whose_sender_stops_refreshing_it_expires_at_its_endsAt_like_in_alertmanager()
    {
        var endsAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$"""[{"labels":{"alertname":"{{Unique("Quiet")}}","service":"ehr-api"},"endsAt":"{{endsAt:O}}"}]""", bearer: "demo-key-healthnet");
        Assert.Equal(200, status);
        var id = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        Assert.Equal("triggered", (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{id}"))["status"]!.GetValue<string>());

        var resolved = await Api.EventuallyAsync(async () =>
        {
            var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{id}");
            return incident["status"]!.GetValue<string>() == "resolved" ? incident : null;
        }, TimeSpan.FromSeconds(20), $"{id} to expire");
        Assert.Equal(endsAt, DateTimeOffset.Parse(resolved["resolvedAt"]!.GetValue<string>()));
        var chronicle = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{id}/chronicle");
        Assert.Contains(chronicle, e => e!["actor"]!.GetValue<string>() == "expiry");
    }

    [Fact]
    public async Task Refusals_are_logged_without_the_key()
    {
        Assert.Equal(401, (await Api.PostAsync(Server.Anonymous, "/i/secret-path-key-123456/api/v2/alerts", """[{"labels":{"a":"b"}}]""")).Status);
        Assert.Equal(400, (await Api.PostAsync(Server.Anonymous, "/i/demo-key-healthnet/api/v2/alerts", """[{"labels":{"a":"b"},"startsAt":"soon"}]""")).Status);
        var output = await Api.EventuallyAsync(() => Task.FromResult<string?>(Server.Output.Contains("[0].startsAt") ? Server.Output : null), TimeSpan.FromSeconds(5), "the refusal in the log");
        Assert.Contains("/i/{key}/api/v2/alerts", output);
        Assert.DoesNotContain("secret-path-key-123456", output);
        Assert.DoesNotContain("demo-key-healthnet", output);
    }

    [Fact]
    public async Task The_first_alert_in_the_readme_posted_now_opens_an_incident_without_spending_the_budget()
    {
        // The body of the README's first curl, as a new user pastes it, against an account with healthnet's SLO.
        var readme = await File.ReadAllTextAsync(Path.Combine(ServerProcess.RepositoryRoot, "README.md"));
        var start = readme.IndexOf("-d '", readme.IndexOf("## Try it", StringComparison.Ordinal), StringComparison.Ordinal) + "-d '".Length;
        var body = readme[start..readme.IndexOf('\'', start)];
        var id = Unique("acct-try-");
        var key = Unique("try-key-");
        var (status, problem) = await Api.PutYamlConfigAsync(Server.Admin, id, $$"""
            id: {{id}}
            name: Try it
            services: [{id: ehr-api}]
            sla:
              availability:
                - {name: availability, target: 99.95, window: 30d, services: [ehr-api]}
            integrationKeys: [{name: try, key: {{key}}}]
            """);
        Assert.True(status == 201, problem?.ToJsonString());

        var (posted, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", body, bearer: key);
        Assert.True(posted == 200, receipt?.ToJsonString());
        Assert.True(receipt!["alerts"]![0]!["openedIncident"]!.GetValue<bool>());
        var slo = (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/sla"))["slos"]!.AsArray().First(s => s!["id"]!.GetValue<string>() == "availability")!;
        Assert.True(slo["remainingMinutes"]!.GetValue<double>() > 0.99 * slo["budgetMinutes"]!.GetValue<double>(), slo.ToJsonString());
    }

    [Fact]
    public async Task The_account_file_in_the_readme_is_accepted_as_written()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(ServerProcess.RepositoryRoot, "README.md"));
        var start = readme.IndexOf("```yaml", readme.IndexOf("An account file:", StringComparison.Ordinal), StringComparison.Ordinal) + "```yaml".Length;
        var yaml = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        var id = Unique("acct-readme-");
        var (status, body) = await Api.PutYamlConfigAsync(Server.Admin, id, yaml.Replace("id: healthnet ", $"id: {id} "));
        Assert.True(status == 201, body?.ToJsonString());
        var config = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config");
        Assert.Equal("standard", config["escalation"]!["defaultPolicy"]!.GetValue<string>());
        Assert.Equal(["schedule:primary", "channel:ops-slack"], config["escalationPolicies"]![0]!["levels"]![0]!["targets"]!.AsArray().Select(t => t!.GetValue<string>()));
    }
}
