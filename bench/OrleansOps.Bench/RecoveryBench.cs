using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace OrleansOps.Bench;

public sealed record RecoverySettings(long Records, int Connections, int Seed, bool Build);

/// <summary>What the server answered for one alert: its fingerprint, the incident it is in, what became of it and whether it opened that incident.</summary>
public sealed record AlertReceipt(string Fingerprint, string? IncidentId, string Outcome, bool OpenedIncident)
{
    public static AlertReceipt Of(JsonElement receipt) => new(
        receipt.GetProperty("fingerprint").GetString()!,
        receipt.TryGetProperty("incidentId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
        receipt.TryGetProperty("outcome", out var outcome) ? outcome.GetString() ?? "" : "",
        receipt.TryGetProperty("openedIncident", out var opened) && opened.ValueKind == JsonValueKind.True);
}

/// <summary>
/// Recovery after a crash: the embedded server ingests a storm (every alert new, in 80 groups) on one account until its
/// journal holds <see cref="RecoverySettings.Records"/> records, is SIGKILLed, and is started again on the same data
/// folder and ports. The bench times the new process to its first /healthz 200, to the first 2xx of a new alert for the
/// account, and to the first 2xx of a re-send of the newest alert acknowledged before the kill, whose receipt must name
/// the incident it was in before: an acknowledged alert that lost its incident in the crash fails the bench.
/// </summary>
public sealed class RecoveryBench(RecoverySettings settings)
{
    private const int BatchSize = 100;
    /// <summary>How often the restarted server is asked, and how long one attempt may wait for its answer.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    /// <summary>How long the restarted server has to answer everything: replaying a large journal may take a while.</summary>
    private static readonly TimeSpan RestartLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    /// <summary>Journal records appended since the server process started (the server's /metrics, with the admin token).</summary>
    public const string JournalRecords = "orleansops_journal_records_total";

    /// <summary>What the storm left before the kill: alerts acknowledged, the next position never sent, and the newest batches' answers.</summary>
    private sealed record Storm(long Alerts, long NextPosition, TimeSpan Elapsed, long Records, bool RecordsFromMetric, IReadOnlyList<(long Index, string Body)> LastAnswers);

    /// <summary>When a probe first got a 2xx, after how many attempts, and the receipt of its one alert.</summary>
    private sealed record Probe(TimeSpan At, int Attempts, AlertReceipt Receipt);

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        var dll = await OrleansOpsServer.LocateAsync(settings.Build, cancel);
        await BenchMachine.DescribeAsync("recovery: the embedded server (SQLite, default durability), SIGKILLed and started again on its data folder", cancel);
        var (folder, removal) = Cleanup.TempFolder("orleansops-bench-recovery");
        using (removal)
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            var data = Path.Combine(folder, "data");
            var serverSettings = ServerSettings.Embedded(data, token);
            var ports = SiloPorts.Free();
            var stream = new AlertStream(StreamKind.Storm, settings.Seed, 1);

            var first = await OrleansOpsServer.StartAsync(dll, "server.1", folder, serverSettings, ports, cancel);
            var firstPid = first.ProcessId;
            BenchAccount account;
            Storm storm;
            long dataBytes;
            using (first)
            {
                using var admin = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
                account = await BenchAccount.CreateAsync(admin, token, "bench-recovery", cancel);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"OrleansOps pid {firstPid} at {first.BaseAddress}, data in {data}; account {account.Id}; a storm of new alerts in {AlertStream.StormGroups} groups, "
                    + $"batches of {BatchSize} over {settings.Connections} connections, until the journal holds {settings.Records:#,0} records"));
                storm = await StormAsync(first.BaseAddress, admin, token, account, stream, cancel);
                dataBytes = Folders.Bytes(data);
                // No wait and no graceful stop (disposing SIGKILLs it): what it acknowledged but had not made durable is lost here.
            }
            var sinceKill = Stopwatch.StartNew();
            var resent = NewestInIncident(storm)
                ?? throw new InvalidOperationException("no receipt of the storm's newest batches names an incident; nothing to re-send");
            var groupIncidents = GroupIncidents(stream, storm);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"SIGKILLed pid {firstPid} with {storm.Records:#,0} journal records{(storm.RecordsFromMetric ? "" : " (counted as alerts)")}, {storm.Alerts:#,0} alerts acknowledged, "
                + $"data folder {dataBytes / 1048576.0:0.0} MB; starting a new server on the same data folder and ports …"));

            var newPosition = storm.NextPosition;
            var restartedAfter = sinceKill.Elapsed;
            var clock = Stopwatch.StartNew();
            // The probes keep their own time limit; this stops them when the server fails to start, or on Ctrl+C.
            using var probing = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var start = OrleansOpsServer.StartAsync(dll, "server.2", folder, serverSettings, ports, RestartLimit, Poll, cancel);
            var baseAddress = new Uri($"http://127.0.0.1:{ports.Http}/");
            var newAlert = FirstAcceptedAsync("the new alert", baseAddress, account.Key, Body(stream, newPosition), clock, probing.Token);
            var resend = FirstAcceptedAsync("the re-sent alert", baseAddress, account.Key, Body(stream, resent.Position), clock, probing.Token);
            LoopbackServer second;
            try
            {
                second = await start;
            }
            catch
            {
                await probing.CancelAsync();
                throw;
            }
            using (second)
            {
                var healthz = clock.Elapsed;
                var fresh = await newAlert;
                var again = await resend;
                var sameIncident = again.Receipt.IncidentId == resent.Receipt.IncidentId;
                var group = stream.At(newPosition);
                var groupIncident = groupIncidents.GetValueOrDefault((group.Service, group.AlertName));

                Console.WriteLine();
                Console.WriteLine($"recovery of the embedded server after SIGKILL (new pid {second.ProcessId}):");
                Row("journal records at the kill", string.Create(CultureInfo.InvariantCulture,
                    $"{storm.Records:#,0}{(storm.RecordsFromMetric ? "" : $" (no {JournalRecords} on /metrics: one per alert sent)")}"));
                Row("alerts acknowledged before the kill", string.Create(CultureInfo.InvariantCulture,
                    $"{storm.Alerts:#,0} in {storm.Elapsed.TotalSeconds:0} s ({storm.Alerts / storm.Elapsed.TotalSeconds:0} alerts/s)"));
                Row("data folder at the kill", string.Create(CultureInfo.InvariantCulture, $"{dataBytes / 1048576.0:0.0} MB"));
                Row("new process started", Ms(restartedAfter) + " after the kill");
                Row("first /healthz 200", Ms(healthz) + " after the start");
                var joined = fresh.Receipt.OpenedIncident ? $"opened incident {fresh.Receipt.IncidentId}" : $"in incident {fresh.Receipt.IncidentId ?? "none"}";
                var itsGroup = groupIncident is null ? "" : fresh.Receipt.IncidentId == groupIncident ? ", its group's from before the kill" : $"; its group's before the kill: {groupIncident}";
                Row("first 2xx of a new alert", $"{Ms(fresh.At)} ({fresh.Attempts} attempts; {fresh.Receipt.Outcome}, {joined}{itsGroup})");
                var before = sameIncident ? "the same as before the kill" : $"before the kill {resent.Receipt.IncidentId}";
                Row("first 2xx of a re-sent alert", string.Create(CultureInfo.InvariantCulture,
                    $"{Ms(again.At)} ({again.Attempts} attempts; alert {resent.Position + 1:#,0} of the storm, in incident {again.Receipt.IncidentId ?? "none"}: {before})"));
                if (!sameIncident)
                    Console.WriteLine($"FAILED: the re-sent alert {resent.Receipt.Fingerprint} was in incident {resent.Receipt.IncidentId} before the kill, "
                        + $"its receipt now names {again.Receipt.IncidentId ?? "no incident"} ({again.Receipt.Outcome})");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"records={storm.Records} healthz_ms={healthz.TotalMilliseconds:0} first_2xx_ms={fresh.At.TotalMilliseconds:0} first_resend_2xx_ms={again.At.TotalMilliseconds:0}"));
                return sameIncident ? 0 : 1;
            }
        }
    }

    /// <summary>
    /// Sends the storm flat out until the journal holds the records asked for (read from /metrics every half second, so
    /// it overshoots by at most that long's worth), then lets the requests in flight finish: every alert sent was
    /// answered before the kill, so each is either acknowledged or refused, none in doubt.
    /// </summary>
    private async Task<Storm> StormAsync(Uri server, HttpClient admin, string token, BenchAccount account, AlertStream stream, CancellationToken cancel)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = server,
            Timeout = TimeSpan.FromSeconds(120),
        };
        long next = -1;
        long sent = 0;
        var stopping = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, settings.Connections).Select(_ => Task.Run(async () =>
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            (long Index, string Body) newest = (-1, "");
            while (Volatile.Read(ref stopping) == 0)
            {
                var index = Interlocked.Increment(ref next);
                buffer.ResetWrittenCount();
                stream.WriteBatch(index, BatchSize, DateTimeOffset.UtcNow, buffer);
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/alerts") { Content = new ReadOnlyMemoryContent(buffer.WrittenMemory) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Key);
                using var response = await client.SendAsync(request, cancel);
                var body = await response.Content.ReadAsStringAsync(cancel);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"ingest refused batch {index}: {(int)response.StatusCode} {body[..Math.Min(body.Length, 500)]}");
                Interlocked.Add(ref sent, BatchSize);
                newest = (index, body);
            }
            return newest;
        }, cancel)).ToList();

        var all = Task.WhenAll(workers);
        long records = 0;
        var fromMetric = true;
        var lastProgress = TimeSpan.Zero;
        long sentAtLastProgress = 0;
        // A worker ends early only when a batch failed: stop the others, and the await below throws its failure.
        while (!workers.Any(w => w.IsCompleted))
        {
            await Task.WhenAny(Task.WhenAny(workers), Task.Delay(CheckEvery, cancel));
            var alerts = Interlocked.Read(ref sent);
            var metric = await JournalRecordsAsync(admin, token, cancel);
            if (metric is null && fromMetric && alerts > 0)
                Console.WriteLine($"  the server's /metrics has no {JournalRecords} (a server from before the journal): counting one record per alert sent");
            fromMetric = metric is not null || alerts == 0;
            records = metric ?? alerts;
            if (clock.Elapsed - lastProgress >= ProgressEvery)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {clock.Elapsed.TotalSeconds,4:0} s: {records:#,0} journal records{(fromMetric ? "" : " (counted)")}, {alerts:#,0} alerts sent, "
                    + $"{(alerts - sentAtLastProgress) / (clock.Elapsed - lastProgress).TotalSeconds:0} alerts/s"));
                (lastProgress, sentAtLastProgress) = (clock.Elapsed, alerts);
            }
            if (records >= settings.Records) break;
        }
        Volatile.Write(ref stopping, 1);
        var answers = await all;
        var elapsed = clock.Elapsed;
        var total = Interlocked.Read(ref sent);
        var final = await JournalRecordsAsync(admin, token, cancel);
        return new Storm(total, (Interlocked.Read(ref next) + 1) * BatchSize, elapsed, final ?? total, final is not null,
            answers.Where(n => n.Index >= 0).OrderByDescending(n => n.Index).ToList());
    }

    private static async Task<long?> JournalRecordsAsync(HttpClient admin, string token, CancellationToken cancel)
    {
        try
        {
            return (await ServerMetrics.ReadAsync(admin, token, cancel)).TryGetValue(JournalRecords, out var value) ? (long)value : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>
    /// The newest acknowledged alert that is in an incident, with its receipt: the one most likely to be missing after
    /// the kill if the server acknowledged before its write was durable.
    /// </summary>
    private static (long Position, AlertReceipt Receipt)? NewestInIncident(Storm storm)
    {
        foreach (var (index, body) in storm.LastAnswers)
        {
            var receipts = Receipts(body);
            for (var i = receipts.Count - 1; i >= 0; i--)
                if (receipts[i].IncidentId is not null) return (index * BatchSize + i, receipts[i]);
        }
        return null;
    }

    /// <summary>The incident each group's alerts were in at the end of the storm, as the newest answers said.</summary>
    private static Dictionary<(string Service, string AlertName), string> GroupIncidents(AlertStream stream, Storm storm)
    {
        var incidents = new Dictionary<(string, string), string>();
        // Oldest first, so the newest answer for a group wins.
        foreach (var (index, body) in storm.LastAnswers.Reverse())
            foreach (var (receipt, i) in Receipts(body).Select((r, i) => (r, i)))
                if (receipt.IncidentId is { } incident)
                {
                    var alert = stream.At(index * BatchSize + i);
                    incidents[(alert.Service, alert.AlertName)] = incident;
                }
        return incidents;
    }

    private static List<AlertReceipt> Receipts(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("alerts").EnumerateArray().Select(AlertReceipt.Of).ToList();
    }

    /// <summary>The body of one alert of the stream: the one at <paramref name="position"/>, as the storm sent it or would have.</summary>
    private static byte[] Body(AlertStream stream, long position)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        stream.WriteBatch(position, 1, DateTimeOffset.UtcNow, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Sends <paramref name="body"/> until an answer is 2xx: attempts <see cref="Poll"/> apart, each given
    /// <see cref="AttemptTimeout"/>, so neither a port not yet listening nor a request held during start-up hides the
    /// moment the server can take it. A progress line every 10 s says what it last answered.
    /// </summary>
    private static async Task<Probe> FirstAcceptedAsync(string what, Uri server, string key, byte[] body, Stopwatch since, CancellationToken cancel)
    {
        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = AttemptTimeout }) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        var attempts = 0;
        var lastAnswer = "nothing yet";
        var nextReport = TimeSpan.FromSeconds(10);
        while (true)
        {
            if (since.Elapsed >= RestartLimit)
                throw new TimeoutException($"{what} got no 2xx within {since.Elapsed.TotalSeconds:0} s of the restart; the last answer: {lastAnswer}");
            cancel.ThrowIfCancellationRequested();
            attempts++;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                attempt.CancelAfter(AttemptTimeout);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/alerts") { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    using var response = await client.SendAsync(request, attempt.Token);
                    var answer = await response.Content.ReadAsStringAsync(attempt.Token);
                    if (response.IsSuccessStatusCode) return new Probe(since.Elapsed, attempts, Receipts(answer)[0]);
                    lastAnswer = $"{(int)response.StatusCode} {answer[..Math.Min(answer.Length, 300)]}";
                }
                catch (HttpRequestException e)
                {
                    lastAnswer = e.Message;
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    lastAnswer = string.Create(CultureInfo.InvariantCulture, $"no answer within {AttemptTimeout.TotalSeconds:0} s");
                }
            }
            if (since.Elapsed >= nextReport)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {since.Elapsed.TotalSeconds,4:0} s: {what}, still no 2xx after {attempts} attempts; the last answer: {lastAnswer}"));
                nextReport += TimeSpan.FromSeconds(10);
            }
            try
            {
                await Task.Delay(Poll, cancel);
            }
            catch (OperationCanceledException)
            {
                // The loop's check says why: the restart's time limit, or Ctrl+C.
            }
        }
    }

    private static string Ms(TimeSpan at) => string.Create(CultureInfo.InvariantCulture, $"{at.TotalMilliseconds:#,0} ms");

    private static void Row(string what, string value) => Console.WriteLine($"  {what,-38} {value}");
}
