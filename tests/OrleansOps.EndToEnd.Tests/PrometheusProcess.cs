using System.Globalization;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>A real Prometheus server on loopback that scrapes one target every second, removed afterwards.</summary>
public sealed class PrometheusProcess(LoopbackProgram program) : IAsyncDisposable
{
    public static string? Binary { get; } = new[] { "/usr/bin/prometheus", "/usr/local/bin/prometheus" }.FirstOrDefault(File.Exists);

    public string Output => program.Output;

    /// <summary>Scrapes <paramref name="target"/> (host:port) at <c>/metrics</c> with <paramref name="bearer"/>.</summary>
    public static async Task<PrometheusProcess> StartAsync(string target, string bearer)
    {
        var folder = ServerProcess.NewTempFolder("orleansops-e2e-prometheus");
        var tokenFile = Path.Combine(folder, "token");
        await File.WriteAllTextAsync(tokenFile, bearer);
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $$"""
            global: {scrape_interval: 1s, scrape_timeout: 1s}
            scrape_configs:
              - job_name: orleansops
                metrics_path: /metrics
                authorization: {credentials_file: {{tokenFile}}}
                static_configs: [{targets: ["{{target}}"]}]
            """);
        return new PrometheusProcess(await LoopbackProgram.StartAsync("Prometheus",
            Binary ?? throw new InvalidOperationException("prometheus is not installed"), folder, port =>
            [
                $"--config.file={config}",
                $"--storage.tsdb.path={Path.Combine(folder, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--log.level=debug",
            ]));
    }

    /// <summary>The value of an instant query that selects one series, or null when it selects none.</summary>
    public async Task<double?> QueryAsync(string promql)
    {
        var answer = JsonNode.Parse(await program.Client.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql)))!;
        Assert.Equal("success", answer["status"]!.GetValue<string>());
        var result = answer["data"]!["result"]!.AsArray();
        return result.Count == 0 ? null : double.Parse(result.Single()!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
    }

    /// <summary>Prometheus' own view of the target: "up", "down" or "unknown", and the last scrape error.</summary>
    public async Task<string> TargetHealthAsync()
    {
        var answer = JsonNode.Parse(await program.Client.GetStringAsync("/api/v1/targets"))!;
        var target = answer["data"]!["activeTargets"]!.AsArray().SingleOrDefault();
        return target is null ? "no target" : $"{target["health"]} {target["lastError"]}";
    }

    public ValueTask DisposeAsync() => program.DisposeAsync();
}
