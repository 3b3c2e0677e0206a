using System.Reflection;
using System.Text.RegularExpressions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// The container, Kubernetes and systemd files cannot be run here (no Docker engine, no cluster); these checks keep
/// them from drifting away from the server they configure.
/// </summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(ServerProcess.RepositoryRoot, "deploy");

    [Fact]
    public void Every_OrleansOps_setting_the_deploy_files_set_is_one_the_server_reads()
    {
        var server = Assembly.LoadFrom(ServerProcess.BuiltDll("OrleansOps.Server", "OrleansOps.Server.dll"));
        var known = server.GetType("OrleansOps.Server.OrleansOpsOptions", throwOnError: true)!
            .GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var used = Directory.EnumerateFiles(Deploy, "*", SearchOption.AllDirectories)
            .SelectMany(file => SettingName().Matches(File.ReadAllText(file)).Select(m => (File: Path.GetRelativePath(Deploy, file), Setting: m.Groups[1].Value)))
            .ToList();

        Assert.Contains(used, u => u.Setting == "Storage");
        Assert.All(used, u => Assert.True(known.Contains(u.Setting), $"{u.File} sets OrleansOps__{u.Setting}, which the server does not read"));
    }

    [Fact]
    public void The_kustomization_lists_manifests_that_exist_and_never_the_example_secret()
    {
        var kustomization = File.ReadAllText(Path.Combine(Deploy, "k8s", "kustomization.yaml"));
        var resources = Resource().Matches(kustomization).Select(m => m.Groups[1].Value).ToList();

        Assert.Contains("deployment.yaml", resources);
        Assert.DoesNotContain("secret.example.yaml", resources);
        Assert.All(resources, r => Assert.True(File.Exists(Path.Combine(Deploy, "k8s", r)), $"kustomization lists {r}, which is missing"));
    }

    [Fact]
    public void The_image_runs_the_server_the_project_builds()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Deploy, "Dockerfile"));

        Assert.Contains("dotnet publish src/OrleansOps.Server", dockerfile);
        Assert.Contains("OrleansOps.Server.dll", dockerfile);
    }

    [GeneratedRegex(@"OrleansOps__([A-Za-z]+)")]
    private static partial Regex SettingName();

    [GeneratedRegex(@"^\s+-\s+(\S+\.ya?ml)\s*$", RegexOptions.Multiline)]
    private static partial Regex Resource();
}
