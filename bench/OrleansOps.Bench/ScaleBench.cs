using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Bench;

public sealed record ScaleSettings(IReadOnlyList<int> Levels, int Probes, bool Build);

/// <summary>
/// What a new alert costs the correlator as an account's open incidents grow. For each level an account of its own
/// (20 services in a dependency chain, a 10-minute window, failures at error, the same-service relation on) first gets
/// that many open incidents, each a warning of its own name on a node of its own, all within the window, so every
/// relation a new alert is weighed against has them to look through. Then probes: a failure of a new name on a
/// service, one request at a time (they add a few hundred incidents to each level, which the table reports). The
/// server's CPU per probe at each level is the figure; the ratio of the largest level's to the smallest's is the verdict
/// (1.0: the cost does not grow with the open incidents).
/// </summary>
public sealed class ScaleBench(ScaleSettings settings)
{
    private const int Services = 20;
    private const int BatchSize = 100;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        var dll = await OrleansOpsServer.LocateAsync(settings.Build, cancel);
        var (folder, removal) = Cleanup.TempFolder("orleansops-bench-scale");
        using (removal)
        {
            var token = RandomNumberGenerator.GetHexString(32, lowercase: true);
            using var server = await OrleansOpsServer.StartAsync(dll, "server", folder, ServerSettings.Embedded(Path.Combine(folder, "data"), token), cancel);
            using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
            Console.WriteLine($"OrleansOps pid {server.ProcessId} at {server.BaseAddress}; levels {string.Join(", ", settings.Levels)} open incidents, {settings.Probes} probes each");
            // The server's code warms up (JIT, tiering) on an account of its own first, so the first level is not charged for it.
            var warmUp = await BenchAccount.CreateAsync(client, token, "bench-scale-warmup", cancel, Configure);
            for (var p = 0; p < 1000; p++) await ProbeAsync(client, warmUp, 0, p, cancel);
            var rows = new List<(int Level, int Open, double CpuMicros, double P50Ms, double P99Ms)>();
            foreach (var level in settings.Levels)
            {
                var account = await BenchAccount.CreateAsync(client, token, $"bench-scale-{level}", cancel, Configure);
                var clock = Stopwatch.StartNew();
                for (var first = 0; first < level; first += BatchSize)
                    await SendAsync(client, account, Enumerable.Range(first, Math.Min(BatchSize, level - first)).Select(i => Open(i)).ToList(), cancel);
                var open = await OpenIncidentsAsync(client, token, account, cancel);
                Console.WriteLine($"  level {level}: {open} open incidents in {clock.Elapsed.TotalSeconds:0.0} s; settling {Settle.TotalSeconds:0} s …");
                await Task.Delay(Settle, cancel);

                // Warm-up probes, then the measured ones.
                for (var p = 0; p < 50; p++) await ProbeAsync(client, account, level, -1 - p, cancel);
                var cpuBefore = ProcStats.CpuSeconds(server.ProcessId);
                var latencies = new List<double>(settings.Probes);
                for (var p = 0; p < settings.Probes; p++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await ProbeAsync(client, account, level, p, cancel);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                var cpu = (ProcStats.CpuSeconds(server.ProcessId) - cpuBefore) / settings.Probes * 1e6;
                latencies.Sort();
                var after = await OpenIncidentsAsync(client, token, account, cancel);
                rows.Add((level, after, cpu, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)]));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  level {level}: {cpu:0} µs of server CPU per new alert, p50 {rows[^1].P50Ms:0.00} ms, p99 {rows[^1].P99Ms:0.00} ms; {after} open after"));
            }
            Console.WriteLine();
            Console.WriteLine($"{"open incidents",15} {"CPU per alert",14} {"× smallest",11} {"p50",9} {"p99",9}");
            foreach (var row in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{row.Open,15} {row.CpuMicros,11:0} µs {row.CpuMicros / rows[0].CpuMicros,11:0.00} {row.P50Ms,6:0.00} ms {row.P99Ms,6:0.00} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"levels={string.Join(",", rows.Select(r => r.Open))} cpu_us={string.Join(",", rows.Select(r => r.CpuMicros.ToString("0", CultureInfo.InvariantCulture)))} ratio_largest_to_smallest={rows[^1].CpuMicros / rows[0].CpuMicros:0.00}"));
            return 0;
        }
    }

    private static void Configure(JsonObject config)
    {
        config["services"] = new JsonArray(Enumerable.Range(0, Services).Select(s => (JsonNode)new JsonObject
        {
            ["id"] = Service(s),
            ["dependsOn"] = s == 0 ? new JsonArray() : new JsonArray((JsonNode)Service(s - 1)),
        }).ToArray());
        config["correlation"] = new JsonObject
        {
            ["groupBy"] = new JsonArray("alertname", "node"),
            ["window"] = "10m",
            ["symptomSeverity"] = "error",
            ["sameService"] = true,
        };
    }

    private static string Service(int s) => $"svc-{s:D2}";

    /// <summary>One of the level's open incidents: a warning of its own name on a node of its own (nothing relates it to another).</summary>
    private static (string Name, string Service, string Node, string Severity, bool Firing) Open(int i) =>
        ($"Open{i:D6}", Service(i % Services), $"open-{i:D6}", "warning", true);

    /// <summary>A failure of a new name on a service: it is weighed against every relation.</summary>
    private static async Task ProbeAsync(HttpClient client, BenchAccount account, int level, int p, CancellationToken cancel)
    {
        var name = $"Probe{level}x{p}";
        var service = Service(Math.Abs(p) % Services);
        var node = $"probe-{Math.Abs(p) % 7}";
        await SendAsync(client, account, [(name, service, node, "error", true)], cancel);
    }

    private static async Task SendAsync(HttpClient client, BenchAccount account, IReadOnlyList<(string Name, string Service, string Node, string Severity, bool Firing)> alerts, CancellationToken cancel)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            var now = DateTimeOffset.UtcNow;
            foreach (var alert in alerts)
            {
                json.WriteStartObject();
                json.WriteStartObject("labels");
                json.WriteString("alertname", alert.Name);
                json.WriteString("service", alert.Service);
                json.WriteString("node", alert.Node);
                json.WriteString("severity", alert.Severity);
                json.WriteEndObject();
                json.WriteString("startsAt", AlertStream.Timestamp(now.AddSeconds(-1)));
                json.WriteString("endsAt", AlertStream.Timestamp(alert.Firing ? now.AddHours(1) : now));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/alerts") { Content = new ReadOnlyMemoryContent(buffer.WrittenMemory) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Key);
        using var response = await client.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"ingest refused a batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
    }

    private static async Task<int> OpenIncidentsAsync(HttpClient client, string token, BenchAccount account, CancellationToken cancel)
    {
        var open = 0;
        for (string? cursor = null; ;)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get,
                $"api/v1/accounts/{account.Id}/incidents?status=open&limit=500{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request, cancel);
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel));
            open += page.RootElement.GetProperty("items").GetArrayLength();
            if (page.RootElement.GetProperty("next") is not { ValueKind: JsonValueKind.String } next) return open;
            cursor = next.GetString();
        }
    }
}
