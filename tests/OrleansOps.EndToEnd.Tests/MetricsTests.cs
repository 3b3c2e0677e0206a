using System.Net;
using System.Net.Http.Headers;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Request = WireMock.RequestBuilders.Request;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>A real Prometheus scrapes the server's /metrics and reads the counters and gauges of what the test did.</summary>
public sealed class MetricsTests
{
    [RequiresPrometheusFact]
    public async Task Prometheus_reads_alert_counters_incidents_budgets_and_a_ticket_that_cannot_be_written()
    {
        // ServiceNow refuses the credentials: the ticket can never be written, which the incident and /metrics both show.
        using var serviceNow = WireMockServer.Start($"http://127.0.0.1:{FreePorts.Next()}");
        serviceNow.Given(Request.Create().WithPath("/api/now/table/incident").UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"error":{"message":"User Not Authenticated"}}"""));

        var metricsToken = "metrics-" + Guid.NewGuid().ToString("N");
        await using var server = await ServerProcess.StartAsync(settings:
        [
            "--E2E_SN_USER=svc.orleansops", "--E2E_SN_PASSWORD=" + Guid.NewGuid().ToString("N"), "--E2E_ITSM_SECRET=" + Guid.NewGuid().ToString("N"),
            "--OrleansOps:Metrics:Token=" + metricsToken, "--OrleansOps:Metrics:GaugeRefresh=00:00:01",
        ]);
        var account = "acct-metrics-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
            id: {{account}}
            name: Metrics
            services: [{id: api}]
            integrationKeys: [{name: e2e, key: {{key}}, defaultService: api}]
            sla:
              availability: [{name: api-availability, target: 99.9, window: 30d, services: [api]}]
            itsm:
              serviceNow: {instanceUrl: "{{serviceNow.Url}}/", usernameRef: E2E_SN_USER, passwordRef: E2E_SN_PASSWORD}
              inboundSecretRef: E2E_ITSM_SECRET
            """);
        Assert.True(configured == 201, problem?.ToJsonString());
        // Three events: one opens the incident, its re-send is deduplicated, the same failure on another node joins it.
        foreach (var node in new[] { "node-a", "node-a", "node-b" })
        {
            var (status, _) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", $$$"""[{"labels":{"alertname":"Down","node":"{{{node}}}","severity":"critical"}}]""", bearer: key);
            Assert.Equal(200, status);
        }

        using (var scraper = new HttpClient { BaseAddress = server.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await scraper.GetAsync("/metrics")).StatusCode);
            scraper.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await scraper.GetAsync("/metrics")).StatusCode); // the metrics token, not the admin's
        }

        await using var prometheus = await PrometheusProcess.StartAsync($"127.0.0.1:{server.HttpPort}", metricsToken);
        async Task<double> Eventually(string promql, Func<double, bool> expected, string what)
        {
            var reading = await Api.EventuallyAsync(async () =>
            {
                var value = await prometheus.QueryAsync(promql);
                return value is { } v && expected(v) ? (object)v : null;
            }, TimeSpan.FromSeconds(60), $"{what} ({promql}); target {await prometheus.TargetHealthAsync()}");
            return (double)reading;
        }

        var of = $"account=\"{account}\"";
        Assert.Equal(3, await Eventually($"orleansops_alerts_received_total{{{of}}}", v => v == 3, "three alert events received"));
        Assert.Equal(1, await Eventually($"orleansops_alerts_deduplicated_total{{{of}}}", v => v == 1, "the re-send deduplicated"));
        Assert.Equal(1, await Eventually($"orleansops_alerts_grouped_total{{{of}}}", v => v == 1, "the second alert grouped"));
        Assert.Equal(1, await Eventually($"orleansops_incidents_opened_total{{{of}}}", v => v == 1, "one incident opened"));
        Assert.Equal(1, await Eventually($"orleansops_incidents{{{of},status=\"triggered\"}}", v => v == 1, "one open incident"));
        Assert.Equal(1, await Eventually($"orleansops_tickets_failing{{{of}}}", v => v == 1, "the ticket that cannot be written"));
        Assert.True(await Eventually($"sum(orleansops_ticket_writes_total{{{of},system=\"servicenow\",outcome=\"stuck\"}})", v => v >= 1, "the refused write") >= 1);
        var ratio = await Eventually($"orleansops_sla_budget_remaining_ratio{{{of},slo=\"api-availability\"}}", v => v < 1, "budget burning");
        Assert.InRange(ratio, 0, 1);
        Assert.True(await Eventually($"sum(http_server_request_duration_seconds_count{{http_route=\"/api/v2/alerts\"}})", v => v >= 3, "ingest requests") >= 3);

        var open = (await Api.GetOkAsync(server.Admin, $"/api/v1/accounts/{account}/incidents?status=open"))["items"]!.AsArray();
        var incident = Assert.Single(open)!["id"]!.GetValue<string>();
        var ticket = Assert.Single((await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{incident}"))["tickets"]!.AsArray())!;
        Assert.True(ticket["stuck"]!.GetValue<bool>(), ticket.ToJsonString());
    }
}
