[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace OrleansOps.EndToEnd.Tests;

/// <summary>One server on the demo configuration, shared by the tests that do not restart it.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync();

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
