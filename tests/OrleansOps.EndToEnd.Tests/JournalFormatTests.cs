using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// A data folder written by the first release of storage format 2 (the account journal), kept as a fixture
/// (Fixtures/journal-format-2: the database as a SIGKILL left it, some entries still in the log, and what that server
/// answered before it was killed). Every later release must read it and carry on from it.
/// </summary>
public sealed class JournalFormatTests
{
    private static readonly string Fixture = Path.Combine(ServerProcess.RepositoryRoot, "tests", "OrleansOps.EndToEnd.Tests", "Fixtures", "journal-format-2");

    [Fact]
    public async Task A_data_folder_of_the_first_journal_format_reads_as_it_was_written_and_takes_new_alerts()
    {
        var expected = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Fixture, "expected.json")))!;
        var dataPath = ServerProcess.NewTempFolder("orleansops-e2e-format2");
        var configPath = ServerProcess.NewTempFolder("orleansops-e2e-format2-config"); // no account files: only what the folder holds
        File.Copy(Path.Combine(Fixture, "orleansops.db"), Path.Combine(dataPath, "orleansops.db"));
        try
        {
            await using var server = await ServerProcess.StartAsync(dataPath, configPath: configPath);

            var account = await Api.GetOkAsync(server.Admin, "/api/v1/accounts/fixture");
            Assert.Equal(expected["configVersion"]!.GetValue<int>(), account["configVersion"]!.GetValue<int>());
            var silences = await Api.GetAllAsync(server.Admin, "/api/v1/accounts/fixture/silences");
            Assert.Contains(expected["silence"]!.GetValue<string>(), silences.Select(s => s!["id"]!.GetValue<string>()));

            var lastBatch = expected["lastBatch"]!.AsArray().Select(a => (Fingerprint: a!["fingerprint"]!.GetValue<string>(), Incident: a["incidentId"]!.GetValue<string>())).ToList();
            var listed = (await Api.GetAllAsync(server.Admin, "/api/v1/accounts/fixture/incidents")).Select(i => i!["id"]!.GetValue<string>()).Order().ToList();
            var incidents = expected["incidents"]!.AsArray();
            Assert.Equal(incidents.Select(i => i!["id"]!.GetValue<string>()).Order(), listed);
            foreach (var recorded in incidents)
            {
                var id = recorded!["id"]!.GetValue<string>();
                var incident = await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{id}");
                foreach (var field in new[] { "title", "service", "status", "groupKey" })
                    Assert.Equal(recorded[field]!.GetValue<string>(), incident[field]!.GetValue<string>());

                // Its alerts with their repeat counts, and the ones of the last batch, whose entries were still in the log.
                var alerts = (await Api.GetAllAsync(server.Admin, $"/api/v1/incidents/{id}/alerts"))
                    .ToDictionary(a => a!["fingerprint"]!.GetValue<string>(), a => a!["count"]!.GetValue<long>());
                var latest = lastBatch.Where(a => a.Incident == id).Select(a => a.Fingerprint).ToList();
                Assert.Equal(recorded["alerts"]!.AsObject().Select(a => a.Key).Concat(latest).Order(), alerts.Keys.Order());
                foreach (var (fingerprint, count) in recorded["alerts"]!.AsObject()) Assert.Equal(count!.GetValue<long>(), alerts[fingerprint]);
                Assert.Equal(alerts.Count, incident["alertCount"]!.GetValue<int>());

                // The chronicle as it was recorded, entry for entry, and whatever came since: the last batch's entries, and
                // those that time added since the fixture was recorded (an SLA clock that ran out meanwhile).
                var verify = await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{id}/chronicle/verify");
                Assert.True(verify["valid"]!.GetValue<bool>(), verify.ToJsonString());
                var recordedEntries = recorded["chronicleEntries"]!.GetValue<int>();
                var chronicle = await Api.GetAllAsync(server.Admin, $"/api/v1/incidents/{id}/chronicle");
                Assert.Equal(Enumerable.Range(1, chronicle.Count), chronicle.Select(e => e!["seq"]!.GetValue<int>()));
                Assert.True(chronicle.Count >= recordedEntries);
                Assert.Equal(recorded["headHash"]!.GetValue<string>(), chronicle[recordedEntries - 1]!["hash"]!.GetValue<string>());
                if (latest.Count > 0) Assert.True(verify["entries"]!.GetValue<int>() > recordedEntries);
            }

            // And carries on: a new alert joins its group's incident, a known one is a repeat, the incident takes an acknowledgement.
            var diskFull = incidents.Single(i => i!["groupKey"]!.GetValue<string>().Contains("DiskFull"))!;
            var diskFullId = diskFull["id"]!.GetValue<string>();
            var (status, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts",
                """[{"labels":{"alertname":"DiskFull","instance":"node-9999","severity":"critical"}},{"labels":{"alertname":"DiskFull","instance":"node-0","severity":"critical"},"annotations":{"summary":"DiskFull on node-0"},"startsAt":"2026-12-06T10:00:00Z"}]""",
                bearer: "fixture-key-0123456789");
            Assert.Equal(200, status);
            Assert.All(receipt!["alerts"]!.AsArray(), a => Assert.Equal(diskFullId, a!["incidentId"]!.GetValue<string>()));
            Assert.Equal(["applied", "repeated"], receipt["alerts"]!.AsArray().Select(a => a!["outcome"]!.GetValue<string>()));
            Assert.Equal(200, (await Api.PostAsync(server.Admin, $"/api/v1/incidents/{diskFullId}/ack", """{"actor":"ana"}""")).Status);
            var after = await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{diskFullId}");
            Assert.Equal("acknowledged", after["status"]!.GetValue<string>());
            Assert.Equal(diskFull["alertCount"]!.GetValue<int>() + 1, after["alertCount"]!.GetValue<int>());
            Assert.True((await Api.GetOkAsync(server.Admin, $"/api/v1/incidents/{diskFullId}/chronicle/verify"))["valid"]!.GetValue<bool>());
        }
        finally
        {
            foreach (var folder in new[] { dataPath, configPath })
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }
}
