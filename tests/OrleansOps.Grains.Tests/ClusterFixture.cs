using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using OrleansOps.Grains;
using OrleansOps.Storage;

namespace OrleansOps.Grains.Tests;

/// <summary>Two silos in one process sharing one SQLite data folder (and its one writer), on a fake clock.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(Start);
    /// <summary>Every notification any silo sent, delivered at once.</summary>
    public RecordingSender Sender { get; } = new();
    /// <summary>Holds or fails the account calls a test chooses (see <see cref="AccountRecordHold"/>).</summary>
    public AccountRecordHold AccountHold { get; } = new();
    /// <summary>The ticket system behind every silo's ticket gateway.</summary>
    public FakeTicketSystem Tickets { get; } = new();
    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "orleansops-grains-" + Guid.NewGuid().ToString("N"));
    public InProcessTestCluster Cluster { get; private set; } = null!;
    private SqliteStore _store = null!;
    public IGrainFactory Grains => Cluster.Client;

    public async Task InitializeAsync()
    {
        _store = new SqliteStore(DataPath, SqliteDurability.Normal);
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(Time);
            silo.Services.AddSingleton<INotificationSender>(Sender);
            silo.Services.AddSingleton<ITicketGateway>(Tickets);
            silo.UseSqliteStorage(StorageNames.Grains, _store);
            silo.AddIncomingGrainCallFilter(AccountHold);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    /// <summary>Opens a sev1 incident on the account's service <c>api</c>, at the fake clock's now, through its correlator.</summary>
    public async Task<string> OpenSev1Async(string account)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = "Down" };
        var now = Time.GetUtcNow();
        var receipts = await Grains.IngestAsync(account, [new NormalizedAlert
        {
            Source = "test", Service = "api", Labels = labels, Severity = Severity.Sev1, Status = AlertStatus.Firing,
            StartsAt = now, Fingerprint = AlertFingerprint.Of(labels), ReceivedAt = now,
        }]);
        return receipts[0].IncidentId!;
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataPath, recursive: true); } catch (IOException) { /* a silo may still hold the file on slow shutdown */ }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
