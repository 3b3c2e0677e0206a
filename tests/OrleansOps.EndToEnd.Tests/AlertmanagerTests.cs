using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

[Collection(SharedServer.Name)]
public sealed class AlertmanagerTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static string WebhookConfig(int serverPort, string key) => $"""
        route:
          receiver: orleansops
          group_by: [alertname]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: orleansops
            webhook_configs:
              - url: http://127.0.0.1:{serverPort}/api/v1/integrations/alertmanager
                send_resolved: true
                http_config:
                  authorization:
                    type: Bearer
                    credentials: {key}
        """;

    [RequiresAlertmanagerFact]
    public async Task A_real_alertmanager_delivers_firing_alerts_that_open_incidents_and_resolved_ones_that_resolve_them()
    {
        await using var alertmanager = await AlertmanagerProcess.StartAsync(WebhookConfig(Server.HttpPort, "demo-key-telco"));
        var name = $"NodeDown{Guid.NewGuid():N}"[..20];
        var startsAt = DateTimeOffset.UtcNow.AddMinutes(-2);
        JsonArray Alerts(DateTimeOffset? endsAt) => new(
            new[] { "node-a", "node-b" }.Select(node => (JsonNode)new JsonObject
            {
                ["labels"] = new JsonObject { ["alertname"] = name, ["node"] = node, ["service"] = "core-network", ["severity"] = "critical" },
                ["annotations"] = new JsonObject { ["summary"] = $"{node} is down" },
                ["startsAt"] = startsAt.ToString("O"),
                ["endsAt"] = endsAt?.ToString("O"),
            }).ToArray());

        await alertmanager.PostAlertsAsync(Alerts(DateTimeOffset.UtcNow.AddHours(1)));
        var incidents = await Api.EventuallyAsync(async () =>
        {
            var page = await Api.GetOkAsync(Server.Admin, "/api/v1/accounts/telco/incidents?status=open&limit=500");
            var mine = page["items"]!.AsArray().Where(i => i!["title"]!.GetValue<string>().StartsWith(name, StringComparison.Ordinal)).ToList();
            return mine.Count == 2 ? mine : null;
        }, TimeSpan.FromSeconds(30), $"two incidents for {name} (one per node: telco groups by alertname and node)\n{alertmanager.Output}");

        foreach (var incident in incidents)
        {
            var detail = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incident!["id"]!.GetValue<string>()}");
            Assert.Equal("sev1", detail["severity"]!.GetValue<string>());
            Assert.Equal("core-network", detail["service"]!.GetValue<string>());
            var alert = Assert.Single(detail["alerts"]!.AsArray());
            Assert.Equal("alertmanager", alert!["source"]!.GetValue<string>());
        }

        var resolvedAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        await alertmanager.PostAlertsAsync(Alerts(resolvedAt));
        foreach (var incident in incidents)
        {
            var id = incident!["id"]!.GetValue<string>();
            var resolved = await Api.EventuallyAsync(async () =>
            {
                var detail = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{id}");
                return detail["status"]!.GetValue<string>() == "resolved" ? detail : null;
            }, TimeSpan.FromSeconds(30), $"{id} resolved\n{alertmanager.Output}");
            // The incident ends when Alertmanager says the alert ended, not when the notification arrived.
            var end = DateTimeOffset.Parse(resolved["resolvedAt"]!.GetValue<string>());
            Assert.InRange(end, resolvedAt.AddSeconds(-1), resolvedAt.AddSeconds(1));
        }
    }

    public static IEnumerable<Dictionary<string, string>> VariedLabelSets()
    {
        yield return new() { ["alertname"] = "A" };
        yield return new() { ["alertname"] = "HighLatency", ["service"] = "ehr-api", ["severity"] = "critical" };
        yield return new() { ["alertname"] = "Ünïcødé", ["city"] = "Zürich" };
        yield return new() { ["alertname"] = "Emoji", ["mood"] = "🔥🚒" };
        yield return new() { ["alertname"] = "CJK", ["region"] = "東京", ["team"] = "운영" };
        yield return new() { ["alertname"] = "RTL", ["text"] = "שלום عالم" };
        yield return new() { ["alertname"] = "Empty", ["blank"] = "", ["kept"] = "x" };
        yield return new() { ["alertname"] = "Spaces", ["summary"] = "  leading and trailing  " };
        yield return new() { ["alertname"] = "Quotes", ["q"] = "\"double\" 'single' \\back" };
        yield return new() { ["alertname"] = "Newline", ["multi"] = "line one\nline two\ttab" };
        yield return new() { ["alertname"] = "Braces", ["expr"] = "rate(http_requests_total{code=~\"5..\"}[5m]) > 0.1" };
        yield return new() { ["alertname"] = "Url", ["runbook"] = "https://example.org/runbooks?id=1&x=%20" };
        yield return new() { ["alertname"] = "Long", ["value"] = new string('v', 2000) };
        yield return new() { ["alertname"] = "Underscore", ["__name__"] = "up", ["_private"] = "1" };
        yield return new() { ["alertname"] = "Digits", ["code"] = "500", ["n0"] = "0" };
        yield return new() { ["alertname"] = "Case", ["Zeta"] = "1", ["alpha"] = "2", ["Alpha"] = "3" };
        yield return new() { ["alertname"] = "Order", ["b"] = "2", ["a"] = "1", ["c"] = "3", ["aa"] = "11" };
        yield return new() { ["alertname"] = "Control", ["ctl"] = "bell\u0007nul-free" };
        yield return new() { ["alertname"] = "Separatorish", ["x"] = "\u00ff\u00fe" };
        var many = new Dictionary<string, string> { ["alertname"] = "Many" };
        for (var i = 0; i < 60; i++) many[$"label_{i:d2}"] = $"value-{i * 7919 % 1000}";
        yield return many;
        yield return new() { ["alertname"] = "Accents", ["name"] = "garland, briggs", ["fear"] = "love is not enough" };
        yield return new() { ["alertname"] = "Combining", ["e"] = "e\u0301", ["precomposed"] = "\u00e9" };
    }

    [RequiresAlertmanagerFact]
    public async Task Fingerprints_equal_alertmanagers_for_varied_label_sets()
    {
        await using var alertmanager = await AlertmanagerProcess.StartAsync("""
            route:
              receiver: blackhole
            receivers:
              - name: blackhole
            """);
        var sets = VariedLabelSets().ToList();
        Assert.True(sets.Count >= 20);
        var run = Guid.NewGuid().ToString("N")[..8];
        var batch = new JsonArray(sets.Select(labels =>
        {
            var json = new JsonObject();
            foreach (var (name, value) in labels) json[name] = value;
            json["run"] = run;
            return (JsonNode)new JsonObject { ["labels"] = json, ["endsAt"] = DateTimeOffset.UtcNow.AddHours(1).ToString("O") };
        }).ToArray());

        await alertmanager.PostAlertsAsync((JsonArray)batch.DeepClone());
        var stored = await Api.EventuallyAsync(async () =>
        {
            var alerts = await alertmanager.GetAlertsAsync();
            return alerts.Count == sets.Count ? alerts : null;
        }, TimeSpan.FromSeconds(20), "Alertmanager to list every alert");

        // The same batch through our own ingest: the receipts carry our fingerprints.
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", batch.ToJsonString(), bearer: "demo-key-logiship");
        Assert.Equal(200, status);
        var ours = receipt!["alerts"]!.AsArray().Select(a => a!["fingerprint"]!.GetValue<string>()).ToList();

        for (var i = 0; i < sets.Count; i++)
        {
            var labels = new Dictionary<string, string>(sets[i].Where(p => p.Value.Length > 0)) { ["run"] = run };
            var theirs = stored.Single(a => a!["labels"]!["alertname"]!.GetValue<string>() == labels["alertname"])!;
            var theirLabels = theirs["labels"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
            Assert.Equal(labels.OrderBy(p => p.Key, StringComparer.Ordinal), theirLabels.OrderBy(p => p.Key, StringComparer.Ordinal));
            var fingerprint = theirs["fingerprint"]!.GetValue<string>();
            Assert.Equal(fingerprint, AlertFingerprint.Of(theirLabels));
            Assert.Equal(fingerprint, ours[i]);
        }
    }
}
