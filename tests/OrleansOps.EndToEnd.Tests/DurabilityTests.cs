using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// A 2xx means it is on disk: the process is killed with SIGKILL right after the answer, and a restart on the same
/// folder has it all. Pure repeats are the exception the design allows: written within 5 seconds.
/// </summary>
public sealed class DurabilityTests
{
    /// <summary>
    /// A page handed to the notifier is marked sent before it goes out, so that no new activation sends it again; when
    /// the process dies while the receiver has not answered, the restarted server must not wait out the half hour kept
    /// for a notifier that might still be trying: the silo that held the page is gone.
    /// </summary>
    [Fact]
    public async Task A_page_in_flight_when_the_server_dies_goes_out_again_from_the_restarted_server()
    {
        using var receiver = LoopbackReceiver.Start();
        receiver.Holding = true;
        var dataPath = ServerProcess.NewTempFolder("orleansops-e2e-page-kill");
        var (httpPort, siloPort, gatewayPort) = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
        var account = "acct-page-kill-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-page-kill-key-" + Guid.NewGuid().ToString("N");
        string[] settings = [$"--E2E_PAGE_KILL_SECRET=e2e-page-kill-{Guid.NewGuid():N}"];
        try
        {
            string incidentId;
            await using (var server = await ServerProcess.StartAsync(dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort, settings: settings))
            {
                var (configured, problems) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
                    id: {{account}}
                    name: Page in flight
                    services:
                      - {id: api, escalationPolicy: page}
                    channels:
                      - {id: hook, kind: webhook, url: "{{receiver.Url}}hook", secretRef: E2E_PAGE_KILL_SECRET}
                    escalationPolicies:
                      - id: page
                        levels:
                          - {delay: 0m, targets: ["channel:hook"]}
                    integrationKeys:
                      - {name: main, key: {{key}}, defaultService: api}
                    """);
                Assert.True(configured == 201, problems?.ToJsonString());
                var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts",
                    """[{"labels":{"alertname":"PageInFlight","severity":"critical"},"startsAt":"2026-11-26T10:00:00Z"}]""", bearer: key);
                Assert.Equal(200, status);
                incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
                await Api.EventuallyAsync(() => Task.FromResult(Pages(receiver).Count == 1 ? "" : null), TimeSpan.FromSeconds(30), "the page to reach the receiver");
                await server.KillAsync();
            }
            receiver.Holding = false;

            await using var restarted = await ServerProcess.StartAsync(dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort, settings: settings);
            // Nothing asks for the incident: the restarted server finds the page by itself.
            await Api.EventuallyAsync(() => Task.FromResult(Pages(receiver).Count == 2 ? "" : null), TimeSpan.FromSeconds(30), "the page to be sent again");
            var pages = Pages(receiver);
            Assert.Equal(pages[0], pages[1]); // the same key: a receiver that did take the first one can tell
            var incident = await Api.EventuallyAsync(async () =>
            {
                var view = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}");
                return view["pendingNotifications"]!.GetValue<int>() == 0 ? view : null;
            }, TimeSpan.FromSeconds(30), "the delivery to be recorded");
            var outcome = Assert.Single(incident["notifications"]!.AsArray())!;
            Assert.True(outcome["delivered"]!.GetValue<bool>(), outcome.ToJsonString());
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }

    private static List<string?> Pages(LoopbackReceiver receiver) =>
        receiver.Requests.Where(r => r.Path == "/hook").Select(r => r.Headers["X-OrleansOps-Idempotency-Key"]).ToList();

    [Fact]
    public async Task Everything_acknowledged_with_a_2xx_survives_SIGKILL()
    {
        var dataPath = ServerProcess.NewTempFolder("orleansops-e2e-kill");
        var httpPort = FreePorts.Next();
        var expectedAlerts = new Dictionary<string, HashSet<string>>();
        var expectedStatus = new Dictionary<string, string>();
        try
        {
            await using (var server = await ServerProcess.StartAsync(dataPath, httpPort: httpPort))
            {
                // A storm of distinct and repeated alerts across accounts and services, each batch answered 2xx.
                for (var round = 0; round < 6; round++)
                {
                    var batch = new JsonArray();
                    for (var i = 0; i < 10; i++)
                    {
                        batch.Add(new JsonObject
                        {
                            ["labels"] = new JsonObject { ["alertname"] = $"Kill{i % 4}", ["instance"] = $"node-{i}", ["service"] = i % 2 == 0 ? "ehr-api" : "imaging" },
                            ["startsAt"] = "2026-11-26T10:00:00Z",
                        });
                    }
                    var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", batch.ToJsonString(), bearer: "demo-key-healthnet");
                    Assert.Equal(200, status);
                    foreach (var alert in receipt!["alerts"]!.AsArray())
                    {
                        var incidentId = alert!["incidentId"]!.GetValue<string>();
                        if (!expectedAlerts.TryGetValue(incidentId, out var fingerprints)) expectedAlerts[incidentId] = fingerprints = [];
                        fingerprints.Add(alert["fingerprint"]!.GetValue<string>());
                        expectedStatus[incidentId] = "triggered";
                    }
                }
                // Repeats (rounds 2 to 6 re-send round 1's alerts) may wait for their write; not longer than this.
                await Task.Delay(TimeSpan.FromSeconds(5) + TimeSpan.FromSeconds(2));

                var acknowledged = expectedAlerts.Keys.First();
                Assert.Equal(200, (await Api.PostAsync(server.Admin, $"/api/v1/incidents/{acknowledged}/ack", """{"actor":"ana"}""")).Status);
                expectedStatus[acknowledged] = "acknowledged";

                var (pdStatus, pd) = await Api.PostAsync(server.Anonymous, "/v2/enqueue",
                    """{"routing_key":"demo-key-logiship","event_action":"trigger","dedup_key":"kill-test","payload":{"summary":"Queue stuck","source":"q1","severity":"critical"}}""");
                Assert.Equal(202, pdStatus);
                var pdIncident = pd!["incident_id"]!.GetValue<string>();
                var (resolveStatus, _) = await Api.PostAsync(server.Anonymous, "/v2/enqueue", """{"routing_key":"demo-key-logiship","event_action":"resolve","dedup_key":"kill-test"}""");
                Assert.Equal(202, resolveStatus);
                expectedAlerts[pdIncident] = ["kill-test"];
                expectedStatus[pdIncident] = "resolved";

                await server.KillAsync();
            }

            await using var restarted = await ServerProcess.StartAsync(dataPath, httpPort: httpPort);
            foreach (var (incidentId, fingerprints) in expectedAlerts)
            {
                var incident = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}");
                Assert.Equal(expectedStatus[incidentId], incident["status"]!.GetValue<string>());
                Assert.Equal(fingerprints.Order(), incident["alerts"]!.AsArray().Select(a => a!["fingerprint"]!.GetValue<string>()).Order());
                var verify = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}/chronicle/verify");
                Assert.True(verify["valid"]!.GetValue<bool>(), verify.ToJsonString());
                Assert.Equal(incident["chronicleEntries"]!.GetValue<int>(), verify["entries"]!.GetValue<int>());
            }
            // Every repeat was written within its bound: 6 rounds of the same 10 alerts.
            var counts = new List<long>();
            foreach (var incidentId in expectedAlerts.Keys.Where(id => expectedStatus[id] != "resolved"))
            {
                var incident = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}");
                counts.AddRange(incident["alerts"]!.AsArray().Select(a => a!["count"]!.GetValue<long>()));
            }
            Assert.Equal(10, counts.Count);
            Assert.All(counts, count => Assert.Equal(6, count));

            var listed = new HashSet<string>();
            foreach (var account in new[] { "healthnet", "logiship" })
            {
                var page = await Api.GetOkAsync(restarted.Admin, $"/api/v1/accounts/{account}/incidents?limit=500");
                listed.UnionWith(page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
            }
            Assert.Superset(expectedAlerts.Keys.ToHashSet(), listed);

            // The restart reloaded the unchanged demo files without bumping their version.
            var healthnet = await Api.GetOkAsync(restarted.Admin, "/api/v1/accounts/healthnet");
            Assert.Equal(1, healthnet["configVersion"]!.GetValue<int>());
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }

    [Fact]
    public async Task An_account_list_catches_up_after_SIGKILL_with_the_incidents_and_alert_counts_it_had_not_written()
    {
        // An alert is on disk in its incident before the 2xx; the account's list and SLA ledger are copies, written within a
        // second (an alert count) or 50 ms (a new incident). A kill inside that time leaves the copies behind: the restarted
        // account asks its open incidents again, and an incident whose opening the account never wrote sends it again
        // when its reminder fires (within its period, a minute).
        var dataPath = ServerProcess.NewTempFolder("orleansops-e2e-kill-index");
        var httpPort = FreePorts.Next();
        try
        {
            string incidentId, newIncidentId;
            await using (var server = await ServerProcess.StartAsync(dataPath, httpPort: httpPort))
            {
                string Alert(string node) => $$"""[{"labels":{"alertname":"CatchUp","service":"ehr-api","instance":"{{node}}"},"startsAt":"2026-11-26T10:00:00Z"}]""";
                var (opened, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", Alert("node-a"), bearer: "demo-key-healthnet");
                Assert.Equal(200, opened);
                incidentId = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
                for (var i = 0; i < 3; i++)
                    Assert.Equal(200, (await Api.PostAsync(server.Anonymous, "/api/v2/alerts", Alert($"node-{i}"), bearer: "demo-key-healthnet")).Status);
                var (openedLast, last) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts",
                    """[{"labels":{"alertname":"CatchUpNew","service":"ehr-api","instance":"node-z"},"startsAt":"2026-11-26T10:00:00Z"}]""", bearer: "demo-key-healthnet");
                Assert.Equal(200, openedLast);
                newIncidentId = last!["alerts"]![0]!["incidentId"]!.GetValue<string>();
                await server.KillAsync();
            }

            await using var restarted = await ServerProcess.StartAsync(dataPath, httpPort: httpPort);
            var incident = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}");
            Assert.Equal(4, incident["alerts"]!.AsArray().Count);
            await Api.EventuallyAsync(async () =>
            {
                var page = await Api.GetOkAsync(restarted.Admin, "/api/v1/accounts/healthnet/incidents?limit=500");
                var listed = page["items"]!.AsArray().Single(i => i!["id"]!.GetValue<string>() == incidentId)!;
                return listed["alertCount"]!.GetValue<int>() == 4 ? (object)true : null;
            }, TimeSpan.FromSeconds(20), "the account's list to show the incident's four alerts");
            await Api.EventuallyAsync(async () =>
            {
                var page = await Api.GetOkAsync(restarted.Admin, "/api/v1/accounts/healthnet/incidents?limit=500");
                return page["items"]!.AsArray().Any(i => i!["id"]!.GetValue<string>() == newIncidentId) ? (object)true : null;
            }, TimeSpan.FromSeconds(150), "the account's list to show the incident opened just before the kill");
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }
}
