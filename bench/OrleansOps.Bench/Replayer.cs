using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Bench;

/// <summary>Correlation settings of the benchmark account, in simulated time.</summary>
public sealed record BenchSettings(
    IReadOnlyList<string> GroupBy, TimeSpan Window, int FlapToggles, TimeSpan FlapWindow, TimeSpan FlapQuiet, double Speed, string SymptomSeverity, TimeSpan SymptomWait)
{
    /// <summary>
    /// The k8s corpus only: whether the account declares <see cref="ServiceLabels"/>, <see cref="NodeLabels"/> and the
    /// zones (off: a server that does not know these keys refuses the whole configuration).
    /// </summary>
    public bool K8sSettings { get; init; } = true;
    /// <summary>
    /// The k8s corpus only: <c>alertmanager</c> sends to <c>POST /api/v2/alerts</c> as Prometheus does, <c>api</c> to
    /// <c>POST /api/v1/alerts</c>; labels only either way. The dag corpus always uses <c>api</c> with its service field.
    /// </summary>
    public string Ingest { get; init; } = "alertmanager";

    /// <summary>Top-level <c>serviceLabels</c>: the labels that name an alert's service, first declared one wins.</summary>
    public static readonly IReadOnlyList<string> ServiceLabels = ["service", "app_kubernetes_io_name", "app", "job"];
    /// <summary><c>correlation.nodeLabels</c>: the labels that name an alert's node, first present one wins (an instance's :port stripped).</summary>
    public static readonly IReadOnlyList<string> NodeLabels = ["node", "kubernetes_node"];
}

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
            var answers = await SendAsync(batch.Select(i => events[i]).ToList(), origin, corpus, cancel);
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
                ["sameService"] = true,
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
                ["matchers"] = corpus.Maintenance.Matchers is { } matchers
                    ? new JsonArray(matchers.Select(m => (JsonNode)m!).ToArray())
                    : new JsonArray((JsonNode)$"service=\"{corpus.Maintenance.Service}\""),
                ["start"] = (origin + Scale(corpus.Maintenance.Start)).ToString("O", CultureInfo.InvariantCulture),
                ["end"] = (origin + Scale(corpus.Maintenance.End)).ToString("O", CultureInfo.InvariantCulture),
            }),
            ["integrationKeys"] = new JsonArray(new JsonObject { ["name"] = "bench", ["key"] = _key }),
        };
        // The k8s corpus names services and nodes only in its labels: the account says which labels name them (settings
        // the server may not know yet, hence --k8s-settings off), and which nodes make up each zone.
        if (corpus.Shape == "k8s" && settings.K8sSettings)
        {
            config["serviceLabels"] = new JsonArray(BenchSettings.ServiceLabels.Select(l => (JsonNode)l!).ToArray());
            config["correlation"]!["nodeLabels"] = new JsonArray(BenchSettings.NodeLabels.Select(l => (JsonNode)l!).ToArray());
            config["zones"] = new JsonObject(corpus.Zones.Select(z =>
                KeyValuePair.Create(z.Key, (JsonNode?)new JsonArray(z.Value.Select(n => (JsonNode)n!).ToArray()))));
        }
        using var request = new HttpRequestMessage(HttpMethod.Put, $"api/v1/accounts/{AccountId}/config") { Content = JsonContent.Create(config) };
        request.Headers.Authorization = new("Bearer", adminToken);
        using var response = await http.SendAsync(request, cancel);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT config: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancel)}"
                + (corpus.Shape == "k8s" && settings.K8sSettings ? " (a server that does not know serviceLabels, correlation.nodeLabels or zones refuses them: try --k8s-settings off)" : ""));
        Console.WriteLine($"  account {AccountId}: correlation {config["correlation"]!.ToJsonString()}");
        if (corpus.Shape == "k8s")
            Console.WriteLine(settings.K8sSettings
                ? $"  serviceLabels {config["serviceLabels"]!.ToJsonString()}, zones {config["zones"]!.ToJsonString()}; alerts to {IngestPath(corpus)}, labels only"
                : $"  k8s settings off (no serviceLabels, nodeLabels or zones); alerts to {IngestPath(corpus)}, labels only");
    }

    private string IngestPath(Corpus corpus) => corpus.Shape == "k8s" && settings.Ingest == "alertmanager" ? "api/v2/alerts" : "api/v1/alerts";

    /// <summary>
    /// One request. Like Prometheus, a firing alert carries startsAt and an endsAt four re-send intervals ahead (so it
    /// expires if the sender goes away); a resolved one ends now. The dag corpus goes to the canonical JSON endpoint with
    /// its service and severity as fields; the k8s corpus sends its labels and nothing else, to Alertmanager's
    /// <c>POST /api/v2/alerts</c> (a bare array, resolved by an endsAt that has passed) or to the canonical endpoint.
    /// </summary>
    private async Task<Receipt[]> SendAsync(List<AlertEvent> batch, DateTimeOffset origin, Corpus corpus, CancellationToken cancel)
    {
        var now = DateTimeOffset.UtcNow;
        var endsAt = (now + Scale(4 * corpus.Resend)).ToString("O", CultureInfo.InvariantCulture);
        var path = IngestPath(corpus);
        JsonNode body;
        if (corpus.Shape != "k8s")
            body = new JsonObject
            {
                ["alerts"] = new JsonArray(batch.Select(e => (JsonNode)new JsonObject
                {
                    ["labels"] = new JsonObject { ["alertname"] = e.AlertName, ["node"] = e.Node, ["severity"] = e.Severity },
                    ["service"] = e.Service,
                    ["severity"] = e.Severity,
                    ["status"] = e.Firing ? "firing" : "resolved",
                    ["startsAt"] = (origin + Scale(e.EpisodeStart)).ToString("O", CultureInfo.InvariantCulture),
                    ["endsAt"] = e.Firing ? endsAt : null,
                }).ToArray()),
            };
        else
        {
            var alerts = new JsonArray(batch.Select(e =>
            {
                // A resolve ends now, and never before its start: an episode shorter than the replay's timer tick is sent
                // a few milliseconds before its scheduled start.
                var startsAt = origin + Scale(e.EpisodeStart);
                var alert = new JsonObject
                {
                    ["labels"] = new JsonObject(e.Labels!.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
                    ["startsAt"] = startsAt.ToString("O", CultureInfo.InvariantCulture),
                    ["endsAt"] = e.Firing ? endsAt : (now > startsAt ? now : startsAt).ToString("O", CultureInfo.InvariantCulture),
                };
                if (path == "api/v1/alerts") alert["status"] = e.Firing ? "firing" : "resolved";
                return (JsonNode)alert;
            }).ToArray());
            body = path == "api/v1/alerts" ? new JsonObject { ["alerts"] = alerts } : alerts;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new("Bearer", _key);
        using var response = await http.SendAsync(request, cancel);
        var answer = await response.Content.ReadAsStringAsync(cancel);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {answer}");
        using var json = JsonDocument.Parse(answer);
        return json.RootElement.GetProperty("alerts").EnumerateArray().Select(a => new Receipt(
            a.GetProperty("fingerprint").GetString()!,
            a.TryGetProperty("incidentId", out var incident) && incident.ValueKind == JsonValueKind.String ? incident.GetString() : null,
            a.GetProperty("outcome").GetString()!)).ToArray();
    }
}
