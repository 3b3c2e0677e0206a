[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace OrleansOps.EndToEnd.Tests;

/// <summary>One server on the demo configuration, shared by the tests that do not restart it.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    // Many test classes share this server and read it hard and in parallel with the one admin token (whole lists
    // before and after each bad request): that is the suite's load, not a tenant's, so the API's per-token limit is off
    // here. RateLimitTests checks the limits on a server of its own.
    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync(settings: ["--OrleansOps:RateLimits:ApiPerSecond=0"]);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(Server.DataPath, recursive: true); } catch (IOException) { /* best effort */ }
    }
}

[CollectionDefinition(Name)]
public sealed class SharedServer : ICollectionFixture<ServerFixture>
{
    public const string Name = "shared server";
}
