using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// Every list of the API pages alike: {"items", "next"}, limit 1–500 (default 50), and a cursor that walks the whole
/// list, each item once. One account is filled with enough of everything to need several pages of each list.
/// </summary>
[Collection(SharedServer.Name)]
public sealed class PaginationTests(ServerFixture fixture) : IAsyncLifetime
{
    private ServerProcess Server => fixture.Server;

    // Filled once per server: every test here reads the same lists.
    private static readonly SemaphoreSlim Filling = new(1, 1);
    private static (ServerProcess Server, string Account, string Incident)? _filled;

    private string _account = "";
    private string _incident = "";
    private string Key => _account + "-key-000000";

    public async Task InitializeAsync()
    {
        await Filling.WaitAsync();
        try
        {
            if (_filled is not { } filled || filled.Server != Server)
            {
                _account = "acct-page-" + Guid.NewGuid().ToString("N")[..10];
                await FillAsync();
                _filled = (Server, _account, _incident);
            }
            (_, _account, _incident) = _filled.Value;
        }
        finally
        {
            Filling.Release();
        }
    }

    private async Task FillAsync()
    {
        var yaml = $$"""
            id: {{_account}}
            name: Paging
            timeZone: UTC
            services: [{id: web}, {id: db}]
            integrationKeys: [{name: main, key: {{Key}}, defaultService: web}]
            sla:
              availability: [{name: availability, target: 99.95, window: 30d, services: [web, db]}]
              response: {sev1: 15m}
            """;
        var (created, problem) = await Api.PutYamlConfigAsync(Server.Admin, _account, yaml);
        Assert.True(created == 201, problem?.ToJsonString());

        // Five incidents, one of them with a long chronicle.
        var alerts = string.Join(",", Enumerable.Range(0, 5).Select(i => $$$"""{"labels":{"alertname":"Page{{{i}}}","service":"{{{(i % 2 == 0 ? "web" : "db")}}}"}}"""));
        var (ingested, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", $"[{alerts}]", bearer: Key);
        Assert.Equal(200, ingested);
        _incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        for (var i = 0; i < 6; i++)
            Assert.Equal(200, (await Api.PostAsync(Server.Admin, $"/api/v1/incidents/{_incident}/notes", $$"""{"actor":"ana","text":"note {{i}}"}""")).Status);

        // Five silences; the first holds back alerts of its own name, and five of those fire on two services.
        for (var i = 0; i < 5; i++)
        {
            var (status, body) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{_account}/silences",
                $$"""{"matchers":["alertname=\"Held{{i}}\""],"endsAt":"{{DateTimeOffset.UtcNow.AddHours(1):O}}","createdBy":"ana"}""");
            Assert.True(status == 201, body?.ToJsonString());
        }
        var held = string.Join(",", Enumerable.Range(0, 5).Select(i => $$$"""{"labels":{"alertname":"Held0","instance":"i{{{i}}}","service":"{{{(i % 2 == 0 ? "web" : "db")}}}"}}"""));
        Assert.Equal(200, (await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", $"[{held}]", bearer: Key)).Status);

        // Three past sev1 outages: the availability and response SLOs breach, which records SLA events.
        var start = DateTimeOffset.UtcNow.AddHours(-5);
        var outages = new JsonArray(Enumerable.Range(0, 3).Select(i => (JsonNode)new JsonObject
        {
            ["service"] = "web", ["severity"] = "critical", ["title"] = $"Outage {i}",
            ["startedAt"] = start.AddHours(i).ToString("O"),
            ["acknowledgedAt"] = start.AddHours(i).AddMinutes(20).ToString("O"),
            ["resolvedAt"] = start.AddHours(i).AddMinutes(30).ToString("O"),
        }).ToArray());
        Assert.Equal(200, (await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{_account}/incidents/import", new JsonObject { ["incidents"] = outages }.ToJsonString())).Status);
        await Api.EventuallyAsync(async () =>
            (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{_account}/sla/events?limit=500"))["items"]!.AsArray().Count >= 2 ? "" : null,
            TimeSpan.FromSeconds(15), "the SLA events of the breach");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Each list, and the field that identifies one of its items.</summary>
    private IEnumerable<(string Path, Func<JsonNode, string> Id)> Lists() =>
    [
        ("/api/v1/accounts", i => i["id"]!.GetValue<string>()),
        ($"/api/v1/accounts/{_account}/incidents", i => i["id"]!.GetValue<string>()),
        ($"/api/v1/accounts/{_account}/incidents?status=open", i => i["id"]!.GetValue<string>()),
        ($"/api/v1/incidents/{_incident}/chronicle", i => i["seq"]!.ToJsonString()),
        ($"/api/v1/accounts/{_account}/silences", i => i["id"]!.GetValue<string>()),
        ($"/api/v1/accounts/{_account}/suppressed", i => i["service"]!.GetValue<string>() + "/" + i["fingerprint"]!.GetValue<string>()),
        ($"/api/v1/accounts/{_account}/sla/events", i => $"{i["at"]} {i["slo"]} {i["kind"]}"),
        ("/api/v1/fleet/sla", i => i["accountId"]!.GetValue<string>()),
        ("/api/v1/cluster/silos", i => i["address"]!.GetValue<string>()),
    ];

    [Fact]
    public async Task Following_next_walks_every_item_of_every_list_exactly_once_in_order()
    {
        foreach (var (path, id) in Lists())
        {
            // Other writers may change a list while it is walked (budgets burn and reorder the fleet, SLA reviews add
            // events), so a walk that disagrees with the whole list is tried again; a paging defect fails every try.
            const int attempts = 3;
            for (var attempt = 1; ; attempt++)
            {
                var whole = (await Api.GetOkAsync(Server.Admin, With(path, "limit=500")))["items"]!.AsArray().Select(i => id(i!)).ToList();
                var expectedPages = Math.Max(1, (whole.Count + 1) / 2);
                var walked = new List<string>();
                var pages = 0;
                string? cursor = null;
                do
                {
                    var page = await Api.GetOkAsync(Server.Admin, With(path, "limit=2" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")));
                    var items = page["items"]!.AsArray();
                    Assert.True(items.Count <= 2, $"{path}: a page of {items.Count} with limit=2");
                    walked.AddRange(items.Select(i => id(i!)));
                    cursor = page["next"]?.GetValue<string>();
                    Assert.True(cursor is null || items.Count == 2, $"{path}: a short page that says more follow");
                    pages++;
                } while (cursor is not null && pages <= whole.Count + 1);

                if (attempt < attempts && !walked.SequenceEqual(whole)) continue;
                Assert.True(whole.SequenceEqual(walked), $"{path}: walked [{string.Join(", ", walked)}], the list is [{string.Join(", ", whole)}]");
                Assert.Equal(expectedPages, pages);
                break;
            }
        }
    }

    [Fact]
    public async Task Every_list_holds_enough_items_here_to_need_pages()
    {
        foreach (var (path, _) in Lists().Where(l => !l.Path.Contains("/cluster/", StringComparison.Ordinal))) // one silo in the embedded mode
            Assert.True((await Api.GetOkAsync(Server.Admin, With(path, "limit=1")))["next"] is JsonValue, $"{path} has one page only");
    }

    [Fact]
    public async Task Default_page_is_fifty_and_out_of_range_limits_and_foreign_cursors_are_refused_naming_the_parameter()
    {
        foreach (var (path, _) in Lists())
        {
            var page = await Api.GetOkAsync(Server.Admin, path);
            Assert.Equal(["items", "next"], page.AsObject().Select(p => p.Key));
            Assert.True(page["items"]!.AsArray().Count <= 50);

            foreach (var limit in new[] { "0", "501", "-1", "ten", "1.5" })
            {
                var (status, problem) = await Api.SendAsync(Server.Admin, HttpMethod.Get, With(path, $"limit={limit}"));
                Assert.Equal(400, status);
                Assert.Equal(400, problem!["status"]!.GetValue<int>());
                Assert.StartsWith($"limit: '{limit}'", problem["detail"]!.GetValue<string>());
            }
            var (cursorStatus, cursorProblem) = await Api.SendAsync(Server.Admin, HttpMethod.Get, With(path, "cursor=not-ours"));
            Assert.Equal(400, cursorStatus);
            Assert.StartsWith("cursor:", cursorProblem!["detail"]!.GetValue<string>());
            Assert.Equal(200, (await Api.SendAsync(Server.Admin, HttpMethod.Get, With(path, "limit=500"))).Status);
            Assert.Equal(200, (await Api.SendAsync(Server.Admin, HttpMethod.Get, With(path, "limit=1"))).Status);
        }
    }

    [Fact]
    public async Task Filters_are_validated_naming_the_parameter()
    {
        var (status, problem) = await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{_account}/incidents?status=asleep&limit=0");
        Assert.Equal(400, status);
        var errors = problem!["errors"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Contains(errors, e => e.StartsWith("status: 'asleep'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("limit: '0'", StringComparison.Ordinal));
        (status, problem) = await Api.SendAsync(Server.Admin, HttpMethod.Get, $"/api/v1/accounts/{_account}/kpis?severity=sev9&period=forever");
        Assert.Equal(400, status);
        Assert.Contains("severity: 'sev9'", problem!["detail"]!.GetValue<string>());
        Assert.Contains("period: 'forever'", problem["detail"]!.GetValue<string>());
    }

    private static string With(string path, string query) => path + (path.Contains('?') ? "&" : "?") + query;
}
