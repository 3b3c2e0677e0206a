using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansOps.Bench;

/// <summary>
/// Many open incidents, each with an escalation level pending, on a running server: opens them through the HTTP
/// ingest, waits for every level to page a Slack-shaped webhook served here on loopback, and reports how late each
/// step fired (the chronicle's escalation.step entry against the incident's opening plus the level's delay) and
/// arrived, and the server's memory per incident.
/// </summary>
public sealed partial class EscalationBench(HttpClient http, string adminToken, int incidents, TimeSpan delay, int? serverPid)
{
    private const int BatchSize = 100;
    private const int Senders = 4;

    private readonly string _accountId = $"bench-esc-{DateTimeOffset.UtcNow:yyyyMMddHHmmss}-{Random.Shared.Next(0x10000):x4}";
    private readonly string _key = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
    private readonly ConcurrentDictionary<string, DateTimeOffset> _arrivals = new(StringComparer.Ordinal);

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        using var webhook = LoopbackWebhook.Start(delivery =>
        {
            if (IncidentId().Match(delivery.Text) is { Success: true } match) _arrivals.TryAdd(match.Value, delivery.At);
        });
        var hookUrl = webhook.Url;
        await ConfigureAsync(hookUrl, cancel);
        var before = Memory();
        Console.WriteLine($"account {_accountId}: one escalation level {delay.TotalSeconds:0} s after opening, paging a webhook at {hookUrl}");

        var opening = Stopwatch.StartNew();
        await OpenIncidentsAsync(cancel);
        Console.WriteLine($"opened {incidents} incidents in {opening.Elapsed.TotalSeconds:0.0} s ({incidents / opening.Elapsed.TotalSeconds:0} per s)");
        var open = Memory();

        var waiting = Stopwatch.StartNew();
        var deadline = delay + TimeSpan.FromMinutes(3);
        while (_arrivals.Count < incidents)
        {
            if (waiting.Elapsed > deadline)
            {
                Console.Error.WriteLine($"only {_arrivals.Count} of {incidents} pages arrived within {deadline.TotalSeconds:0} s");
                return 1;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancel);
            if ((int)waiting.Elapsed.TotalSeconds % 10 == 0) Console.WriteLine($"  {_arrivals.Count} of {incidents} pages arrived");
        }
        var paged = Memory();

        Console.WriteLine("reading every incident's chronicle…");
        var (stepLateness, arrivalLateness) = await LatenessAsync(cancel);
        Console.WriteLine();
        Console.WriteLine($"{"",-34} {"p50",9} {"p99",9} {"max",9}");
        Print("step fired after its due time", stepLateness);
        Print("page arrived after its due time", arrivalLateness);
        if (before is { } b && open is { } o && paged is { } p)
        {
            Console.WriteLine($"server memory: RSS {Mb(b.Rss)} before, {Mb(o.Rss)} with {incidents} incidents open and pending, {Mb(p.Rss)} after paging; peak {Mb(p.Peak)}");
            Console.WriteLine($"  {(o.Rss - b.Rss) / (double)incidents / 1024:0.0} KB per open incident with a pending escalation");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"incidents={incidents} p50_step_lateness_ms={Percentile(stepLateness, 0.5):0} p99_step_lateness_ms={Percentile(stepLateness, 0.99):0} p99_arrival_lateness_ms={Percentile(arrivalLateness, 0.99):0}"));
        return 0;
    }

    private async Task ConfigureAsync(string hookUrl, CancellationToken cancel)
    {
        var config = new JsonObject
        {
            ["id"] = _accountId,
            ["name"] = "Escalation benchmark",
            ["services"] = new JsonArray(new JsonObject { ["id"] = "api", ["escalationPolicy"] = "bench" }),
            ["channels"] = new JsonArray(new JsonObject { ["id"] = "hook", ["kind"] = "slack", ["url"] = hookUrl }),
            ["escalationPolicies"] = new JsonArray(new JsonObject
            {
                ["id"] = "bench",
                ["levels"] = new JsonArray(new JsonObject { ["delay"] = $"{(int)delay.TotalSeconds}s", ["targets"] = new JsonArray("channel:hook") }),
            }),
            ["integrationKeys"] = new JsonArray(new JsonObject { ["name"] = "bench", ["key"] = _key, ["defaultService"] = "api" }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/accounts/{_accountId}/config") { Content = JsonContent.Create(config) };
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await http.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"configuring the account failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
    }

    private async Task OpenIncidentsAsync(CancellationToken cancel)
    {
        var next = -1;
        var lastReport = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
        {
            int first;
            while ((first = Interlocked.Add(ref next, BatchSize) - BatchSize + 1) < incidents)
            {
                var alerts = new JsonArray(Enumerable.Range(first, Math.Min(BatchSize, incidents - first))
                    .Select(i => (JsonNode)new JsonObject
                    {
                        ["labels"] = new JsonObject { ["alertname"] = $"Bench{i:D6}", ["severity"] = "critical" },
                        ["status"] = "firing",
                    }).ToArray());
                using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/alerts") { Content = JsonContent.Create(new JsonObject { ["alerts"] = alerts }) };
                request.Headers.Authorization = new("Bearer", _key);
                using var response = await http.SendAsync(request, cancel);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"ingest failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
                if (lastReport.Elapsed > TimeSpan.FromSeconds(5))
                {
                    lastReport.Restart();
                    Console.WriteLine($"  {Math.Min(first + BatchSize, incidents)} of {incidents} incidents opened");
                }
            }
        }, cancel)));
    }

    /// <summary>For each incident: when its level was due, when the step fired (chronicle), when its page arrived here.</summary>
    private async Task<(List<double> Step, List<double> Arrival)> LatenessAsync(CancellationToken cancel)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await GetAsync($"api/v1/accounts/{_accountId}/incidents?limit=500" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"), cancel);
            ids.AddRange(page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
            cursor = page["next"]?.GetValue<string>();
        } while (cursor is not null);

        var step = new ConcurrentBag<double>();
        var arrival = new ConcurrentBag<double>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancel }, async (id, ct) =>
        {
            // Opening and the first step are among an incident's first entries: one page holds them.
            var chronicle = (await GetAsync($"api/v1/incidents/{id}/chronicle?limit=500", ct))["items"]!.AsArray();
            var opened = chronicle.First(e => e!["kind"]!.GetValue<string>() == "incident.opened")!["at"]!.GetValue<DateTimeOffset>();
            var fired = chronicle.First(e => e!["kind"]!.GetValue<string>() == "escalation.step")!["at"]!.GetValue<DateTimeOffset>();
            var due = opened + delay;
            step.Add((fired - due).TotalMilliseconds);
            if (_arrivals.TryGetValue(id, out var arrived)) arrival.Add((arrived - due).TotalMilliseconds);
        });
        return (step.ToList(), arrival.ToList());
    }

    private async Task<JsonNode> GetAsync(string path, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await http.SendAsync(request, cancel);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonNode>(cancel))!;
    }

    private sealed record MemorySample(long Rss, long Peak);

    /// <summary>The server's resident and peak memory, when it runs on this machine and its pid was given.</summary>
    private MemorySample? Memory()
    {
        if (serverPid is not { } pid || !File.Exists($"/proc/{pid}/status")) return null;
        var lines = File.ReadAllLines($"/proc/{pid}/status");
        long Kb(string name) => long.Parse(lines.First(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return new MemorySample(Kb("VmRSS"), Kb("VmHWM"));
    }

    private static string Mb(long bytes) => $"{bytes / 1024.0 / 1024:0} MB";

    private static void Print(string what, List<double> values) =>
        Console.WriteLine($"{what,-34} {Percentile(values, 0.5),6:0} ms {Percentile(values, 0.99),6:0} ms {values.DefaultIfEmpty().Max(),6:0} ms");

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    [GeneratedRegex("inc-[a-z2-7]{16}")]
    private static partial Regex IncidentId();
}
