using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Bench;

/// <summary>Correlation settings of the benchmark account, in simulated time.</summary>
public sealed record BenchSettings(
    IReadOnlyList<string> GroupBy, TimeSpan Window, int FlapToggles, TimeSpan FlapWindow, TimeSpan FlapQuiet, double Speed, string SymptomSeverity, TimeSpan SymptomWait);

/// <summary>What the server answered for one event: its fingerprint, incident and outcome.</summary>
public sealed record Receipt(string Fingerprint, string? IncidentId, string Outcome);

/// <summary>
/// Replays a corpus through the real HTTP ingest of a running server: a fresh account whose configuration carries
/// the topology, the correlation settings and the maintenance window, then every event in time order with simulated
/// time compressed <see cref="BenchSettings.Speed"/> times (and every configured duration scaled the same way).
/// </summary>
public sealed class Replayer(HttpClient http, string adminToken, BenchSettings settings)
{
    public const int MaxBatch = 1000;

    public string AccountId { get; } = $"bench-{DateTimeOffset.UtcNow:yyyyMMddHHmmss}-{Random.Shared.Next(0x10000):x4}";
    private readonly string _key = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    /// <summary>A simulated duration as the server sees it: divided by the speed, to the millisecond.</summary>
    public string Real(TimeSpan simulated) => $"{Math.Max(1, (long)Math.Round(simulated.TotalMilliseconds / settings.Speed))}ms";

    public async Task<Receipt[]> RunAsync(Corpus corpus, CancellationToken cancel)
    {
        // The account's clock starts a few seconds from now, so the configuration is in place before the first event.
        var origin = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(3);
        await ConfigureAsync(corpus, origin, cancel);

        var events = corpus.Events;
        var receipts = new Receipt[events.Count];
        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        var lastReport = TimeSpan.Zero;
        var maxLag = TimeSpan.Zero;
        for (var next = 0; next < events.Count;)
        {
            var due = origin + Scale(events[next].At);
            if (due > DateTimeOffset.UtcNow) await Task.Delay(due - DateTimeOffset.UtcNow, cancel);
            // Everything due within the next 20 ms goes in one request, as Prometheus batches its sends.
            var now = DateTimeOffset.UtcNow;
            var batch = new List<int>();
            while (next < events.Count && batch.Count < MaxBatch && origin + Scale(events[next].At) <= now + TimeSpan.FromMilliseconds(20))
                batch.Add(next++);
            var lag = now - due;
            if (lag > maxLag) maxLag = lag;
            var answers = await SendAsync(batch.Select(i => events[i]).ToList(), origin, cancel);
            for (var i = 0; i < batch.Count; i++) receipts[batch[i]] = answers[i];

            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(5) || next == events.Count)
            {
                lastReport = clock.Elapsed;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  replay: {next,5}/{events.Count} events sent, simulated {events[next - 1].At:hh\\:mm\\:ss}, real {clock.Elapsed.TotalSeconds:0}s, lag {Math.Max(0, lag.TotalMilliseconds):0} ms"));
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  replay done in {(DateTimeOffset.UtcNow - startedAt).TotalSeconds:0.0}s; largest lag behind schedule {maxLag.TotalMilliseconds:0} ms ({maxLag.TotalSeconds * settings.Speed:0.#} simulated s)"));
        return receipts;
    }

    private TimeSpan Scale(TimeSpan simulated) => simulated / settings.Speed;

    private async Task ConfigureAsync(Corpus corpus, DateTimeOffset origin, CancellationToken cancel)
    {
        var config = new JsonObject
        {
            ["id"] = AccountId,
            ["name"] = $"Correlation benchmark, seed {corpus.Seed}",
            ["services"] = new JsonArray(corpus.Services.Select(s => (JsonNode)new JsonObject
            {
                ["id"] = s.Id,
                ["nodes"] = new JsonArray(s.Nodes.Select(n => (JsonNode)n!).ToArray()),
                ["dependsOn"] = new JsonArray(s.DependsOn.Select(d => (JsonNode)d!).ToArray()),
            }).ToArray()),
            ["correlation"] = new JsonObject
            {
                ["groupBy"] = new JsonArray(settings.GroupBy.Select(g => (JsonNode)g!).ToArray()),
                ["window"] = settings.Window > TimeSpan.Zero ? Real(settings.Window) : null,
                ["symptomSeverity"] = settings.SymptomSeverity,
                ["symptomWait"] = settings.SymptomWait > TimeSpan.Zero ? Real(settings.SymptomWait) : null,
                ["flapping"] = settings.FlapToggles <= 0 ? null : new JsonObject
                {
                    ["toggles"] = settings.FlapToggles,
                    ["window"] = Real(settings.FlapWindow),
                    ["quiet"] = Real(settings.FlapQuiet),
                },
            },
            ["maintenance"] = new JsonArray(new JsonObject
            {
                ["name"] = corpus.Maintenance.Name,
                ["matchers"] = new JsonArray((JsonNode)$"service=\"{corpus.Maintenance.Service}\""),
                ["start"] = (origin + Scale(corpus.Maintenance.Start)).ToString("O", CultureInfo.InvariantCulture),
                ["end"] = (origin + Scale(corpus.Maintenance.End)).ToString("O", CultureInfo.InvariantCulture),
            }),
            ["integrationKeys"] = new JsonArray(new JsonObject { ["name"] = "bench", ["key"] = _key }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/accounts/{AccountId}/config") { Content = JsonContent.Create(config) };
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await http.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT config: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}");
        Console.WriteLine($"  account {AccountId}: correlation {config["correlation"]!.ToJsonString()}");
    }

    /// <summary>
    /// One canonical-JSON request. Like Prometheus, a firing alert carries startsAt and an endsAt four re-send
    /// intervals ahead (so it expires if the sender goes away); a resolved one ends now.
    /// </summary>
    private async Task<Receipt[]> SendAsync(List<AlertEvent> batch, DateTimeOffset origin, CancellationToken cancel)
    {
        var now = DateTimeOffset.UtcNow;
        var alerts = new JsonArray(batch.Select(e => (JsonNode)new JsonObject
        {
            ["labels"] = new JsonObject { ["alertname"] = e.AlertName, ["node"] = e.Node, ["severity"] = e.Severity },
            ["service"] = e.Service,
            ["severity"] = e.Severity,
            ["status"] = e.Firing ? "firing" : "resolved",
            ["startsAt"] = (origin + Scale(e.EpisodeStart)).ToString("O", CultureInfo.InvariantCulture),
            ["endsAt"] = e.Firing ? (now + Scale(4 * CorpusGenerator.Resend)).ToString("O", CultureInfo.InvariantCulture) : null,
        }).ToArray());
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/alerts") { Content = JsonContent.Create(new JsonObject { ["alerts"] = alerts }) };
        request.Headers.Authorization = new("Bearer", _key);
        using var response = await http.SendAsync(request, cancel);
        var body = await response.Content.ReadAsStringAsync(cancel);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST alerts: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("alerts").EnumerateArray().Select(a => new Receipt(
            a.GetProperty("fingerprint").GetString()!,
            a.TryGetProperty("incidentId", out var incident) && incident.ValueKind == JsonValueKind.String ? incident.GetString() : null,
            a.GetProperty("outcome").GetString()!)).ToArray();
    }
}
