using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansOps.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace OrleansOps.Storage;

public static class PostgresExtensions
{
    /// <summary>The ADO.NET invariant Orleans uses to find Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// The account journal in PostgreSQL, and membership, grain storage named <paramref name="storageName"/> (for the
    /// few grains outside the journal) and reminders through Orleans' own ADO.NET providers. The schema comes from
    /// <see cref="PostgresMigrator"/>.
    /// </summary>
    public static ISiloBuilder UsePostgresCluster(this ISiloBuilder silo, string storageName, string connectionString)
    {
        silo.Services.AddSingleton<IJournal>(services => new PostgresJournal(connectionString, services.GetService<ILogger<PostgresJournal>>(), services.GetService<TimeProvider>()));
        silo.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
        silo.AddAdoNetGrainStorage(storageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) => options.Configure<Serializer>((storage, serializer) =>
        {
            storage.Invariant = Invariant;
            storage.ConnectionString = connectionString;
            // The same binary format the embedded store writes: the state records are Orleans-serializable, not JSON-shaped.
            storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        silo.UseAdoNetReminderService(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
        // The strongly consistent directory: when a silo dies, Orleans' default directory can briefly hold a second
        // activation of a grain whose entry the dead silo kept, and two activations of one journaled grain write the same
        // entry numbers (the journal then stops the process rather than diverge). This one recovers a dead silo's
        // partition from the survivors' activations before it answers again.
#pragma warning disable ORLEANSEXP003 // marked for evaluation in Orleans 10; the cluster tests kill silos under load with it
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        return silo;
    }

    /// <summary>A client (opsctl) that finds the cluster's gateways in the PostgreSQL membership table.</summary>
    public static IClientBuilder UsePostgresGateways(this IClientBuilder client, string connectionString) =>
        client.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
}
