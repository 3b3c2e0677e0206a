using System.Diagnostics;
using System.Text;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// A program from a Debian package (Alertmanager, Prometheus) run by a test on a free loopback port in a folder of its
/// own, ready once its <c>/-/ready</c> answers, killed and removed afterwards.
/// </summary>
public sealed class LoopbackProgram : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private LoopbackProgram(Process process, string folder, int port)
    {
        _process = process;
        Folder = folder;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Folder { get; }
    public HttpClient Client { get; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts <paramref name="binary"/> with the arguments <paramref name="arguments"/> makes of its folder and port.</summary>
    public static async Task<LoopbackProgram> StartAsync(string name, string binary, string folder, Func<int, IEnumerable<string>> arguments)
    {
        var port = FreePorts.Next();
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments(port)) start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        var program = new LoopbackProgram(process, folder, port);
        process.OutputDataReceived += (_, e) => program.Append(e.Data);
        process.ErrorDataReceived += (_, e) => program.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{name} exited:\n{program.Output}");
            try
            {
                if ((await program.Client.GetAsync("/-/ready")).IsSuccessStatusCode) return program;
            }
            catch (HttpRequestException) { /* starting */ }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{name} did not become ready:\n{program.Output}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Client.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { /* best effort */ }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }
}
