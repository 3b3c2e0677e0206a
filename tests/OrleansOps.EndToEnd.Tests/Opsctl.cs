using System.Diagnostics;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>The built opsctl, run as an operator runs it: its exit code, what it wrote to stdout and to stderr.</summary>
public static class Opsctl
{
    public static Task<(int ExitCode, string Out, string Err)> RunAsync(ServerProcess server, params string[] args) =>
        RunAsync(server.GatewayPort, args);

    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(int gatewayPort, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ServerProcess.BuiltDll("OrleansOps.Cli", "opsctl.dll"));
        start.ArgumentList.Add("--gateway-port");
        start.ArgumentList.Add(gatewayPort.ToString());
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
