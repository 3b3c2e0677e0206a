using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>A real Prometheus Alertmanager on loopback, configured by the test, removed afterwards.</summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _output = new();

    private AlertmanagerProcess(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public static string? Binary { get; } = new[] { "/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager" }.FirstOrDefault(File.Exists);

    public HttpClient Client { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static async Task<AlertmanagerProcess> StartAsync(string configYaml)
    {
        var folder = ServerProcess.NewTempFolder("orleansops-e2e-alertmanager");
        var config = Path.Combine(folder, "alertmanager.yml");
        await File.WriteAllTextAsync(config, configYaml);
        var port = ServerProcess.FreePort();
        var start = new ProcessStartInfo(Binary ?? throw new InvalidOperationException("prometheus-alertmanager is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            $"--config.file={config}",
            $"--storage.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        }) start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        var alertmanager = new AlertmanagerProcess(process, folder, port);
        process.OutputDataReceived += (_, e) => alertmanager.Append(e.Data);
        process.ErrorDataReceived += (_, e) => alertmanager.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"Alertmanager exited:\n{alertmanager.Output}");
            try
            {
                if ((await alertmanager.Client.GetAsync("/-/ready")).IsSuccessStatusCode) return alertmanager;
            }
            catch (HttpRequestException) { /* starting */ }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Alertmanager did not become ready:\n{alertmanager.Output}");
            await Task.Delay(200);
        }
    }

    public async Task PostAlertsAsync(JsonArray alerts)
    {
        using var response = await Client.PostAsync("/api/v2/alerts", new StringContent(alerts.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"Alertmanager refused the alerts: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Parsed with case-sensitive names: label names differ only by case, as in Prometheus.</summary>
    public async Task<JsonArray> GetAlertsAsync() => JsonNode.Parse(await Client.GetStringAsync("/api/v2/alerts"))!.AsArray();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Client.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { /* best effort */ }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
