using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>opsctl against the running server, through its Orleans gateway: output and exit codes.</summary>
[Collection(SharedServer.Name)]
public sealed class OpsctlTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private Task<(int ExitCode, string Out, string Err)> OpsctlAsync(params string[] args) => Opsctl.RunAsync(Server, args);

    private async Task<string> OpenIncidentAsync(string name)
    {
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$$"""[{"labels":{"alertname":"{{{name}}}","service":"tracking-api","severity":"warning"}}]""", bearer: "demo-key-logiship");
        Assert.Equal(200, status);
        return receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
    }

    [Fact]
    public async Task Incidents_merge_into_one_and_split_back_out()
    {
        var first = await OpenIncidentAsync($"CliMerge{Guid.NewGuid():N}"[..20]);
        var second = await OpenIncidentAsync($"CliMerge{Guid.NewGuid():N}"[..20]);

        var (mergeCode, merged, mergeError) = await OpsctlAsync("incidents", "merge", first, "--into", second, "--reason", "one outage", "--actor", "ana");
        Assert.True(mergeCode == 0, mergeError);
        Assert.Contains($"{first} merged into {second}: 2 alerts", merged);
        Assert.Equal(second, (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{first}"))["mergedInto"]!.GetValue<string>());

        var (splitCode, split, _) = await OpsctlAsync("incidents", "split", second, "--from", first, "--reason", "two after all", "--json");
        Assert.Equal(0, splitCode);
        var fresh = JsonNode.Parse(split)!;
        Assert.Equal(1, fresh["alertCount"]!.GetValue<int>());
        Assert.NotEqual(second, fresh["id"]!.GetValue<string>());

        var (refused, _, why) = await OpsctlAsync("incidents", "merge", second, "--into", second, "--reason", "x");
        Assert.Equal(2, refused);
        Assert.Contains("cannot be merged into itself", why);
        var (usage, _, both) = await OpsctlAsync("incidents", "split", second, "--reason", "x");
        Assert.Equal(2, usage);
        Assert.Contains("not both", both);
    }

    [Fact]
    public async Task Accounts_list_as_table_and_json()
    {
        var (code, table, _) = await OpsctlAsync("accounts", "list");
        Assert.Equal(0, code);
        Assert.Contains("healthnet", table);
        Assert.Contains("HealthNet Hospitals", table);

        var (jsonCode, json, _) = await OpsctlAsync("accounts", "list", "--json");
        Assert.Equal(0, jsonCode);
        var ids = JsonNode.Parse(json)!["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>());
        // The demo accounts, in id order; other tests on this shared server add accounts of their own (acct-…).
        Assert.Equal(["healthnet", "logiship", "telco"], ids.Where(id => !id.StartsWith("acct-", StringComparison.Ordinal)));
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public async Task Incidents_list_show_ack_note_and_resolve()
    {
        var name = $"Cli{Guid.NewGuid():N}"[..16];
        var id = await OpenIncidentAsync(name);

        var (listCode, list, _) = await OpsctlAsync("incidents", "list", "logiship", "--status", "open", "--json");
        Assert.Equal(0, listCode);
        Assert.Contains(JsonNode.Parse(list)!["items"]!.AsArray(), i => i!["id"]!.GetValue<string>() == id);

        var (ackCode, ack, _) = await OpsctlAsync("incidents", "ack", id, "--actor", "ana");
        Assert.Equal(0, ackCode);
        Assert.Contains($"{id}: acknowledged", ack);
        Assert.Equal(0, (await OpsctlAsync("incidents", "note", id, "rolled back the deploy", "--actor", "ana")).ExitCode);
        var (resolveCode, resolved, _) = await OpsctlAsync("incidents", "resolve", id, "--actor", "ana", "--note", "fixed", "--json");
        Assert.Equal(0, resolveCode);
        Assert.Equal("resolved", JsonNode.Parse(resolved)!["status"]!.GetValue<string>());

        var (showCode, show, _) = await OpsctlAsync("incidents", "show", id);
        Assert.Equal(0, showCode);
        Assert.Contains(name, show);
        Assert.Contains("rolled back the deploy", show);
        Assert.Matches(@"Chronicle verified: \d+ entries", show);
        // Opened, paged on the demo's console (logiship's on-duty policy), acknowledged, annotated, resolved: in that order.
        var steps = (await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{id}/chronicle")).Select(e => e!["kind"]!.GetValue<string>()).ToList();
        var expected = new[] { "incident.opened", "escalation.step", "incident.acknowledged", "note.added", "incident.resolved" };
        Assert.Equal(expected, steps.Where(expected.Contains).Distinct());

        // The same incident over HTTP: opsctl acted on the real thing.
        var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{id}");
        Assert.Equal("ana", incident["acknowledgedBy"]!.GetValue<string>());
        Assert.Equal("resolved", incident["status"]!.GetValue<string>());

        var (conflictCode, _, conflict) = await OpsctlAsync("incidents", "ack", id);
        Assert.Equal(1, conflictCode);
        Assert.Contains("resolved", conflict);
    }

    [Fact]
    public async Task Escalate_reassign_and_reopen_act_as_the_API_does()
    {
        var name = "Opsctl" + Guid.NewGuid().ToString("N")[..10];
        var (status, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            $$$"""[{"labels":{"alertname":"{{{name}}}","service":"ehr-api","severity":"warning"}}]""", bearer: "demo-key-healthnet");
        Assert.Equal(200, status);
        var id = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();

        var (escalated, _, escalateError) = await OpsctlAsync("incidents", "escalate", id, "--actor", "ana");
        Assert.True(escalated == 0, escalateError);
        var (reassigned, said, reassignError) = await OpsctlAsync("incidents", "reassign", id, "--to", "channel:console", "--actor", "ana");
        Assert.True(reassigned == 0, reassignError);
        Assert.Contains($"{id}: ", said);
        var (badTarget, _, why) = await OpsctlAsync("incidents", "reassign", id, "--to", "nobody");
        Assert.NotEqual(0, badTarget);
        Assert.Contains("'nobody' is not a target", why);
        Assert.Equal(0, (await OpsctlAsync("incidents", "resolve", id, "--actor", "ana")).ExitCode);
        var (reopened, reopenedSaid, reopenError) = await OpsctlAsync("incidents", "reopen", id, "--actor", "ana", "--note", "it came back");
        Assert.True(reopened == 0, reopenError);
        Assert.Contains($"{id}: triggered", reopenedSaid);

        var kinds = (await Api.GetAllAsync(Server.Admin, $"/api/v1/incidents/{id}/chronicle")).Select(e => e!["kind"]!.GetValue<string>()).ToList();
        Assert.Contains("incident.reassigned", kinds);
        Assert.Contains("incident.reopened", kinds);
        Assert.True(kinds.Count(k => k == "escalation.step") >= 2, string.Join(", ", kinds)); // the first level, then by hand
    }

    [Theory]
    [InlineData(1, "No incident", "incidents", "show", "inc-aaaaaaaaaaaaaaaa")]
    [InlineData(1, "No account", "accounts", "show", "nosuchaccount")]
    [InlineData(2, "not an incident id", "incidents", "show", "12345")]
    [InlineData(2, "not an account id", "incidents", "list", "Bad_Id")]
    [InlineData(2, "--status", "incidents", "list", "healthnet", "--status", "sleeping")]
    [InlineData(2, "Unrecognized", "incidents", "explode")]
    [InlineData(2, "not an account id", "sla", "Bad_Id")]
    [InlineData(1, "No account 'acct-nobody-here'", "silence", "list", "acct-nobody-here")]
    [InlineData(1, "No account 'acct-nobody-here'", "kpi", "acct-nobody-here")]
    [InlineData(1, "No account 'acct-nobody-here'", "heartbeats", "acct-nobody-here")]
    public async Task Errors_have_meaningful_exit_codes_and_messages(int expected, string message, params string[] args)
    {
        var (code, _, error) = await OpsctlAsync(args);
        Assert.Equal(expected, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task An_unreachable_cluster_is_exit_code_3_with_a_clear_message()
    {
        var (code, _, error) = await Opsctl.RunAsync(FreePorts.Next(), "accounts", "list");
        Assert.Equal(3, code);
        Assert.Contains("Cannot reach the OrleansOps gateway", error);

        // A usage error is a usage error even with no cluster: checked before connecting.
        var (usage, _, why) = await Opsctl.RunAsync(FreePorts.Next(), "incidents", "list", "Bad_Id");
        Assert.Equal(2, usage);
        Assert.Contains("not an account id", why);
    }

    [Fact]
    public async Task Incidents_import_backfills_once_and_refuses_a_bad_file_whole()
    {
        var file = Path.Combine(Path.GetTempPath(), $"opsctl-import-{Guid.NewGuid():N}.json");
        var title = "Backfilled outage " + Guid.NewGuid().ToString("N")[..8];
        await File.WriteAllTextAsync(file, $$"""
            {"incidents":[{"service":"tracking-api","severity":"sev1","title":"{{title}}",
              "startedAt":"2026-10-03T08:00:00Z","acknowledgedAt":"2026-10-03T08:04:00Z","resolvedAt":"2026-10-03T08:40:00Z"}]}
            """);
        try
        {
            var (code, text, error) = await OpsctlAsync("incidents", "import", "logiship", "-f", file);
            Assert.True(code == 0, error);
            Assert.Contains("1 imported, 0 already there", text);
            var (again, json, _) = await OpsctlAsync("incidents", "import", "logiship", "-f", file, "--json");
            Assert.Equal(0, again);
            var id = JsonNode.Parse(json)!["incidents"]![0]!.GetValue<string>();
            Assert.Equal(1, JsonNode.Parse(json)!["alreadyThere"]!.GetValue<int>());
            var incident = await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{id}");
            Assert.Equal("2026-10-03T08:40:00+00:00", incident["resolvedAt"]!.GetValue<string>());

            await File.WriteAllTextAsync(file, """{"incidents":[{"service":"nope","severity":"sev1","title":"x","startedAt":"2026-10-03T08:00:00Z","resolvedAt":"2026-10-03T07:00:00Z"}]}""");
            var (refused, _, why) = await OpsctlAsync("incidents", "import", "logiship", "-f", file);
            Assert.Equal(1, refused);
            Assert.Contains("incidents[0].service: 'nope' is not a declared service", why);
            Assert.Contains("incidents[0].resolvedAt: before startedAt", why);
            await File.WriteAllTextAsync(file, "{not json");
            Assert.Equal(2, (await OpsctlAsync("incidents", "import", "logiship", "-f", file)).ExitCode);

            // An operator leaves the backfilled outage out of the SLA, then withdraws that.
            var (excluded, said, excludeError) = await OpsctlAsync("incidents", "correct-sla", id, "--exclude", "--reason", "planned with the customer", "--actor", "ana");
            Assert.True(excluded == 0, excludeError);
            Assert.Contains($"{id}: left out of every SLO", said);
            var (missing, _, missingWhy) = await OpsctlAsync("incidents", "correct-sla", id, "--exclude", "--slo", "nope", "--reason", "x");
            Assert.Equal(1, missing);
            Assert.Contains("slos: 'nope' is not an SLO of the account", missingWhy);
            var (late, _, lateWhy) = await OpsctlAsync("incidents", "correct-sla", id, "--impact-start", "2026-10-03T09:00:00Z", "--reason", "x");
            Assert.Equal(1, late);
            Assert.Contains("is after the impact's end (the incident was resolved at 2026-10-03 08:40:00Z)", lateWhy);
            var (back, restored, _) = await OpsctlAsync("incidents", "correct-sla", id, "--withdraw", "--reason", "disputed");
            Assert.Equal(0, back);
            Assert.Contains($"{id}: counted as it happened", restored);

            // October's report, as the API serves it, from opsctl: the CSV on the terminal, the HTML into a file.
            var (reported, csv, reportError) = await OpsctlAsync("report", "logiship", "--period", "2026-10", "--format", "csv");
            Assert.True(reported == 0, reportError);
            Assert.StartsWith("account,account_name,period,slo,kind,status", csv);
            Assert.Contains("logiship,LogiShip,2026-10,tracking-availability,availability,", csv);
            var html = Path.Combine(Path.GetTempPath(), $"opsctl-report-{Guid.NewGuid():N}.html");
            try
            {
                var (written, writtenSaid, _) = await OpsctlAsync("report", "logiship", "--period", "2026-10", "--format", "html", "-o", html);
                Assert.Equal(0, written);
                Assert.Contains($"written to {html}", writtenSaid);
                Assert.Contains("<h1>SLA report: LogiShip, 2026-10</h1>", await File.ReadAllTextAsync(html));
            }
            finally
            {
                File.Delete(html);
            }
            var (notMonth, _, notMonthWhy) = await OpsctlAsync("report", "logiship", "--period", "30d");
            Assert.Equal(1, notMonth);
            Assert.Contains("period: required, a month like 2026-11", notMonthWhy);

            // The example the README imports is shipped, and imports as it says.
            var example = Path.Combine(ServerProcess.RepositoryRoot, "examples", "past-incidents.json");
            var (shipped, imported, failed) = await OpsctlAsync("incidents", "import", "healthnet", "-f", example);
            Assert.True(shipped == 0, failed);
            Assert.Matches(@"3 imported, 0 already there|0 imported, 3 already there", imported);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
