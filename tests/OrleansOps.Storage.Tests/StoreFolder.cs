using Microsoft.Data.Sqlite;

namespace OrleansOps.Storage.Tests;

/// <summary>
/// A test class's embedded store in a temporary data folder of its own: opened before each test, opened again on
/// demand (as a restart would), and removed with everything in it afterwards.
/// </summary>
public abstract class StoreFolder : IAsyncLifetime
{
    protected string DataPath { get; } = Path.Combine(Path.GetTempPath(), "orleansops-store-" + Guid.NewGuid().ToString("N"));
    protected SqliteStore Store { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Store = new SqliteStore(DataPath);
        return Task.CompletedTask;
    }

    /// <summary>Closes the store (draining what it holds) and opens the same folder again.</summary>
    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = new SqliteStore(DataPath);
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(DataPath, recursive: true);
    }
}
