using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Merging incidents that are one failure (by a late cause, or by an operator) and splitting them back out, through the real server.</summary>
[Collection(SharedServer.Name)]
public sealed class IncidentMergeTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private async Task<(string Id, Func<string, string, string, Task<JsonNode>> Send)> AccountAsync()
    {
        var id = "acct-" + Guid.NewGuid().ToString("N")[..10];
        var key = $"{id}-key-000000";
        Assert.Equal(201, (await Api.PutYamlConfigAsync(Server.Admin, id, $"""
            id: {id}
            name: Merges
            services:
              - id: db
              - id: api
                dependsOn: [db]
              - id: web
                dependsOn: [db]
            correlation: {"{"}groupBy: [alertname], window: 3m, symptomSeverity: error{"}"}
            integrationKeys: [{"{"}name: main, key: {key}{"}"}]
            """)).Status);
        async Task<JsonNode> Send(string alertname, string service, string severity)
        {
            var (status, body) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
                $$$"""[{"labels":{"alertname":"{{{alertname}}}","service":"{{{service}}}","severity":"{{{severity}}}","instance":"{{{service}}}-1:9100"}}]""", bearer: key);
            Assert.Equal(200, status);
            return body!["alerts"]![0]!;
        }
        return (id, Send);
    }

    private static string IncidentOf(JsonNode receipt) => receipt["incidentId"]!.GetValue<string>();

    private async Task<JsonArray> ChronicleKinds(string incidentId) =>
        new((await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{incidentId}/chronicle")).Select(e => (JsonNode?)JsonValue.Create(e!["kind"]!.GetValue<string>())).ToArray());

    [Fact]
    public async Task A_late_cause_merges_the_incidents_its_dependants_opened_and_an_operator_splits_one_back_out()
    {
        var (account, send) = await AccountAsync();
        var api = IncidentOf(await send("HighErrorRate", "api", "error"));
        var web = IncidentOf(await send("HighErrorRate", "web", "error"));
        Assert.NotEqual(api, web); // siblings: neither explains the other

        var cause = IncidentOf(await send("PostgresqlDown", "db", "critical"));

        // The database joined the latest dependant's incident, and the other one merged into it.
        Assert.Equal(web, cause);
        var absorbed = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{api}");
        Assert.Equal((web, "resolved"), (absorbed["mergedInto"]!.GetValue<string>(), absorbed["status"]!.GetValue<string>()));
        Assert.True(absorbed["slaCorrection"]!["excluded"]!.GetValue<bool>());
        var survivor = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{web}");
        Assert.Equal(3, survivor["alertCount"]!.GetValue<int>());
        Assert.Contains("incident.merged", (await ChronicleKinds(api)).Select(k => k!.GetValue<string>()));
        Assert.Contains("incident.merged", (await ChronicleKinds(web)).Select(k => k!.GetValue<string>()));
        var placements = await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{web}/correlation");
        Assert.Equal(api, Assert.Single(placements, p => p!["mergedFrom"] is not null)!["mergedFrom"]!.GetValue<string>());
        // A re-send of the absorbed incident's alert lands where its alerts now are.
        Assert.Equal(web, IncidentOf(await send("HighErrorRate", "api", "error")));

        // The operator disagrees: api's errors were a bad deploy. They go back out into an incident of their own.
        var (status, split) = await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{web}/split",
            $$"""{"from":"{{api}}","reason":"a bad deploy of api, not the database","actor":"ana"}""");
        Assert.Equal(201, status);
        var fresh = split!["id"]!.GetValue<string>();
        Assert.NotEqual(web, fresh);
        Assert.Equal((1, "triggered", "api"), (split["alertCount"]!.GetValue<int>(), split["status"]!.GetValue<string>(), split["service"]!.GetValue<string>()));
        Assert.Equal(2, (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{web}"))["alertCount"]!.GetValue<int>());
        var splitEntry = (await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{web}/chronicle")).Single(e => e!["kind"]!.GetValue<string>() == "incident.split")!;
        Assert.Equal(("ana", fresh), (splitEntry["actor"]!.GetValue<string>(), splitEntry["data"]!["into"]!.GetValue<string>()));
        Assert.Equal(fresh, IncidentOf(await send("HighErrorRate", "api", "error")));
        foreach (var incident in new[] { api, web, fresh })
            Assert.True((await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{incident}/chronicle/verify"))["valid"]!.GetValue<bool>());

        // And merges it back by hand.
        var (merged, into) = await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{fresh}/merge", $$"""{"into":"{{web}}","reason":"it was the database after all"}""");
        Assert.Equal(200, merged);
        Assert.Equal((web, 3), (into!["id"]!.GetValue<string>(), into["alertCount"]!.GetValue<int>()));
        var list = await Api.GetAllAsync(Server.Admin, $"/api/v1/accounts/{account}/incidents");
        Assert.Equal(web, list.Single(i => i!["id"]!.GetValue<string>() == fresh)!["mergedInto"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_merge_or_split_that_cannot_be_is_refused_with_a_problem_and_changes_nothing()
    {
        var (_, send) = await AccountAsync();
        var api = IncidentOf(await send("HighErrorRate", "api", "error"));
        var web = IncidentOf(await send("HighErrorRate", "web", "error"));
        var other = await AccountAsync();
        var elsewhere = IncidentOf(await other.Send("HighErrorRate", "api", "error"));

        async Task Refused(string path, string body, int expected, string detail)
        {
            var (status, problem) = await Api.PostAsync(Server.Admin, path, body);
            Assert.Equal(expected, status);
            Assert.Contains(detail, problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        await Refused($"/api/v1/incidents/{api}/merge", $$"""{"into":"{{web}}"}""", 400, "reason: is required");
        await Refused($"/api/v1/incidents/{api}/merge", $$"""{"into":"{{api}}","reason":"x"}""", 400, "cannot be merged into itself");
        await Refused($"/api/v1/incidents/{api}/merge", """{"into":"not-an-id","reason":"x"}""", 400, "is not an incident id");
        await Refused($"/api/v1/incidents/{api}/merge", $$"""{"into":"{{elsewhere}}","reason":"x"}""", 404, $"No incident '{elsewhere}'");
        await Refused($"/api/v1/incidents/{api}/split", """{"reason":"x"}""", 400, "give the alerts to split out, or the merged incident");
        await Refused($"/api/v1/incidents/{api}/split", """{"alerts":["nope"],"reason":"x"}""", 409, "None of those alerts");
        var alert = (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{api}"))["alerts"]![0]!["fingerprint"]!.GetValue<string>();
        await Refused($"/api/v1/incidents/{api}/split", $$"""{"alerts":["{{alert}}"],"reason":"x"}""", 409, "an incident keeps at least one");
        Assert.Equal(200, (await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{web}/resolve", "{}")).Status);
        await Refused($"/api/v1/incidents/{api}/merge", $$"""{"into":"{{web}}","reason":"x"}""", 409, "reopen it before merging into it");

        var untouched = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{api}");
        Assert.Equal(("triggered", 1), (untouched["status"]!.GetValue<string>(), untouched["alertCount"]!.GetValue<int>()));
        Assert.Null(untouched["mergedInto"]);
    }
}
