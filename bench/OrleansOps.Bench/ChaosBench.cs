using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Bench;

public sealed record ChaosSettings(
    TimeSpan Duration, TimeSpan Warmup, double Rate, int BatchSize, TimeSpan KillEvery, TimeSpan DownFor, int Silos, int Accounts,
    double NewShare, int AlertsPerIncident, TimeSpan SecondLevel, TimeSpan? RedispatchAfter, bool FullRestart, bool Build, int Seed, string? Logs)
{
    /// <summary>Escalation levels each incident pages the webhook through: at opening, and SecondLevel later unless that is 0.</summary>
    public int Levels => SecondLevel > TimeSpan.Zero ? 2 : 1;
}

/// <summary>One kill: which silo, when (seconds into the run) it was SIGKILLed, restarted, and answered /healthz again.</summary>
public sealed record ChaosKill(string Silo, double KilledAt, double RestartedAt, double BackAt);

/// <summary>
/// An incident as the cluster returned it after the run: its alerts' fingerprints and counts, the notifications whose
/// outcome it recorded (key → delivered), and how many it still waits on (not sent yet, or sent with no report back).
/// </summary>
public sealed record StoredIncident(string Id, int Account, string Service, string GroupKey, IReadOnlyDictionary<string, long> AlertCounts,
    IReadOnlyDictionary<string, bool> Outcomes, int PendingNotifications)
{
    /// <summary>When each escalation step fired, from the chronicle; read only for incidents with a notification pending.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Steps { get; init; } = new Dictionary<string, DateTimeOffset>();
}

/// <summary>
/// The chaos soak: sustained ingest into a PostgreSQL cluster while its silos are SIGKILLed and restarted one at a time.
/// It starts a throwaway PostgreSQL (default durability) and <see cref="ChaosSettings.Silos"/> silos of the Release
/// build; creates accounts whose escalation policy pages a signed webhook served here; sends alerts at a fixed rate
/// (<see cref="ChaosLoad"/>) while a schedule kills a silo every KillEvery and restarts it on the same ports DownFor
/// later; then waits for the notifications to drain, SIGKILLs and restarts the whole cluster so that only what is in
/// PostgreSQL remains, and reads every incident back over the HTTP API. It reports accepted against persisted alerts,
/// duplicate notifications, and ingest latency in the failover windows against the steady ones; it fails when an
/// accepted alert is lost or a notification arrived twice.
/// </summary>
public sealed class ChaosBench(ChaosSettings settings)
{
    private const string SecretKey = "BENCH_WEBHOOK_SECRET";
    /// <summary>How long after a restarted silo answers again its window still counts as failover (caches, JIT, rebalancing).</summary>
    private static readonly TimeSpan AfterBack = TimeSpan.FromSeconds(10);
    /// <summary>Longer than the reminder period (1 min): a level whose timer died with its silo fires from the reminder on a survivor.</summary>
    private static readonly TimeSpan NotificationQuiet = TimeSpan.FromSeconds(75);
    private static readonly TimeSpan NotificationDrainLimit = TimeSpan.FromMinutes(5);

    private readonly Stopwatch _clock = new();
    private readonly List<ChaosKill> _kills = [];
    /// <summary>The wall-clock moment the run's clock started, to place the server's own timestamps on it.</summary>
    private DateTimeOffset _startedAt;

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        if (ThrowawayPostgres.BinDirectory is not { } bin)
        {
            Console.Error.WriteLine("PostgreSQL's server binaries are not installed (apt-get install postgresql); the chaos soak needs a PostgreSQL cluster.");
            return 1;
        }
        var dll = await OrleansOpsServer.LocateAsync(settings.Build, cancel);
        var postgresVersion = (await ChildProcess.RunToEndAsync(Path.Combine(bin, "postgres"), ["--version"], cancel: cancel)).Trim();
        await BenchMachine.DescribeAsync(postgresVersion, cancel);

        var (folder, removal) = Cleanup.TempFolder("orleansops-bench-chaos");
        using (removal)
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            var secret = RandomNumberGenerator.GetHexString(32, lowercase: true);
            using var postgres = await ThrowawayPostgres.StartAsync(Path.Combine(folder, "postgres"), cancel);
            var siloSettings = ServerSettings.Cluster(postgres, token);
            // The webhook channel's secretRef names this key; the server looks it up in its configuration.
            siloSettings[SecretKey] = secret;
            // Timestamps in the silos' logs, to line what they did up with the kills (--logs keeps them).
            siloSettings["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ";
            siloSettings["Logging__Console__UseUtcTimestamp"] = "true";
            if (settings.RedispatchAfter is { } redispatch) siloSettings["OrleansOps__Notifications__RedispatchAfter"] = redispatch.ToString("c", CultureInfo.InvariantCulture);
            Console.WriteLine($"PostgreSQL on 127.0.0.1:{postgres.Port} (pid {postgres.ServerProcessId}; fsync and synchronous_commit on); applying the schema …");
            await ChildProcess.RunToEndAsync("dotnet", [dll, "migrate"], siloSettings, cancel);

            var ledger = new NotificationLedger(secret);
            using var webhook = LoopbackWebhook.Start(ledger.Add);
            using var cluster = new ChaosCluster(dll, folder, siloSettings, settings.Silos);
            try
            {
                var started = Stopwatch.StartNew();
                await cluster.StartAllAsync(cancel);
                Console.WriteLine($"{settings.Silos} silos up in {started.Elapsed.TotalSeconds:0} s: "
                    + string.Join(", ", cluster.Silos.Select(s => $"{s.Name} pid {s.Process!.ProcessId} http {s.Ports.Http} silo {s.Ports.Silo}")));

                var accounts = await CreateAccountsAsync(cluster.Silos[0].BaseAddress, token, webhook.Url, cancel);
                Console.WriteLine($"{accounts.Count} accounts, each paging the webhook {webhook.Url} at opening"
                    + (settings.Levels > 1 ? $" and {settings.SecondLevel.TotalSeconds:0} s later" : "") + " (signed, secret by secretRef)");

                var load = await SoakAsync(cluster, accounts, cancel);
                var expectedIncidents = load.Alerts.SelectMany(a => a.Incidents).ToHashSet(StringComparer.Ordinal);
                await DrainNotificationsAsync(ledger, expectedIncidents, cancel);
                if (settings.FullRestart) await RestartClusterAsync(cluster, cancel);
                var stored = await ReadBackAsync(cluster, accounts, token, load.Alerts, cancel);
                // Incidents activated by the read-back act on whatever they find due: give a page that would go out twice the time to arrive.
                await Task.Delay(TimeSpan.FromSeconds(10), cancel);
                return Report(load, ledger, stored, cluster.FailedStarts);
            }
            finally
            {
                cluster.KillAll();
                if (settings.Logs is { } logs)
                {
                    cluster.CopyLogs(logs);
                    Console.WriteLine($"silo logs copied to {logs}");
                }
            }
        }
    }

    private async Task<IReadOnlyList<BenchAccount>> CreateAccountsAsync(Uri silo, string token, string hookUrl, CancellationToken cancel)
    {
        using var admin = new HttpClient { BaseAddress = silo, Timeout = TimeSpan.FromSeconds(60) };
        var levels = new JsonArray(new JsonObject { ["delay"] = "0s", ["targets"] = new JsonArray("channel:hook") });
        if (settings.Levels > 1) levels.Add(new JsonObject { ["delay"] = $"{(int)settings.SecondLevel.TotalSeconds}s", ["targets"] = new JsonArray("channel:hook") });
        var accounts = new List<BenchAccount>();
        for (var a = 0; a < settings.Accounts; a++)
            accounts.Add(await BenchAccount.CreateAsync(admin, token, $"bench-chaos-{a}", cancel, config =>
            {
                config["channels"] = new JsonArray(new JsonObject { ["id"] = "hook", ["kind"] = "webhook", ["url"] = hookUrl, ["secretRef"] = SecretKey });
                config["escalationPolicies"] = new JsonArray(new JsonObject { ["id"] = "chaos", ["levels"] = levels.DeepClone() });
                config["escalation"] = new JsonObject { ["defaultPolicy"] = "chaos" };
            }));
        return accounts;
    }

    /// <summary>The load and the kill schedule side by side, with a progress line every 5 s.</summary>
    private async Task<ChaosLoad> SoakAsync(ChaosCluster cluster, IReadOnlyList<BenchAccount> accounts, CancellationToken cancel)
    {
        var end = settings.Warmup + settings.Duration;
        Console.WriteLine($"ingest: {settings.Rate:0} alerts/s in batches of {settings.BatchSize} for {settings.Warmup.TotalSeconds:0} s of warm-up (not in the latency figures) "
            + $"and {settings.Duration.TotalSeconds:0} s measured; {settings.NewShare:P0} new alerts ({settings.AlertsPerIncident} per incident), the rest re-sends; "
            + $"a silo SIGKILLed every {settings.KillEvery.TotalSeconds:0} s from {(settings.Warmup + settings.KillEvery).TotalSeconds:0} s, restarted {settings.DownFor.TotalSeconds:0} s later");
        var load = new ChaosLoad(cluster, accounts, settings, _clock);
        _startedAt = DateTimeOffset.UtcNow;
        _clock.Start();
        Console.WriteLine($"t=0 is {_startedAt:HH:mm:ss.fff} UTC (the silos' log timestamps)");
        using var progress = new Timer(_ => Progress(load, cluster), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
        var sending = load.RunAsync(end, cancel);
        var chaos = KillScheduleAsync(cluster, end, cancel);
        await Task.WhenAll(sending, chaos);
        Progress(load, cluster);
        Console.WriteLine($"ingest done at {_clock.Elapsed.TotalSeconds:0} s; every batch answered or given up");
        return load;
    }

    private void Progress(ChaosLoad load, ChaosCluster cluster)
    {
        var down = cluster.Silos.Where(s => !s.Up).Select(s => s.Name).ToList();
        var downNames = down.Count > 0 ? $" ({string.Join(", ", down)} down)" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  t={_clock.Elapsed.TotalSeconds,4:0} s  sent {load.SentAlerts} alerts ({load.SentBatches} batches), accepted {load.AcceptedEvents}, retrying {load.Retrying} batches, failed attempts {load.FailedAttempts} (connection {load.ConnectionFailures}, timeout {load.Timeouts}, 5xx {load.StatusFailures}), gave up {load.GaveUp}; live {cluster.LiveCount}/{cluster.Silos.Count}{downNames}"));
    }

    /// <summary>Kills the silos in turn, each restarted DownFor later; the next kill waits until the last silo is back, so at most one is down.</summary>
    private async Task KillScheduleAsync(ChaosCluster cluster, TimeSpan end, CancellationToken cancel)
    {
        for (var k = 0; ; k++)
        {
            var at = settings.Warmup + settings.KillEvery * (k + 1);
            if (at >= end) return;
            if (at - _clock.Elapsed is { Ticks: > 0 } wait) await Task.Delay(wait, cancel);
            var silo = cluster.Silos[k % cluster.Silos.Count];
            var pid = silo.Process!.ProcessId;
            var killedAt = _clock.Elapsed.TotalSeconds;
            cluster.Kill(silo);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  t={killedAt,4:0} s  SIGKILL {silo.Name} (pid {pid})"));
            await Task.Delay(settings.DownFor, cancel);
            var restartedAt = _clock.Elapsed.TotalSeconds;
            await cluster.StartAsync(silo, cancel);
            var backAt = _clock.Elapsed.TotalSeconds;
            lock (_kills) _kills.Add(new ChaosKill(silo.Name, killedAt, restartedAt, backAt));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  t={backAt,4:0} s  {silo.Name} back (pid {silo.Process!.ProcessId}), {backAt - restartedAt:0.0} s after its restart, {backAt - killedAt:0.0} s after the kill"));
        }
    }

    /// <summary>
    /// Waits until every incident the receipts named has paged every level, or until no page has arrived for a while
    /// (longer than the reminder period that brings back a level whose timer died with its silo).
    /// </summary>
    private async Task DrainNotificationsAsync(NotificationLedger ledger, IReadOnlySet<string> incidents, CancellationToken cancel)
    {
        var expected = incidents.Count * settings.Levels;
        Console.WriteLine($"waiting for the notifications of {incidents.Count} incidents ({expected} pages) …");
        var waiting = Stopwatch.StartNew();
        var settled = settings.SecondLevel + TimeSpan.FromSeconds(5);
        while (waiting.Elapsed < NotificationDrainLimit)
        {
            var arrived = ledger.Received.Select(r => r.Key).Distinct(StringComparer.Ordinal).Count();
            if (arrived >= expected && waiting.Elapsed >= settled) break;
            if (waiting.Elapsed >= settled && DateTimeOffset.UtcNow - ledger.LastArrival > NotificationQuiet) break;
            await Task.Delay(TimeSpan.FromSeconds(5), cancel);
            if ((int)waiting.Elapsed.TotalSeconds % 15 < 5) Console.WriteLine($"  {arrived} distinct of {expected} pages, {ledger.Count} deliveries, {waiting.Elapsed.TotalSeconds:0} s");
        }
        Console.WriteLine($"  {ledger.Received.Select(r => r.Key).Distinct(StringComparer.Ordinal).Count()} distinct pages in {ledger.Count} deliveries after {waiting.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>SIGKILLs every silo at once and starts them again: what the read-back finds is what PostgreSQL holds.</summary>
    private async Task RestartClusterAsync(ChaosCluster cluster, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        cluster.KillAll();
        Console.WriteLine("full cluster restart: every silo SIGKILLed; starting them again …");
        await cluster.StartAllAsync(cancel);
        Console.WriteLine($"  {cluster.Silos.Count} silos back in {clock.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>
    /// Every incident of every account (all pages of the account's list, plus any incident a receipt named that the
    /// list lacks), each read whole: its alerts' fingerprints and counts, and its notifications.
    /// </summary>
    private async Task<IReadOnlyList<StoredIncident>> ReadBackAsync(ChaosCluster cluster, IReadOnlyList<BenchAccount> accounts, string token,
        IReadOnlyList<TrackedAlert> alerts, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var listed = new List<(int Account, string Id)>();
        for (var a = 0; a < accounts.Count; a++)
            for (string? cursor = null; ;)
            {
                var query = cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}";
                using var page = await GetAsync(cluster, token, $"api/v1/accounts/{accounts[a].Id}/incidents?limit=500{query}", cancel);
                listed.AddRange(page.RootElement.GetProperty("items").EnumerateArray().Select(i => (a, i.GetProperty("id").GetString()!)));
                if (page.RootElement.GetProperty("next") is not { ValueKind: JsonValueKind.String } next) break;
                cursor = next.GetString();
            }
        var named = alerts.SelectMany(alert => alert.Incidents.Select(id => (alert.Account, Id: id))).Distinct().ToList();
        var listedIds = listed.ToHashSet();
        var unlisted = named.Where(n => !listedIds.Contains(n)).ToList();
        if (unlisted.Count > 0)
            Console.WriteLine($"  {unlisted.Count} incidents named by receipts are missing from their account's list: {string.Join(", ", unlisted.Take(5).Select(u => u.Id))}");

        var stored = new ConcurrentBag<StoredIncident>();
        await Parallel.ForEachAsync(listed.Concat(unlisted), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancel }, async (incident, ct) =>
        {
            using var json = await GetAsync(cluster, token, $"api/v1/incidents/{incident.Id}", ct);
            var root = json.RootElement;
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var alert in root.GetProperty("alerts").EnumerateArray())
                counts[alert.GetProperty("fingerprint").GetString()!] = alert.GetProperty("count").GetInt64();
            var outcomes = root.GetProperty("notifications").EnumerateArray()
                .ToDictionary(n => n.GetProperty("key").GetString()!, n => n.GetProperty("delivered").GetBoolean(), StringComparer.Ordinal);
            var pending = root.GetProperty("pendingNotifications").GetInt32();
            var steps = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            if (pending > 0)
            {
                // Evidence for a page that has not arrived: whether and when its step fired (an incident's first entries fit one page).
                using var chronicle = await GetAsync(cluster, token, $"api/v1/incidents/{incident.Id}/chronicle?limit=500", ct);
                foreach (var entry in chronicle.RootElement.GetProperty("items").EnumerateArray()
                    .Where(e => e.GetProperty("kind").GetString() == "escalation.step"))
                    steps[entry.GetProperty("data").GetProperty("step").GetString()!] = entry.GetProperty("at").GetDateTimeOffset();
            }
            stored.Add(new StoredIncident(incident.Id, incident.Account, root.GetProperty("service").GetString()!, root.GetProperty("groupKey").GetString() ?? "",
                counts, outcomes, pending) { Steps = steps });
        });
        Console.WriteLine($"read back {stored.Count} incidents ({listed.Count} listed) in {clock.Elapsed.TotalSeconds:0.0} s");
        return stored.ToList();
    }

    /// <summary>A GET with the admin token on the next live silo; a 5xx or a failed connection is tried again (the cluster may still be settling).</summary>
    private static async Task<JsonDocument> GetAsync(ChaosCluster cluster, string token, string path, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            var silo = cluster.NextLive() ?? throw new InvalidOperationException("no silo is up to read from");
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await silo.Client.SendAsync(request, cancel);
                var body = await response.Content.ReadAsStringAsync(cancel);
                if (response.IsSuccessStatusCode) return JsonDocument.Parse(body);
                if ((int)response.StatusCode < 500 || attempt >= 10) throw new InvalidOperationException($"GET {path} on {silo.Name}: {(int)response.StatusCode} {body}");
            }
            catch (HttpRequestException) when (attempt < 10) { /* tried again below */ }
            await Task.Delay(TimeSpan.FromSeconds(1), cancel);
        }
    }

    private int Report(ChaosLoad load, NotificationLedger ledger, IReadOnlyList<StoredIncident> stored, IReadOnlyList<string> failedStarts)
    {
        Console.WriteLine();
        // Durability: every alert a 2xx answered for must be in an incident of its account.
        var accepted = load.Alerts.Where(a => a.AcceptedSends > 0).ToList();
        var byAccount = stored.GroupBy(s => s.Account).ToDictionary(g => g.Key, g => g.ToList());
        var lost = new List<TrackedAlert>();
        var misplaced = 0;
        var countsShort = 0;
        foreach (var alert in accepted)
        {
            var holding = byAccount.GetValueOrDefault(alert.Account, []).Where(s => s.AlertCounts.ContainsKey(alert.Fingerprint!)).ToList();
            if (holding.Count == 0)
            {
                lost.Add(alert);
                continue;
            }
            if (!holding.Any(s => alert.Incidents.Contains(s.Id))) misplaced++;
            if (holding.Sum(s => s.AlertCounts[alert.Fingerprint!]) < alert.AcceptedSends) countsShort++;
        }
        var split = load.Alerts.Where(a => a.Incidents.Count > 0).GroupBy(a => (a.Account, a.Group))
            .Count(g => g.SelectMany(a => a.Incidents).Distinct().Count() > 1);
        var storedGroups = stored.GroupBy(s => (s.Account, s.Service, s.GroupKey)).Count(g => g.Count() > 1);
        var sentDistinct = load.Alerts.Count;
        Console.WriteLine($"alerts: {load.SentAlerts} sent in {load.SentBatches} batches ({sentDistinct} distinct); {load.AcceptedEvents} accepted (2xx), "
            + $"{accepted.Count} distinct; {load.GaveUp} batches given up (2 min of retries without a 2xx)"
            + (load.FirstRefusal is { } refusal ? $"; refused: {refusal}" : ""));
        Console.WriteLine($"persisted: {accepted.Count - lost.Count} of {accepted.Count} accepted alerts are in an incident after the "
            + (settings.FullRestart ? "full cluster restart" : "run") + $"; lost {lost.Count}; {misplaced} in another incident than their receipt named; "
            + $"{countsShort} with a stored count below their accepted sends");
        foreach (var alert in lost.Take(10))
            Console.WriteLine($"  lost: account {alert.Account} {alert.Labels.AlertName}/{alert.Labels.Instance} fingerprint {alert.Fingerprint} "
                + $"incident {string.Join(",", alert.Incidents)}, first accepted at {alert.FirstAcceptedAt:0.0} s by {alert.FirstAcceptedBy}, {alert.AcceptedSends} accepted sends");
        Console.WriteLine($"incidents: {stored.Count} stored; groups that got more than one incident: {split} by the receipts, {storedGroups} in storage");

        // Notifications: each key once.
        var received = ledger.Received;
        var duplicates = ledger.Duplicates();
        var distinct = received.Select(r => r.Key).Distinct(StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var expected = stored.SelectMany(s => Enumerable.Range(0, settings.Levels).Select(level => $"{s.Id}/g0.r0.l{level}/channel:hook")).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Where(k => !distinct.Contains(k)).ToList();
        var unexpected = distinct.Count(k => !expected.Contains(k));
        var pending = stored.Sum(s => s.PendingNotifications);
        var recordedDelivered = stored.Sum(s => s.Outcomes.Count(o => o.Value));
        // Received here, yet its incident recorded no outcome: the silo died between the POST and the report. The
        // incident sends it again after RedispatchAfter under the same key, so the receiver will see it twice.
        var recorded = stored.SelectMany(s => s.Outcomes.Keys).ToHashSet(StringComparer.Ordinal);
        var unreported = received.Where(r => !recorded.Contains(r.Key)).GroupBy(r => r.Key).Select(g => g.First()).ToList();
        Console.WriteLine($"notifications: {received.Count} deliveries, {distinct.Count} distinct keys, {duplicates.Sum(d => d.Times - 1)} duplicates; "
            + $"expected {expected.Count} ({stored.Count} incidents × {settings.Levels} levels), missing {missing.Count}, unexpected {unexpected}; "
            + $"{received.Count(r => !r.SignatureValid)} with a bad signature, {ledger.Malformed} malformed; "
            + $"the incidents record {recordedDelivered} delivered and {pending} still pending");
        foreach (var (key, times) in duplicates.Take(10))
            Console.WriteLine($"  duplicate: {key} × {times}, at " + string.Join(", ", received.Where(r => r.Key == key)
                .Select(r => string.Create(CultureInfo.InvariantCulture, $"{(r.At - _startedAt).TotalSeconds:0.0} s"))));
        var redispatch = settings.RedispatchAfter is { } after ? $"{after.TotalSeconds:0} s" : "30 min (the server's default)";
        Console.WriteLine($"  {unreported.Count} delivered here but not recorded on their incident (the silo died before the report was saved): "
            + $"the incident sends each again {redispatch} after handing it over, a duplicate by key unless the run has seen it already");
        foreach (var notification in unreported.Take(10))
            Console.WriteLine($"  unreported: {notification.Key}, arrived at {(notification.At - _startedAt).TotalSeconds:0.0} s{NearestKill((notification.At - _startedAt).TotalSeconds)}");
        foreach (var key in missing.Take(10))
        {
            var incident = stored.First(s => key.StartsWith(s.Id + "/", StringComparison.Ordinal));
            var step = key[..key.LastIndexOf('/')];
            var fired = incident.Steps.TryGetValue(step, out var at)
                ? string.Create(CultureInfo.InvariantCulture, $"its step fired at {(at - _startedAt).TotalSeconds:0.0} s{NearestKill((at - _startedAt).TotalSeconds)}")
                : "its step is not on the chronicle";
            Console.WriteLine($"  missing: {key}: {fired}; the incident holds {incident.PendingNotifications} notification(s) pending, sent again {redispatch} after it was handed over");
        }
        if (ledger.FirstMalformed is { } malformed) Console.WriteLine($"  first malformed: {malformed}");

        // Latency: measured phase only, by when each batch was due.
        var measured = load.Results.Where(r => r.DueSeconds >= settings.Warmup.TotalSeconds && r.Accepted).ToList();
        var inFailover = measured.Where(r => _kills.Any(k => r.DueSeconds >= k.KilledAt && r.DueSeconds < k.BackAt + AfterBack.TotalSeconds)).ToList();
        var steady = measured.Except(inFailover).ToList();
        Console.WriteLine($"latency of accepted batches, from due to 2xx with retries ({measured.Count} batches after the warm-up; failover = from a kill until "
            + $"{AfterBack.TotalSeconds:0} s after the silo answered again):");
        Console.WriteLine($"  {"",-10} {"batches",8} {"retried",8} {"p50 ms",8} {"p99 ms",9} {"max ms",9}");
        foreach (var (name, rows) in new[] { ("all", measured), ("steady", steady), ("failover", inFailover) })
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-10} {rows.Count,8} {rows.Count(r => r.Attempts > 1),8} {P(rows, 0.5),8:0.0} {P(rows, 0.99),9:0.0} {Max(rows),9:0.0}"));
        foreach (var kill in _kills)
        {
            var window = measured.Where(r => r.DueSeconds >= kill.KilledAt && r.DueSeconds < kill.BackAt + AfterBack.TotalSeconds).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  kill of {kill.Silo} at {kill.KilledAt:0} s (back after {kill.BackAt - kill.KilledAt:0.0} s): {window.Count} batches, {window.Count(r => r.Attempts > 1)} retried, "
                + $"p99 {P(window, 0.99):0} ms, max {Max(window):0} ms"));
        }
        Console.WriteLine($"failed attempts: {load.ConnectionFailures} connection, {load.Timeouts} timeouts, {load.StatusFailures} answered {load.FailedStatuses}; {_kills.Count} kills; "
            + $"{failedStarts.Count} silo starts exited and were started again");
        foreach (var failure in failedStarts) Console.WriteLine($"  failed start: {failure}");

        var goals = $"goals: lost = 0: {(lost.Count == 0 ? "met" : "NOT met")}; duplicates = 0: {(duplicates.Count == 0 ? "met" : "NOT met")}";
        Console.WriteLine(goals);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"accepted={accepted.Count} persisted={accepted.Count - lost.Count} lost={lost.Count} notifications={received.Count} duplicates={duplicates.Sum(d => d.Times - 1)} "
            + $"missing_notifications={missing.Count} unreported_notifications={unreported.Count} kills={_kills.Count} p50_ms={P(measured, 0.5):0.0} p99_ms={P(measured, 0.99):0.0} "
            + $"p99_steady_ms={P(steady, 0.99):0.0} p99_failover_ms={P(inFailover, 0.99):0.0} max_failover_ms={Max(inFailover):0.0}"));
        return lost.Count > 0 || duplicates.Count > 0 ? 1 : 0;
    }

    /// <summary>", 0.3 s before the kill of silo-2 at 52.0 s": the kill closest to a moment of the run, if any.</summary>
    private string NearestKill(double at)
    {
        if (_kills.MinBy(k => Math.Abs(k.KilledAt - at)) is not { } kill) return "";
        var gap = kill.KilledAt - at;
        return string.Create(CultureInfo.InvariantCulture, $", {Math.Abs(gap):0.0} s {(gap >= 0 ? "before" : "after")} the kill of {kill.Silo} at {kill.KilledAt:0.0} s");
    }

    private static double P(IReadOnlyList<BatchResult> rows, double p) => Statistics.Percentile(rows.Select(r => r.LatencyMs).ToList(), p);
    private static double Max(IReadOnlyList<BatchResult> rows) => rows.Count == 0 ? double.NaN : rows.Max(r => r.LatencyMs);
}
