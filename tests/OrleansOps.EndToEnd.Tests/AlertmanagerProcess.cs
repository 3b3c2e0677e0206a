using System.Text;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>A real Prometheus Alertmanager on loopback, configured by the test, removed afterwards.</summary>
public sealed class AlertmanagerProcess(LoopbackProgram program) : IAsyncDisposable
{
    public static string? Binary { get; } = new[] { "/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager" }.FirstOrDefault(File.Exists);

    public HttpClient Client => program.Client;

    public string Output => program.Output;

    public static async Task<AlertmanagerProcess> StartAsync(string configYaml)
    {
        var folder = ServerProcess.NewTempFolder("orleansops-e2e-alertmanager");
        var config = Path.Combine(folder, "alertmanager.yml");
        await File.WriteAllTextAsync(config, configYaml);
        return new AlertmanagerProcess(await LoopbackProgram.StartAsync("Alertmanager",
            Binary ?? throw new InvalidOperationException("prometheus-alertmanager is not installed"), folder, port =>
            [
                $"--config.file={config}",
                $"--storage.path={Path.Combine(folder, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ]));
    }

    public async Task PostAlertsAsync(JsonArray alerts)
    {
        using var response = await Client.PostAsync("/api/v2/alerts", new StringContent(alerts.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"Alertmanager refused the alerts: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Parsed with case-sensitive names: label names differ only by case, as in Prometheus.</summary>
    public async Task<JsonArray> GetAlertsAsync() => JsonNode.Parse(await Client.GetStringAsync("/api/v2/alerts"))!.AsArray();

    public ValueTask DisposeAsync() => program.DisposeAsync();
}
