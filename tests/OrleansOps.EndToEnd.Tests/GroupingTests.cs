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

    private async Task<(string Account, string Key)> AccountAsync(string correlation, string extra = "")
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        var yaml = $"id: {id}\nname: Signals\nservices:\n  - id: net\n  - id: web\ncorrelation:\n{correlation}integrationKeys:\n  - name: main\n    key: {key}\n{extra}";
        var (status, body) = await Api.SendAsync(Server.Admin, HttpMethod.Put, $"/api/v1/accounts/{id}/config", yaml, contentType: "application/yaml");
        Assert.True(status == 201, body?.ToJsonString());
        return (id, key);
    }

    [Fact]
    public async Task An_inhibition_rule_holds_back_targets_in_other_services_while_its_source_fires()
    {
        var (account, key) = await AccountAsync("  groupBy: [alertname, node]\n",
            "inhibit:\n  - name: node-down\n    source: ['alertname=\"NodeDown\"']\n    target: ['severity=\"warning\"']\n    equal: [node]\n");
        async Task<JsonNode> Send(string alertname, string service, string node, string severity)
        {
            var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts",
                $$"""{"alerts":[{"labels":{"alertname":"{{alertname}}","node":"{{node}}","severity":"{{severity}}"},"service":"{{service}}"}]}""", bearer: key);
            Assert.Equal(202, status);
            return body!["alerts"]![0]!;
        }

        var source = await Send("NodeDown", "net", "node-a", "critical");
        var inhibited = await Send("SlowResponses", "web", "node-a", "warning");
        var otherNode = await Send("SlowResponses", "web", "node-b", "warning");
        var critical = await Send("Errors", "web", "node-a", "critical");

        Assert.True(source["openedIncident"]!.GetValue<bool>());
        Assert.Equal("suppressed", inhibited["outcome"]!.GetValue<string>());
        Assert.Equal("inhibition", inhibited["suppressedBy"]!["kind"]!.GetValue<string>());
        Assert.Equal("node-down: NodeDown is firing", inhibited["suppressedBy"]!["name"]!.GetValue<string>());
        Assert.True(otherNode["openedIncident"]!.GetValue<bool>());
        Assert.True(critical["openedIncident"]!.GetValue<bool>());
        var held = (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/suppressed"))["items"]!.AsArray();
        Assert.Equal("web", Assert.Single(held)!["service"]!.GetValue<string>());
        var config = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/config");
        Assert.Equal("node", config["inhibit"]![0]!["equal"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Above_the_storm_threshold_a_flood_of_new_alerts_lands_in_one_incident_per_service_that_says_so()
    {
        var (account, key) = await AccountAsync("  stormPerMinute: 5\n");
        var flood = string.Join(",", Enumerable.Range(0, 8).Select(i => $$"""{"labels":{"alertname":"Flood{{i}}"},"service":"web"}"""));

        var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts", $$"""{"alerts":[{{flood}}]}""", bearer: key);

        Assert.Equal(202, status);
        var incidentIds = body!["alerts"]!.AsArray().Select(a => a!["incidentId"]!.GetValue<string>()).Distinct().ToList();
        var incidentId = Assert.Single(incidentIds);
        var chronicle = (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle"))["items"]!.AsArray();
        Assert.StartsWith("storm mode: 8 new alerts in the account within a minute", chronicle[0]!["data"]!["rule"]!.GetValue<string>());
        var counters = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/correlation");
        Assert.Equal(0.875, counters["total"]!["noiseReduction"]!.GetValue<double>(), 3);
    }
}
