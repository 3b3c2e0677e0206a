using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>The real server, started as its own process on loopback ports, as an operator would run it.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminToken = "e2e-admin-token-0123456789";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly HashSet<string> _secrets = new(StringComparer.Ordinal) { AdminToken };

    private ServerProcess(Process process, string dataPath, int httpPort, int siloPort, int gatewayPort)
    {
        _process = process;
        DataPath = dataPath;
        HttpPort = httpPort;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        BaseAddress = new Uri($"http://127.0.0.1:{httpPort}");
        Admin = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        Anonymous = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string DataPath { get; }
    public int HttpPort { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public Uri BaseAddress { get; }
    public HttpClient Admin { get; }
    public HttpClient Anonymous { get; }
    public int ProcessId => _process.Id;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts the server on a data folder (a new one unless given) and waits until /healthz answers.</summary>
    public static async Task<ServerProcess> StartAsync(string? dataPath = null, string? configPath = null, int? httpPort = null, int? siloPort = null, int? gatewayPort = null, IEnumerable<string>? settings = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        dataPath ??= NewTempFolder("orleansops-e2e-data");
        var http = httpPort ?? FreePorts.Next();
        var silo = siloPort ?? FreePorts.Next();
        var gateway = gatewayPort ?? FreePorts.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServerDll);
        foreach (var argument in new[]
        {
            "--urls", $"http://127.0.0.1:{http}",
            $"--OrleansOps:DataPath={dataPath}",
            $"--OrleansOps:AdminToken={AdminToken}",
            $"--OrleansOps:SiloPort={silo}",
            $"--OrleansOps:GatewayPort={gateway}",
        }) start.ArgumentList.Add(argument);
        if (configPath is not null) start.ArgumentList.Add($"--OrleansOps:ConfigPath={configPath}");
        foreach (var setting in settings ?? []) start.ArgumentList.Add(setting);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the server");
        var server = new ServerProcess(process, dataPath, http, silo, gateway);
        server.TreatAsSecret([.. (settings ?? []).Select(SecretOf).OfType<string>()]);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilHealthyAsync(TimeSpan.FromSeconds(90));
        return server;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the process to end by itself (as a crash test's server does).</summary>
    public async Task<bool> ExitedWithinAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly what a crash looks like.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// Every server a test starts is checked when it stops: no secret it was given (the admin token, a setting named
    /// like a password, token, secret or key, or one a test names here) may appear in anything it logged.
    /// </summary>
    public void TreatAsSecret(params string[] values)
    {
        lock (_secrets)
            foreach (var value in values.Where(v => v.Length >= MinSecretLength)) _secrets.Add(value);
    }

    /// <summary>How many of the secrets the server was given appear in its output (which ones is not said: that would print them).</summary>
    public int LeakedSecrets()
    {
        var output = Output;
        lock (_secrets) return _secrets.Count(secret => output.Contains(secret, StringComparison.Ordinal));
    }

    private const int MinSecretLength = 8;

    /// <summary>The value of a <c>--Key=value</c> setting whose key names a secret (not a reference to one), else null.</summary>
    private static string? SecretOf(string setting)
    {
        var separator = setting.IndexOf('=');
        if (!setting.StartsWith("--", StringComparison.Ordinal) || separator < 0) return null;
        var key = setting[2..separator];
        var named = System.Text.RegularExpressions.Regex.IsMatch(key, "(password|token|secret|apikey|key)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        return named ? setting[(separator + 1)..] : null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Admin.Dispose();
        Anonymous.Dispose();
        _process.Dispose();
        var leaked = LeakedSecrets();
        if (leaked > 0) throw new InvalidOperationException($"The server logged {leaked} of the secrets it was given; search its output for them.");
    }

    public static string NewTempFolder(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await Anonymous.GetAsync("/healthz");
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // still starting
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"The server did not become healthy within {timeout}:\n{Output}");
    }

    private static string ServerDll => BuiltDll("OrleansOps.Server", "OrleansOps.Server.dll");

    /// <summary>A program of this repository, from its own build output in the same configuration as the tests.</summary>
    public static string BuiltDll(string project, string dll)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path} is missing.");
    }

    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OrleansOps.sln"))) directory = directory.Parent;
            return directory?.FullName ?? throw new DirectoryNotFoundException("OrleansOps.sln not found above the test folder.");
        }
    }
}
