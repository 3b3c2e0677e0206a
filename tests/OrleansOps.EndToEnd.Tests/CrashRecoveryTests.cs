using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// A storm of new alerts comes in over 8 connections while the server kills itself (SIGKILL) at a chosen point of its
/// journal's writer; it starts again on the same folder and every batch not answered 2xx is sent again, as Alertmanager
/// does. Then every alert answered 2xx is in the incident its receipt named, each group has one incident, every
/// chronicle verifies, and each incident paged once.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Groups = 10;
    private const int BatchSize = 25;
    private const int Senders = 8;
    /// <summary>More than any crash point below needs: a server still alive after this many alerts never reached its point.</summary>
    private const int MaxAlerts = 60_000;
    private const string HookSecretName = "E2E_CRASH_HOOK_SECRET";

    [Theory]
    [InlineData("before-commit:60")]  // a flush written, not committed
    [InlineData("after-commit:60")]   // a flush committed, its requests not answered
    [InlineData("during-snapshot:1")] // a snapshot written, not committed
    [InlineData("during-truncation:1")] // the entries committed snapshots cover being dropped, not committed
    [InlineData("during-move:4")]     // a slice of the log copied into the tables read by stream, not committed
    [InlineData("after-move:4")]      // a slice committed, the log still holding it, the writer's own record not updated
    public async Task A_storm_killed_at_a_journal_point_loses_no_answered_alert_and_pages_each_incident_once(string crashAt)
    {
        using var receiver = LoopbackReceiver.Start();
        var dataPath = ServerProcess.NewTempFolder("orleansops-e2e-crash");
        var (httpPort, siloPort, gatewayPort) = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
        var account = "acct-crash-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-crash-key-" + Guid.NewGuid().ToString("N");
        string[] settings = [$"--{HookSecretName}=e2e-crash-hook-{Guid.NewGuid():N}", "--OrleansOps:RateLimits:IngestPerSecond=0"];
        var answered = new ConcurrentDictionary<string, string>(StringComparer.Ordinal); // fingerprint → incident its receipt named
        var unanswered = new ConcurrentQueue<string>();
        try
        {
            // The account first, so that the crash point counts the storm's flushes, snapshots and moves, not the start-up's.
            await using (var setup = await ServerProcess.StartAsync(dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort, settings: settings))
            {
                var (configured, problems) = await Api.PutYamlConfigAsync(setup.Admin, account, Config(account, key, receiver.Url));
                Assert.True(configured == 201, problems?.ToJsonString());
            }

            await using (var server = await ServerProcess.StartAsync(dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort,
                settings: settings, environment: new Dictionary<string, string> { ["ORLEANSOPS_CRASH_AT"] = crashAt }))
            {
                // The first batch opens every group; its pages go out and their outcomes are recorded before the storm, so
                // that the crash tests what a restart does with recorded pages. A page still on its way at the crash is
                // sent again under the same key, as the contract says, and is not what this test is about.
                var (firstStatus, firstReceipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", Batch(0), bearer: key);
                Assert.True(firstStatus == 200, $"{firstStatus}: {firstReceipt?.ToJsonString()}");
                Record(answered, firstReceipt!);
                await Api.EventuallyAsync(async () =>
                {
                    foreach (var incidentId in answered.Values.Distinct())
                    {
                        var incident = await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{incidentId}");
                        if (incident["pendingNotifications"]!.GetValue<int>() > 0 || incident["notifications"]!.AsArray().Count == 0) return null;
                    }
                    return "";
                }, TimeSpan.FromSeconds(30), "the first pages delivered and recorded");
                Assert.Equal(Groups, answered.Values.Distinct().Count());

                var sent = BatchSize;
                await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
                {
                    while (!server.HasExited)
                    {
                        var first = Interlocked.Add(ref sent, BatchSize) - BatchSize;
                        if (first >= MaxAlerts) return;
                        var batch = Batch(first);
                        try
                        {
                            var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", batch, bearer: key);
                            if (status == 200) Record(answered, receipt!);
                            else unanswered.Enqueue(batch);
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                        {
                            unanswered.Enqueue(batch);
                        }
                    }
                })));
                Assert.True(await server.ExitedWithinAsync(TimeSpan.FromSeconds(30)), $"The server never reached {crashAt} in {MaxAlerts} alerts.");
                Assert.Contains($"killing the process at {crashAt.Split(':')[0]}", server.Output);
                Assert.NotEmpty(answered);
            }

            output.WriteLine($"{crashAt}: {answered.Count} alerts answered 2xx before the crash, {unanswered.Count} batches of {BatchSize} to send again");
            await using var restarted = await ServerProcess.StartAsync(dataPath, httpPort: httpPort, siloPort: siloPort, gatewayPort: gatewayPort, settings: settings);
            foreach (var batch in unanswered)
            {
                var (status, receipt) = await Api.PostAsync(restarted.Anonymous, "/api/v2/alerts", batch, bearer: key);
                Assert.True(status == 200, $"{status}: {receipt?.ToJsonString()}");
                Record(answered, receipt!);
            }

            // One incident per group, holding exactly the alerts whose receipts named it.
            var incidents = (await Api.GetAllAsync(restarted.Admin, $"/api/v1/accounts/{account}/incidents"))
                .Select(i => i!["id"]!.GetValue<string>()).ToList();
            Assert.Equal(Groups, incidents.Count);
            Assert.Equal(incidents.Order(), answered.Values.Distinct().Order());
            var groupKeys = new HashSet<string>();
            foreach (var incidentId in incidents)
            {
                var incident = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}");
                Assert.True(groupKeys.Add(incident["groupKey"]!.GetValue<string>()), $"two incidents of group {incident["groupKey"]}");
                var held = (await Api.GetAllAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}/alerts"))
                    .Select(a => a!["fingerprint"]!.GetValue<string>()).Order().ToList();
                Assert.Equal(answered.Where(a => a.Value == incidentId).Select(a => a.Key).Order(), held);
                Assert.Equal(held.Count, incident["alertCount"]!.GetValue<int>());

                var verify = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}/chronicle/verify");
                Assert.True(verify["valid"]!.GetValue<bool>(), verify.ToJsonString());
            }

            // Each incident paged once, under the one key of its first step.
            await Api.EventuallyAsync(() => Task.FromResult(Pages(receiver).Select(p => p.Key).Distinct().Count() >= Groups ? "" : null),
                TimeSpan.FromSeconds(30), "a page for every incident");
            await Task.Delay(TimeSpan.FromSeconds(3)); // a second page would follow the first within the notifier's retries
            var pages = Pages(receiver);
            Assert.Equal(incidents.Select(id => $"{id}/g0.r0.l0/channel:hook").Order(), pages.Select(p => p.Key).Distinct().Order());
            Assert.All(pages.GroupBy(p => p.Key), page => Assert.True(page.Count() == 1, $"{page.Key} was delivered {page.Count()} times"));
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }

    private static string Config(string account, string key, string receiverUrl) => $$"""
        id: {{account}}
        name: Crash recovery
        services:
          - {id: api, escalationPolicy: page}
        channels:
          - {id: hook, kind: webhook, url: "{{receiverUrl}}hook", secretRef: {{HookSecretName}}}
        escalationPolicies:
          - id: page
            levels:
              - {delay: 0m, targets: ["channel:hook"]}
        correlation:
          groupBy: [alertname]
        integrationKeys:
          - {name: storm, key: {{key}}, defaultService: api}
        """;

    /// <summary>Alerts first … first + BatchSize − 1, each new, spread over the groups.</summary>
    private static string Batch(int first) => new JsonArray(Enumerable.Range(first, BatchSize).Select(n => (JsonNode)new JsonObject
    {
        ["labels"] = new JsonObject { ["alertname"] = $"Crash{n % Groups}", ["instance"] = $"node-{n}", ["severity"] = "critical" },
        ["startsAt"] = "2026-11-26T10:00:00Z",
    }).ToArray()).ToJsonString();

    private static void Record(ConcurrentDictionary<string, string> answered, JsonNode receipt)
    {
        foreach (var alert in receipt["alerts"]!.AsArray())
        {
            var fingerprint = alert!["fingerprint"]!.GetValue<string>();
            var incident = alert["incidentId"]?.GetValue<string>() ?? throw new InvalidOperationException($"no incident for {alert.ToJsonString()}");
            var named = answered.GetOrAdd(fingerprint, incident);
            Assert.True(named == incident, $"{fingerprint} was placed in {named}, then in {incident}");
        }
    }

    private static List<(string Key, string Body)> Pages(LoopbackReceiver receiver) =>
        receiver.Requests.Where(r => r.Path == "/hook").Select(r => (r.Headers["X-OrleansOps-Idempotency-Key"]!, r.Body)).ToList();
}
