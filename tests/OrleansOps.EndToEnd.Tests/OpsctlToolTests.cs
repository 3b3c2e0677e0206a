using System.Diagnostics;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>opsctl installed as the README installs it, as a .NET tool, and run from anywhere against the server.</summary>
[Collection(SharedServer.Name)]
public sealed class OpsctlToolTests(ServerFixture fixture)
{
    [Fact]
    public async Task Packed_and_installed_as_a_dotnet_tool_opsctl_runs_from_any_folder()
    {
        var packages = ServerProcess.NewTempFolder("opsctl-packages");
        var tools = ServerProcess.NewTempFolder("opsctl-tools");
        try
        {
            var project = Path.Combine(ServerProcess.RepositoryRoot, "src", "OrleansOps.Cli");
            var (packed, packOutput) = await RunAsync("dotnet", ServerProcess.RepositoryRoot, "pack", project, "-c", "Release", "-o", packages);
            Assert.True(packed == 0, packOutput);
            var (installed, installOutput) = await RunAsync("dotnet", packages, "tool", "install", "opsctl", "--tool-path", tools, "--add-source", packages);
            Assert.True(installed == 0, installOutput);

            // From a folder that is not the repository: the tool needs neither the sources nor a build.
            var (listed, accounts) = await RunAsync(Path.Combine(tools, "opsctl"), Path.GetTempPath(), "--gateway-port", fixture.Server.GatewayPort.ToString(), "accounts", "list");
            Assert.True(listed == 0, accounts);
            Assert.Contains("healthnet", accounts);
        }
        finally
        {
            foreach (var folder in new[] { packages, tools })
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string folder, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
