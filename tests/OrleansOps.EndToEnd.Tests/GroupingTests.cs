using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Time-window and topology grouping through the real server, and the chronicle saying which rule attached each alert.</summary>
[Collection(SharedServer.Name)]
public sealed class GroupingTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task A_failure_spreads_through_its_dependants_into_one_incident_and_the_chronicle_says_which_rule_attached_each_alert()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        var yaml = $"""
            id: {id}
            name: Topology
            services:
              - id: db
              - id: api
                dependsOn: [db]
              - id: web
                dependsOn: [api]
            correlation:
              groupBy: [alertname, node]
              window: 5m
              symptomSeverity: error
            integrationKeys:
              - name: main
                key: {key}
            """;
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, yaml)).Status);
        Assert.Equal("sev2", (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config"))["correlation"]!["symptomSeverity"]!.GetValue<string>());
        async Task<JsonArray> Send(params (string Alertname, string Service, string Node, string Severity)[] alerts)
        {
            var items = string.Join(",", alerts.Select(a =>
                $$"""{"labels":{"alertname":"{{a.Alertname}}","node":"{{a.Node}}"},"service":"{{a.Service}}","severity":"{{a.Severity}}"}"""));
            var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts", $$"""{"alerts":[{{items}}]}""", bearer: key);
            Assert.Equal(202, status);
            return body!["alerts"]!.AsArray();
        }
        static string IncidentOf(JsonNode? receipt) => receipt!["incidentId"]!.GetValue<string>();

        var root = await Send(("PostgresDown", "db", "db-1", "critical"));
        var spreading = await Send(("PostgresDown", "db", "db-2", "critical"));
        // The symptom two hops down comes first in its request; its cause one hop down is correlated before it.
        var cascade = await Send(("HighErrorRate", "web", "web-1", "error"), ("HighErrorRate", "api", "api-1", "error"));
        var latency = await Send(("SlowPageLoad", "web", "web-1", "warning"));
        var unrelated = await Send(("DiskSpaceLow", "web", "web-2", "warning"));

        var incidentId = IncidentOf(root[0]);
        Assert.All([spreading[0], cascade[0], cascade[1], latency[0]], receipt => Assert.Equal(incidentId, IncidentOf(receipt)));
        Assert.NotEqual(incidentId, IncidentOf(unrelated[0]));

        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}");
        var rules = incident["alerts"]!.AsArray().ToDictionary(
            a => $"{a!["labels"]!["alertname"]!.GetValue<string>()}@{a["labels"]!["node"]!.GetValue<string>()}",
            a => a!["rule"]!.GetValue<string>());
        Assert.StartsWith("new group {alertname=\"PostgresDown\",node=\"db-1\"}", rules["PostgresDown@db-1"]);
        Assert.StartsWith("time window: PostgresDown of db joined this incident", rules["PostgresDown@db-2"]);
        Assert.StartsWith("topology: api depends on db, which joined this incident", rules["HighErrorRate@api-1"]);
        Assert.StartsWith("topology: web depends on api, which joined this incident", rules["HighErrorRate@web-1"]);

        var chronicle = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        var attached = chronicle.Single(e => e!["text"]!.GetValue<string>().StartsWith("Alert HighErrorRate on web attached as a symptom", StringComparison.Ordinal))!;
        Assert.Equal("db", attached["data"]!["symptomOf"]!.GetValue<string>());
        Assert.StartsWith("topology: web depends on api", attached["data"]!["rule"]!.GetValue<string>());
        Assert.True((await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle/verify"))["valid"]!.GetValue<bool>());

        var counters = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/correlation");
        Assert.Equal(2, counters["total"]!["incidentsOpened"]!.GetValue<int>());
        Assert.Equal(4, counters["total"]!["grouped"]!.GetValue<int>());
        Assert.Equal(0.6667, counters["total"]!["noiseReduction"]!.GetValue<double>(), 3);
    }

    [Fact]
    public async Task A_node_failure_on_a_kubernetes_estate_is_one_incident_across_the_services_on_the_node()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        var yaml = $"""
            id: {id}
            name: Kubernetes estate
            services:
              - id: auth
              - id: orders-api
              - id: billing
              - id: checkout
                dependsOn: [auth]
            serviceLabels: [service, app_kubernetes_io_name, app, job]
            zones:
              zone-b: [worker-b-1, worker-b-2]
              zone-c: [worker-c-1]
            correlation:
              groupBy: [alertname]
              window: 3m
              symptomSeverity: error
              sameService: true
              nodeLabels: [node, kubernetes_node, instance]
            integrationKeys:
              - name: main
                key: {key}
            """;
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, yaml)).Status);
        var config = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config");
        Assert.Equal(["service", "app_kubernetes_io_name", "app", "job"], config["serviceLabels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(["node", "kubernetes_node", "instance"], config["correlation"]!["nodeLabels"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Equal(["worker-b-1", "worker-b-2"], config["zones"]!["zone-b"]!.AsArray().Select(l => l!.GetValue<string>()));

        // As Prometheus sends them: labels only, each exporter with its own service and job labels.
        async Task<JsonNode> Send(string labels)
        {
            var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", "[{\"labels\":{" + labels.Trim() + "}}]", bearer: key);
            Assert.Equal(200, status);
            return body!["alerts"]!.AsArray()[0]!;
        }
        var nodeDown = await Send("""
            "alertname":"NodeDown","severity":"critical","job":"node-exporter","service":"node-exporter","instance":"10.0.2.7:9100","kubernetes_node":"worker-b-2"
            """);
        var targetDown = await Send("""
            "alertname":"TargetDown","severity":"error","job":"auth","service":"auth","instance":"10.4.1.9:8080","node":"worker-b-2"
            """);
        var crashLooping = await Send("""
            "alertname":"KubePodCrashLooping","severity":"error","job":"kube-state-metrics","service":"kube-state-metrics","app_kubernetes_io_name":"orders-api","node":"worker-b-2","pod":"orders-api-7c9f6-x2k4p"
            """);
        var elsewhere = await Send("""
            "alertname":"TargetDown","severity":"error","job":"billing","service":"billing","instance":"10.4.3.2:8080","node":"worker-c-1"
            """);

        var incidentId = nodeDown["incidentId"]!.GetValue<string>();
        Assert.Equal(incidentId, targetDown["incidentId"]!.GetValue<string>());
        Assert.Equal(incidentId, crashLooping["incidentId"]!.GetValue<string>());
        Assert.NotEqual(incidentId, elsewhere["incidentId"]!.GetValue<string>());

        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incidentId}");
        var alerts = incident["alerts"]!.AsArray().ToDictionary(a => a!["labels"]!["alertname"]!.GetValue<string>());
        Assert.Equal("orders-api", alerts["KubePodCrashLooping"]!["service"]!.GetValue<string>());
        Assert.Equal("node: worker-b-2 failed in this incident (node-exporter) 0s ago (window 3m)", alerts["TargetDown"]!["rule"]!.GetValue<string>());
        Assert.StartsWith("node: worker-b-2 failed in this incident", alerts["KubePodCrashLooping"]!["rule"]!.GetValue<string>());

        // The zone's own alert, from a blackbox probe, names no node: it joins the failure on its node, and what fails
        // on the zone's other node after it joins too.
        var zoneDown = await Send("""
            "alertname":"KubeZoneUnreachable","severity":"critical","job":"blackbox","service":"blackbox","zone":"zone-b"
            """);
        var otherNode = await Send("""
            "alertname":"HighErrorRate","severity":"error","job":"auth","service":"auth","instance":"10.4.1.12:8080","node":"worker-b-1"
            """);
        Assert.Equal(incidentId, zoneDown["incidentId"]!.GetValue<string>());
        Assert.Equal(incidentId, otherNode["incidentId"]!.GetValue<string>());

        // Why each alert is there, in the order they joined, with what was passed over.
        var placements = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/correlation");
        Assert.Equal(["opened", "node", "node", "zone", "zone"], placements.Select(p => p!["relation"]!.GetValue<string>()));
        Assert.Equal(["node-exporter", "auth", "orders-api", "blackbox", "auth"], placements.Select(p => p!["service"]!.GetValue<string>()));
        Assert.Equal("worker-b-2", placements[1]!["node"]!.GetValue<string>());
        var last = placements[4]!;
        Assert.StartsWith("zone: zone-b failed in this incident (blackbox)", last["rule"]!.GetValue<string>());
        Assert.Equal($"{incidentId}: same service: auth failed in this incident", Assert.Single(last["considered"]!.AsArray())!.GetValue<string>()[..(incidentId.Length + 44)]);

        // Auth's replicas were lost with their machines, auth itself did not fail: what depends on it elsewhere is not the zone's.
        var dependant = await Send("""
            "alertname":"HighErrorRate","severity":"error","job":"checkout","service":"checkout","instance":"10.4.3.8:8080","node":"worker-c-1"
            """);
        Assert.NotEqual(incidentId, dependant["incidentId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_database_heard_after_the_errors_it_causes_two_hops_down_joins_their_incident_through_the_failing_service_between()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Late cause
            services:
              - id: db
              - id: api
                dependsOn: [db]
              - id: web
                dependsOn: [api]
              - id: queue
                dependsOn: [db]
              - id: batch
                dependsOn: [queue]
            correlation: {"{"}groupBy: [alertname], window: 3m, symptomSeverity: error{"}"}
            integrationKeys: [{"{"}name: main, key: {key}{"}"}]
            """)).Status);
        async Task<string> Send(string alertname, string service, string severity)
        {
            var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
                $$$"""[{"labels":{"alertname":"{{{alertname}}}","service":"{{{service}}}","severity":"{{{severity}}}","instance":"{{{service}}}-1:9100"}}]""", bearer: key);
            Assert.Equal(200, status);
            return body!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        }

        var symptom = await Send("HighErrorRate", "web", "error");
        var between = await Send("HighErrorRate", "api", "error");
        // Batch fails too, through a queue that does not: its errors are its own (a bad rollout), not the database's.
        var elsewhere = await Send("HighErrorRate", "batch", "error");
        var cause = await Send("PostgresqlDown", "db", "critical");

        Assert.Equal(symptom, between);
        Assert.NotEqual(symptom, elsewhere);
        Assert.Equal(symptom, cause);
        var placements = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{symptom}/correlation");
        Assert.Equal(["opened", "cause", "cause"], placements.Select(p => p!["relation"]!.GetValue<string>()));
        Assert.StartsWith("late cause: web depends on api and opened this incident", placements[1]!["rule"]!.GetValue<string>());
        Assert.StartsWith("late cause: web depends on db and opened this incident", placements[2]!["rule"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_flapping_probe_reopens_the_incident_it_ended_rather_than_open_a_second()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Flapping
            services: [{"{"}id: api{"}"}]
            correlation: {"{"}groupBy: [alertname], flapping: {"{"}toggles: 4, window: 10m, quiet: 3m{"}"}{"}"}
            integrationKeys: [{"{"}name: main, key: {key}{"}"}]
            """)).Status);
        async Task<string?> Send(string status, DateTimeOffset startsAt)
        {
            var (code, body) = await Api.PostAsync(Server.Anonymous, "/api/v1/alerts",
                $$"""{"alerts":[{"labels":{"alertname":"ReadinessProbeFailed","pod":"api-1"},"service":"api","severity":"warning","status":"{{status}}","startsAt":"{{startsAt:O}}"}]}""", bearer: key);
            Assert.Equal(202, code);
            return body!["alerts"]![0]!["incidentId"]?.GetValue<string>();
        }

        var start = DateTimeOffset.UtcNow;
        var first = await Send("firing", start);
        await Send("resolved", start);
        Assert.Equal("resolved", (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{first}"))["status"]!.GetValue<string>());
        var back = await Send("firing", DateTimeOffset.UtcNow);

        Assert.Equal(first, back);
        Assert.Equal("triggered", (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{first}"))["status"]!.GetValue<string>());
        var chronicle = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{first}/chronicle");
        Assert.StartsWith("Reopened by correlation: flapping: ReadinessProbeFailed fired again",
            chronicle.Single(e => e!["kind"]!.GetValue<string>() == "incident.reopened")!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Service_and_node_labels_that_name_nothing_are_refused_and_change_nothing()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var (status, problem) = await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Empty labels
            serviceLabels: []
            correlation:
              nodeLabels: [node, ""]
            """);
        Assert.Equal(400, status);
        var errors = problem!.ToJsonString();
        Assert.Contains("serviceLabels: give at least one label name", errors);
        Assert.Contains("correlation.nodeLabels: give at least one label name", errors);
        Assert.Equal(404, (await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{id}/config", null)).Status);
    }

    [Fact]
    public async Task A_symptom_severity_that_is_no_severity_is_refused_and_changes_nothing()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var yaml = $"id: {id}\nname: Bad\ncorrelation:\n  symptomSeverity: loud\n";

        var (status, body) = await Api.PutYamlConfigAsync(Server.Admin, id, yaml);

        Assert.Equal(400, status);
        Assert.StartsWith("correlation.symptomSeverity: 'loud' is not a severity", Assert.Single(body!["errors"]!.AsArray())!.GetValue<string>());
        Assert.Equal(404, (await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{id}/config", null)).Status);
    }

    [Fact]
    public async Task A_symptom_wait_round_trips_and_one_beyond_an_hour_or_without_a_window_is_refused()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        string Yaml(string wait, bool window = true) =>
            $"id: {id}\nname: Wait\ncorrelation:\n{(window ? "  window: 3m\n" : "")}  symptomSeverity: error\n  symptomWait: {wait}\n";

        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, Yaml("30s"))).Status);
        var (status, body) = await Api.PutYamlConfigAsync(Server.Admin, id, Yaml("2h"));

        Assert.Equal(400, status);
        Assert.StartsWith("correlation.symptomWait: must be between 0 (off) and 1h", Assert.Single(body!["errors"]!.AsArray())!.GetValue<string>());
        var (withoutWindow, problem) = await Api.PutYamlConfigAsync(Server.Admin, id, Yaml("30s", window: false));
        Assert.Equal(400, withoutWindow);
        Assert.StartsWith("correlation.symptomWait: needs correlation.window", Assert.Single(problem!["errors"]!.AsArray())!.GetValue<string>());
        Assert.Equal("30s", (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}/config"))["correlation"]!["symptomWait"]!.GetValue<string>());
    }

    private async Task<(string Account, string Key)> AccountAsync(string correlation, string extra = "")
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        var yaml = $"id: {id}\nname: Signals\nservices:\n  - id: net\n  - id: web\ncorrelation:\n{correlation}integrationKeys:\n  - name: main\n    key: {key}\n{extra}";
        var (status, body) = await Api.PutYamlConfigAsync(Server.Admin, id, yaml);
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
        var chronicle = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle");
        Assert.StartsWith("storm mode: 8 new alerts in the account within 1m", chronicle[0]!["data"]!["rule"]!.GetValue<string>());
        var counters = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{account}/correlation");
        Assert.Equal(0.875, counters["total"]!["noiseReduction"]!.GetValue<double>(), 3);
    }
}
