using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using OrleansOps.Testing;
using Xunit.Abstractions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Cluster mode as an operator runs it: server processes started by deploy/local-cluster.sh on one PostgreSQL.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class ClusterTests(PostgresServer postgres, ITestOutputHelper output)
{
    [RequiresPostgresFact]
    public async Task The_migrate_command_applies_the_schema_once_and_refuses_a_newer_database()
    {
        var database = await postgres.CreateDatabaseAsync("migrate");

        var tooEarly = await RunServerAsync([], database, "--urls", "http://127.0.0.1:0");
        var first = await RunServerAsync(["migrate"], database);
        var second = await RunServerAsync(["migrate"], database);
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("INSERT INTO orleansops_schema_migrations (version, name, checksum) VALUES (999, '0999_future', 'x')", connection);
            await command.ExecuteNonQueryAsync();
        }
        var newer = await RunServerAsync(["migrate"], database);
        var unset = await RunServerAsync(["migrate"], database: null, "--OrleansOps:Storage=Postgres");

        Assert.Equal(1, tooEarly.ExitCode);
        Assert.Contains("no OrleansOps schema yet. Run 'OrleansOps.Server migrate' once", tooEarly.Output);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Matches("schema upgraded from version 0 to [1-9]", first.Output);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("nothing to do", second.Output);
        Assert.Equal(1, newer.ExitCode);
        Assert.Contains("version 999, newer than this OrleansOps build knows", newer.Output);
        Assert.Equal(2, unset.ExitCode);
        Assert.Contains("OrleansOps:PostgresConnection must be set", unset.Output);
    }

    [RequiresPostgresFact]
    public async Task Three_processes_keep_ingesting_when_one_is_killed_and_its_incidents_answer_from_a_survivor()
    {
        var database = await postgres.CreateDatabaseAsync("cluster");
        var stateDir = ServerProcess.NewTempFolder("orleansops-local-cluster");
        var up = await LocalClusterUpAsync(3, database, stateDir);
        try
        {
            Assert.True(up.ExitCode == 0, up.Output);
            var silos = SiloLine().Matches(up.Output).Select(m => (Pid: int.Parse(m.Groups["pid"].Value), Url: new Uri(m.Groups["url"].Value))).ToList();
            Assert.Equal(3, silos.Count);
            using var first = Client(silos[0].Url);
            using var second = Client(silos[1].Url);
            using var victim = Client(silos[2].Url);
            var members = await Api.GetOkAsync(first, "/api/v1/cluster/silos");
            Assert.Equal(3, members["items"]!.AsArray().Count(s => s!["status"]!.GetValue<string>() == "active"));

            var account = "acct-" + Guid.NewGuid().ToString("N")[..10];
            var key = account + "-key-000000";
            var (created, _) = await Api.PutYamlConfigAsync(first, account,
                $"id: {account}\nname: Cluster test\nservices:\n  - id: web\nintegrationKeys:\n  - name: main\n    key: {key}\n    defaultService: web\n");
            Assert.Equal(201, created);

            // Thirty incidents opened through all three silos; about a third of them live on the silo about to die.
            var before = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                var via = new[] { first, second, victim }[i % 3];
                var (status, body) = await Api.PostAsync(via, "/api/v1/alerts", $$"""{"alerts":[{"labels":{"alertname":"Before-{{i}}","instance":"a"},"severity":"P2"}]}""", bearer: key);
                Assert.Equal(202, status);
                before.Add(body!["alerts"]![0]!["incidentId"]!.GetValue<string>());
            }

            // Incidents whose alert announces its end: each arms a grain timer backed by a one-minute "alert-expiry"
            // reminder. Those living on the silo about to die can only be woken by their reminder on a survivor.
            var endsAt = DateTimeOffset.UtcNow.AddSeconds(20);
            var expiring = new List<string>();
            for (var i = 0; i < 24; i++)
            {
                var via = new[] { first, second, victim }[i % 3];
                var (status, body) = await Api.PostAsync(via, "/api/v1/alerts",
                    $$"""{"alerts":[{"labels":{"alertname":"Expiring-{{i}}","instance":"a"},"severity":"P3","endsAt":"{{endsAt:O}}"}]}""", bearer: key);
                Assert.Equal(202, status);
                expiring.Add(body!["alerts"]![0]!["incidentId"]!.GetValue<string>());
            }

            // Every streamed alert is new (its instance label is unique), so a lost one would be missing, not hidden by a repeat.
            var accepted = new ConcurrentBag<string>();
            var refused = new ConcurrentQueue<string>();
            var refusals = 0;
            using var stop = new CancellationTokenSource();
            var senders = new[] { first, second }.Select((client, sender) => Task.Run(async () =>
            {
                var random = new Random(sender);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var alerts = string.Join(",", Enumerable.Range(0, 5).Select(k =>
                        $$"""{"labels":{"alertname":"Stream-{{random.Next(40)}}","instance":"s{{sender}}-{{n}}-{{k}}"},"severity":"P3"}"""));
                    var batch = $$"""{"alerts":[{{alerts}}]}""";
                    if (await TrySendAsync(client, batch, key, accepted)) continue;
                    Interlocked.Increment(ref refusals);
                    refused.Enqueue(batch);
                    await Task.Delay(200);
                }
            })).ToList();

            await Task.Delay(2000);
            var clock = Stopwatch.StartNew();
            Process.GetProcessById(silos[2].Pid).Kill(); // SIGKILL: no goodbye to the cluster
            var detected = await Api.EventuallyAsync(async () =>
            {
                var (status, body) = await Api.SendAsync(first, HttpMethod.Get, "/api/v1/cluster/silos");
                return status == 200 && body!["items"]!.AsArray().Count(s => s!["status"]!.GetValue<string>() == "dead") == 1 ? (object)clock.Elapsed : null;
            }, TimeSpan.FromSeconds(120), "the killed silo to be declared dead");
            var recovered = await Api.EventuallyAsync(async () =>
            {
                foreach (var id in before)
                    if ((await Api.SendAsync(second, HttpMethod.Get, $"/api/v1/incidents/{id}")).Status != 200) return null;
                return (object)clock.Elapsed;
            }, TimeSpan.FromSeconds(120), "every incident to answer from a survivor");
            await Task.Delay(3000);
            stop.Cancel();
            await Task.WhenAll(senders);
            while (refused.TryDequeue(out var batch))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(4), "re-sent batches kept failing after the cluster recovered");
                if (!await TrySendAsync(first, batch, key, accepted)) { refused.Enqueue(batch); await Task.Delay(500); }
            }

            // The expiring incidents all resolve at their endsAt, those of the dead silo through their reminder. Only the
            // account's list is read meanwhile: reading an incident would wake it and prove nothing.
            var expired = await Api.EventuallyAsync(async () =>
            {
                var (status, page) = await Api.SendAsync(first, HttpMethod.Get, $"/api/v1/accounts/{account}/incidents?status=resolved&limit=200");
                var resolved = status == 200 ? page!["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()).ToHashSet() : [];
                return expiring.All(resolved.Contains) ? (object)clock.Elapsed : null;
            }, TimeSpan.FromSeconds(150), "every expiring incident to resolve, through its reminder where its silo died");
            foreach (var id in expiring)
                Assert.Equal(endsAt, (await Api.GetOkAsync(second, $"/api/v1/incidents/{id}"))["resolvedAt"]!.GetValue<DateTimeOffset>());

            // Every alert that got a 2xx is in an incident; no group has two open incidents.
            var incidents = new List<JsonNode>();
            string? cursor = null;
            do
            {
                var page = await Api.GetOkAsync(first, $"/api/v1/accounts/{account}/incidents?limit=200" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
                foreach (var item in page["items"]!.AsArray()) incidents.Add(await Api.GetOkAsync(second, $"/api/v1/incidents/{item!["id"]!.GetValue<string>()}"));
                cursor = page["next"]?.GetValue<string>();
            } while (cursor is not null);
            Assert.Equal(accepted.Count, accepted.Distinct().Count());
            var held = incidents.SelectMany(i => i["alerts"]!.AsArray().Select(a => a!["fingerprint"]!.GetValue<string>())).ToHashSet();
            var lost = accepted.Distinct().Count(fingerprint => !held.Contains(fingerprint));
            var doubled = incidents.Where(i => i["status"]!.GetValue<string>() != "resolved")
                .GroupBy(i => i["groupKey"]!.GetValue<string>()).Count(g => g.Count() > 1);
            output.WriteLine($"SIGKILL of silo 3: declared dead after {(TimeSpan)detected:s\\.f} s; all 30 earlier incidents answered from survivors after {(TimeSpan)recovered:s\\.f} s; " +
                             $"{accepted.Count} alerts accepted, {refusals} batches refused during the failover and re-sent; {lost} accepted alerts lost; {doubled} groups with two open incidents; " +
                             $"all 24 expiring incidents resolved at their endsAt by {(TimeSpan)expired:s\\.f} s after the kill");
            Assert.Equal(0, lost);
            Assert.Equal(0, doubled);
            foreach (var id in before)
                Assert.True((await Api.GetOkAsync(first, $"/api/v1/incidents/{id}/chronicle/verify"))["valid"]!.GetValue<bool>());

            // opsctl reaches the cluster through the gateways PostgreSQL lists, or one it is given, and skips the dead one.
            var gateways = SiloLine().Matches(up.Output).Select(m => int.Parse(m.Groups["gateway"].Value)).ToList();
            var viaMembership = await RunAsync("dotnet", [Opsctl, "--postgres", database, "incidents", "show", before[2], "--json"], environment: null);
            Assert.True(viaMembership.ExitCode == 0, viaMembership.Output);
            Assert.Contains(before[2], viaMembership.Output);
            var viaGateway = await RunAsync("dotnet", [Opsctl, "--gateway", $"127.0.0.1:{gateways[1]}", "incidents", "ack", before[2], "--actor", "nightshift"], environment: null);
            Assert.True(viaGateway.ExitCode == 0, viaGateway.Output);
            var deadGateway = await RunAsync("dotnet", [Opsctl, "--gateway", $"127.0.0.1:{gateways[2]}", "--connect-timeout", "3", "accounts", "list"], environment: null);
            Assert.Equal(3, deadGateway.ExitCode);
        }
        finally
        {
            var down = await LocalClusterAsync("down", "--state-dir", stateDir, "--grace", "20");
            output.WriteLine(down.Output);
            try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<bool> TrySendAsync(HttpClient client, string batch, string key, ConcurrentBag<string> accepted)
    {
        try
        {
            var (status, body) = await Api.PostAsync(client, "/api/v1/alerts", batch, bearer: key);
            if (status != 202) return false;
            foreach (var alert in body!["alerts"]!.AsArray()) accepted.Add(alert!["fingerprint"]!.GetValue<string>());
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static HttpClient Client(Uri url)
    {
        var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(40) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);
        return client;
    }

    [RequiresPostgresFact]
    public async Task A_database_outage_answers_503_on_every_silo_and_ingest_resumes_when_it_returns()
    {
        var database = await postgres.CreateDatabaseAsync("outage");
        var stateDir = ServerProcess.NewTempFolder("orleansops-local-cluster");
        var up = await LocalClusterUpAsync(2, database, stateDir);
        var databaseDown = false;
        try
        {
            Assert.True(up.ExitCode == 0, up.Output);
            var silos = SiloLine().Matches(up.Output).Select(m => Client(new Uri(m.Groups["url"].Value))).ToList();
            var account = "acct-" + Guid.NewGuid().ToString("N")[..10];
            var key = account + "-key-000000";
            var (created, _) = await Api.PutYamlConfigAsync(silos[0], account,
                $"id: {account}\nname: Outage test\nservices:\n  - id: web\nintegrationKeys:\n  - name: main\n    key: {key}\n    defaultService: web\n");
            Assert.Equal(201, created);
            string Batch(string name) => $$"""{"alerts":[{"labels":{"alertname":"{{name}}","instance":"a"},"severity":"P2"}]}""";
            for (var i = 0; i < 6; i++) Assert.Equal(202, (await Api.PostAsync(silos[i % 2], "/api/v1/alerts", Batch($"Before-{i}"), bearer: key)).Status);

            await postgres.StopAsync();
            databaseDown = true;
            var refused = new List<string>();
            var statuses = new List<int>();
            var repeats = new List<int>();
            for (var i = 0; i < 12; i++)
            {
                // New groups, through both silos: whichever silo holds the grain, the answer is 503. A pure repeat of a
                // known alert may be taken meanwhile (DESIGN §8: its count is written within 5 s); nothing else may.
                var repeat = i % 3 == 0;
                var batch = Batch(repeat ? $"Before-{i % 6}" : $"During-{i}");
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/alerts") { Content = new StringContent(batch, System.Text.Encoding.UTF8, "application/json") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var response = await silos[i % 2].SendAsync(request);
                (repeat ? repeats : statuses).Add((int)response.StatusCode);
                if ((int)response.StatusCode == 503)
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
                }
                refused.Add(batch);
            }
            Assert.All(statuses, status => Assert.Equal(503, status));
            Assert.All(repeats, status => Assert.Contains(status, new[] { 202, 503 }));

            await postgres.StartAsync();
            databaseDown = false;
            var clock = Stopwatch.StartNew();
            foreach (var batch in refused)
                await Api.EventuallyAsync(async () => (await Api.PostAsync(silos[1], "/api/v1/alerts", batch, bearer: key)).Status == 202 ? (object)true : null,
                    TimeSpan.FromSeconds(60), "ingest to succeed once the database is back");
            output.WriteLine($"database down: {statuses.Count} new alerts, all 503, and {repeats.Count} repeats ({string.Join(", ", repeats)}); every batch accepted within {clock.Elapsed.TotalSeconds:0.0} s of the database returning");
            // The account's list may lag by a retry: a pooled connection broken by the restart can fail the account's write
            // just after an incident's own write succeeded; the incident then tells the account again by itself.
            await Api.EventuallyAsync(async () =>
            {
                var open = await Api.GetOkAsync(silos[0], $"/api/v1/accounts/{account}/incidents?status=open&limit=100");
                return open["items"]!.AsArray().Count == 6 + 8 ? (object)true : null;
            }, TimeSpan.FromSeconds(30), "every incident opened before and after the outage to be listed by its account");
        }
        finally
        {
            if (databaseDown) await postgres.StartAsync();
            output.WriteLine((await LocalClusterAsync("down", "--state-dir", stateDir, "--grace", "20")).Output);
            try { Directory.Delete(stateDir, recursive: true); } catch (IOException) { }
        }
    }

    [RequiresPostgresFact]
    public async Task One_silo_on_PostgreSQL_migrates_on_start_and_keeps_incidents_across_a_SIGKILL()
    {
        var database = await postgres.CreateDatabaseAsync("single");
        var settings = new[] { "--OrleansOps:Storage=Postgres", $"--OrleansOps:PostgresConnection={database}", "--OrleansOps:MigrateOnStart=true" };
        string incidentId;
        int siloPort, gatewayPort;
        await using (var server = await ServerProcess.StartAsync(settings: settings))
        {
            (siloPort, gatewayPort) = (server.SiloPort, server.GatewayPort);
            var (status, body) = await Api.PostAsync(server.Anonymous, "/api/v1/alerts", """{"alerts":[{"labels":{"alertname":"PgSingle","instance":"a"},"severity":"P1"}]}""", bearer: "demo-key-telco");
            Assert.Equal(202, status);
            incidentId = body!["alerts"]![0]!["incidentId"]!.GetValue<string>();
            Assert.Equal(200, (await Api.PostAsync(server.Admin, $"/api/v1/incidents/{incidentId}/ack", """{"actor":"ops"}""")).Status);
            Assert.Contains("cluster 'orleansops' on PostgreSQL", server.Output);
            await server.KillAsync();
        }
        // Restarted as a supervisor would: same ports, so Orleans sees the crashed generation replaced at once.
        await using (var restarted = await ServerProcess.StartAsync(siloPort: siloPort, gatewayPort: gatewayPort, settings: settings))
        {
            var incident = await Api.GetOkAsync(restarted.Admin, $"/api/v1/incidents/{incidentId}");
            Assert.Equal("acknowledged", incident["status"]!.GetValue<string>());
            Assert.Contains("nothing to do", restarted.Output);
        }
    }

    private static string Opsctl => ServerProcess.BuiltDll("OrleansOps.Cli", "opsctl.dll");

    [GeneratedRegex(@"^silo-\d+ pid=(?<pid>\d+) url=(?<url>\S+) silo-port=\d+ gateway-port=(?<gateway>\d+)", RegexOptions.Multiline)]
    private static partial Regex SiloLine();

    /// <summary>deploy/local-cluster.sh up with this build's server, on free ports, with the tests' admin token.</summary>
    private static Task<(int ExitCode, string Output)> LocalClusterUpAsync(int silos, string database, string stateDir)
    {
        var ports = FreePorts.Run(3 * silos);
        return LocalClusterAsync("up", "--silos", silos.ToString(), "--postgres", database,
            "--http-port", ports.ToString(), "--silo-port", (ports + silos).ToString(), "--gateway-port", (ports + 2 * silos).ToString(),
            "--admin-token", ServerProcess.AdminToken, "--server-dll", ServerProcess.BuiltDll("OrleansOps.Server", "OrleansOps.Server.dll"),
            "--state-dir", stateDir, "--timeout", "150");
    }

    private static Task<(int ExitCode, string Output)> LocalClusterAsync(params string[] arguments) =>
        RunAsync("bash", [Path.Combine(ServerProcess.RepositoryRoot, "deploy", "local-cluster.sh"), .. arguments], environment: null);

    private static Task<(int ExitCode, string Output)> RunServerAsync(string[] arguments, string? database, params string[] settings)
    {
        var environment = new Dictionary<string, string>();
        if (database is not null)
        {
            environment["OrleansOps__Storage"] = "Postgres";
            environment["OrleansOps__PostgresConnection"] = database;
        }
        return RunAsync("dotnet", [ServerProcess.BuiltDll("OrleansOps.Server", "OrleansOps.Server.dll"), .. arguments, .. settings], environment);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, IDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
