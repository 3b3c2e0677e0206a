using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Time-window and topology grouping through the real server, and the chronicle saying which rule attached each alert.</summary>
[Collection(SharedServer.Name)]
public sealed class GroupingTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task A_downstream_alert_joins_the_upstream_incident_as_a_symptom_and_the_chronicle_says_which_rule_attached_each_alert()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        var yaml = $"id: {id}\nname: Topology\nservices:\n  - id: db\n  - id: web\n    dependsOn: [db]\ncorrelation:\n  groupBy: [alertname]\n  window: 5m\nintegrationKeys:\n  - name: main\n    key: {key}\n";
        Assert.Equal(201, (await Api.SendAsync(Server.Admin, HttpMethod.Put, $"/api/v1/accounts/{id}/config", yaml, contentType: "application/yaml")).Status);
        async Task<JsonNode> Send(string alertname, string service)
        {
            var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts",
                $$"""{"alerts":[{"labels":{"alertname":"{{alertname}}"},"service":"{{service}}","severity":"P2"}]}""", bearer: key);
            Assert.Equal(202, status);
            return body!["alerts"]![0]!;
        }

        var root = await Send("PostgresDown", "db");
        var symptom = await Send("HighErrorRate", "web");
        var sameService = await Send("ReplicationLag", "db");

        var incidentId = root["incidentId"]!.GetValue<string>();
        Assert.Equal(incidentId, symptom["incidentId"]!.GetValue<string>());
        Assert.Equal(incidentId, sameService["incidentId"]!.GetValue<string>());
        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}");
        var alerts = incident["alerts"]!.AsArray().ToDictionary(a => a!["labels"]!["alertname"]!.GetValue<string>());
        Assert.Equal("web", alerts["HighErrorRate"]!["service"]!.GetValue<string>());
        Assert.StartsWith("topology: web depends on db", alerts["HighErrorRate"]!["rule"]!.GetValue<string>());
        Assert.StartsWith("time window: an incident of db was active", alerts["ReplicationLag"]!["rule"]!.GetValue<string>());

        var chronicle = (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle"))["items"]!.AsArray();
        var rules = chronicle.Select(e => e!["data"]?["rule"]?.GetValue<string>()).ToList();
        Assert.StartsWith("new group {alertname=\"PostgresDown\"}", rules[0]);
        var attached = chronicle.Single(e => e!["text"]!.GetValue<string>().Contains("HighErrorRate"))!;
        Assert.Contains("attached as a symptom", attached["text"]!.GetValue<string>());
        Assert.Equal("db", attached["data"]!["symptomOf"]!.GetValue<string>());
        Assert.True((await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle/verify"))["valid"]!.GetValue<bool>());

        var counters = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/correlation");
        Assert.Equal(1, counters["total"]!["incidentsOpened"]!.GetValue<int>());
        Assert.Equal(2, counters["total"]!["grouped"]!.GetValue<int>());
        Assert.Equal(0.6667, counters["total"]!["noiseReduction"]!.GetValue<double>(), 3);
    }
}
