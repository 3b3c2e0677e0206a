using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace OrleansOps.Bench;

public sealed record MemorySettings(int Incidents, int AlertsPerIncident, int Accounts, int Connections, bool Build);

/// <summary>
/// The embedded server's memory at scale: many open incidents, each its own group, each with several open alerts. The
/// server starts as an operator would run it (demo accounts loaded); its resident memory and managed heap idle after
/// start are the baseline. Phase one opens every incident with one alert; phase two adds the other alerts to each
/// incident (same group, another instance). The differences give the bytes per open incident and per further open alert.
/// </summary>
public sealed class MemoryBench(MemorySettings settings)
{
    private const int BatchSize = 100;
    private const int Services = 10;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    private readonly string _startsAt = AlertStream.Timestamp(DateTimeOffset.UtcNow.AddMinutes(-1));

    private sealed record Sample(long Rss, long? ManagedHeap);

    /// <summary>The alerts of one request: one account's incidents from <paramref name="First"/> on, the alert of instance <paramref name="Instance"/>.</summary>
    private sealed record Batch(BenchAccount Account, int First, int Count, int Instance);

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        var dll = await OrleansOpsServer.LocateAsync(settings.Build, cancel);
        var (folder, removal) = Cleanup.TempFolder("orleansops-bench-memory");
        using (removal)
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            using var server = await OrleansOpsServer.StartAsync(dll, "server", folder, ServerSettings.Embedded(Path.Combine(folder, "data"), token), cancel);
            using var admin = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
            Console.WriteLine($"OrleansOps pid {server.ProcessId} at {server.BaseAddress} (embedded, demo accounts loaded); settling {Settle.TotalSeconds:0} s …");
            await Task.Delay(Settle, cancel);
            var baseline = await SampleAsync(server, admin, token, cancel);
            Print("after start-up", baseline);

            var accounts = new List<BenchAccount>();
            for (var a = 0; a < settings.Accounts; a++) accounts.Add(await BenchAccount.CreateAsync(admin, token, $"bench-mem-{a}", cancel));
            var alerts = (long)settings.Incidents * settings.AlertsPerIncident;
            Console.WriteLine($"{settings.Incidents} incidents over {settings.Accounts} accounts × {Services} services, {settings.AlertsPerIncident} open alerts each "
                + $"({alerts} in all), batches of {BatchSize} over {settings.Connections} connections");

            var opened = await SendAsync(server, Batches(accounts, instance: 0), "opening incidents", cancel);
            if (opened != settings.Incidents) Console.WriteLine($"  note: {opened} incidents opened, not {settings.Incidents}");
            Console.WriteLine($"settling {Settle.TotalSeconds:0} s …");
            await Task.Delay(Settle, cancel);
            var withIncidents = await SampleAsync(server, admin, token, cancel);
            Print($"with {settings.Incidents} open incidents of one alert", withIncidents);

            var withAlerts = withIncidents;
            if (settings.AlertsPerIncident > 1)
            {
                var joined = await SendAsync(server, Enumerable.Range(1, settings.AlertsPerIncident - 1).SelectMany(k => Batches(accounts, k)).ToList(), "adding alerts", cancel);
                if (joined != 0) Console.WriteLine($"  note: {joined} of the added alerts opened an incident instead of joining one");
                Console.WriteLine($"settling {Settle.TotalSeconds:0} s …");
                await Task.Delay(Settle, cancel);
                withAlerts = await SampleAsync(server, admin, token, cancel);
                Print($"with {settings.Incidents} open incidents and {alerts} open alerts", withAlerts);
            }
            Console.WriteLine($"peak RSS {ProcStats.PeakRss(server.ProcessId) / 1048576.0:0} MB; SQLite files {Folders.Bytes(Path.Combine(folder, "data")) / 1048576.0:0} MB");

            var perIncident = (withIncidents.Rss - baseline.Rss) / (double)settings.Incidents;
            var furtherAlerts = (long)settings.Incidents * (settings.AlertsPerIncident - 1);
            var perAlert = furtherAlerts > 0 ? (withAlerts.Rss - withIncidents.Rss) / (double)furtherAlerts : double.NaN;
            Console.WriteLine();
            Console.WriteLine($"{"",-52} {"RSS",10} {"managed heap",13}");
            Row("per open incident (with its first alert)", perIncident, Per(withIncidents.ManagedHeap, baseline.ManagedHeap, settings.Incidents));
            Row("per further open alert in an incident", perAlert, Per(withAlerts.ManagedHeap, withIncidents.ManagedHeap, furtherAlerts));
            Row($"per open incident with its {settings.AlertsPerIncident} alerts", (withAlerts.Rss - baseline.Rss) / (double)settings.Incidents,
                Per(withAlerts.ManagedHeap, baseline.ManagedHeap, settings.Incidents));
            Console.WriteLine($"goals: ≤ 16 KB per open incident: {(perIncident <= 16 * 1024 ? "met" : "NOT met")}; "
                + $"≤ 2 KB per open alert: {(double.IsNaN(perAlert) ? "not measured (one alert per incident)" : perAlert <= 2 * 1024 ? "met" : "NOT met")}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"incidents={settings.Incidents} alerts={alerts} bytes_per_incident={perIncident:0} bytes_per_alert={perAlert:0}"));
            return 0;
        }
    }

    private IEnumerable<Batch> Batches(IReadOnlyList<BenchAccount> accounts, int instance)
    {
        // Round-robin over the accounts, so every account grows at the same pace.
        var perAccount = Enumerable.Range(0, accounts.Count).Select(a => settings.Incidents / accounts.Count + (a < settings.Incidents % accounts.Count ? 1 : 0)).ToList();
        for (var first = 0; first < perAccount.Max(); first += BatchSize)
            for (var a = 0; a < accounts.Count; a++)
                if (first < perAccount[a]) yield return new Batch(accounts[a], first, Math.Min(BatchSize, perAccount[a] - first), instance);
    }

    /// <summary>Sends the batches over the connections; answers how many alerts opened an incident.</summary>
    private async Task<int> SendAsync(LoopbackServer server, IEnumerable<Batch> batches, string what, CancellationToken cancel)
    {
        var work = batches.ToList();
        var total = work.Sum(b => b.Count);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Connections }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        var clock = Stopwatch.StartNew();
        var next = -1;
        var sent = 0;
        var opened = 0;
        using var progress = new Timer(_ => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what}: {Volatile.Read(ref sent)} of {total} alerts sent, {clock.Elapsed.TotalSeconds:0} s, RSS {ProcStats.Rss(server.ProcessId) / 1048576.0:0} MB")),
            null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        await Task.WhenAll(Enumerable.Range(0, settings.Connections).Select(_ => Task.Run(async () =>
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            int index;
            while ((index = Interlocked.Increment(ref next)) < work.Count)
            {
                var batch = work[index];
                buffer.ResetWrittenCount();
                WriteBatch(batch, buffer);
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/alerts") { Content = new ReadOnlyMemoryContent(buffer.WrittenMemory) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", batch.Account.Key);
                using var response = await client.SendAsync(request, cancel);
                var body = await response.Content.ReadAsStringAsync(cancel);
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"ingest refused a batch: {(int)response.StatusCode} {body}");
                using var answer = JsonDocument.Parse(body);
                Interlocked.Add(ref opened, answer.RootElement.GetProperty("alerts").EnumerateArray().Count(a => a.GetProperty("openedIncident").GetBoolean()));
                Interlocked.Add(ref sent, batch.Count);
            }
        }, cancel)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what}: {total} alerts in {clock.Elapsed.TotalSeconds:0.0} s ({total / clock.Elapsed.TotalSeconds:0} alerts/s), {opened} opened an incident"));
        return opened;
    }

    private void WriteBatch(Batch batch, IBufferWriter<byte> output)
    {
        var endsAt = AlertStream.Timestamp(DateTimeOffset.UtcNow.AddHours(6));
        using var json = new Utf8JsonWriter(output);
        json.WriteStartArray();
        for (var i = batch.First; i < batch.First + batch.Count; i++)
        {
            var alert = new StreamAlert($"Memory{i:D6}", "warning", $"svc-{i % Services:D2}", $"host-{batch.Instance}");
            AlertStream.WriteAlert(json, alert, _startsAt, endsAt, "memory");
        }
        json.WriteEndArray();
    }

    /// <summary>The server's resident memory, and its managed heap after its last collection (from /metrics).</summary>
    private static async Task<Sample> SampleAsync(LoopbackServer server, HttpClient admin, string token, CancellationToken cancel)
    {
        var metrics = await ServerMetrics.ReadAsync(admin, token, cancel);
        return new Sample(ProcStats.Rss(server.ProcessId),
            metrics.TryGetValue(ServerMetrics.HeapAfterLastCollection, out var heap) ? (long)heap : null);
    }

    private static void Print(string when, Sample sample) =>
        Console.WriteLine($"{when}: RSS {sample.Rss / 1048576.0:0} MB, managed heap after the last collection "
            + (sample.ManagedHeap is { } heap ? $"{heap / 1048576.0:0} MB" : "not reported"));

    private static double Per(long? after, long? before, long count) =>
        after is { } a && before is { } b && count > 0 ? (a - b) / (double)count : double.NaN;

    private static void Row(string what, double rss, double heap) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-52} {rss / 1024,7:0.0} KB {heap / 1024,10:0.0} KB"));
}
