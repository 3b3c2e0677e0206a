using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using OrleansOps.Abstractions;

namespace OrleansOps.Storage;

public static class StorageExtensions
{
    /// <summary>
    /// The embedded store: the account journal, grain storage named <paramref name="storageName"/> (for the few grains
    /// outside the journal) and the reminder table, all in one SQLite file under <paramref name="dataPath"/>.
    /// </summary>
    public static ISiloBuilder UseSqliteStorage(this ISiloBuilder silo, string storageName, string dataPath, SqliteDurability durability)
    {
        silo.Services.AddSingleton(services => new SqliteStore(dataPath, durability, services.GetService<ILogger<SqliteStore>>(), services.GetService<TimeProvider>()));
        return silo.UseSqliteStore(storageName);
    }

    /// <summary>As <see cref="UseSqliteStorage"/>, on a store that already exists: silos of one process share its one writer.</summary>
    public static ISiloBuilder UseSqliteStorage(this ISiloBuilder silo, string storageName, SqliteStore store)
    {
        silo.Services.AddSingleton(store);
        return silo.UseSqliteStore(storageName);
    }

    private static ISiloBuilder UseSqliteStore(this ISiloBuilder silo, string storageName)
    {
        silo.Services.AddSingleton<IJournal>(services => services.GetRequiredService<SqliteStore>());
        silo.Services.AddGrainStorage(storageName, (services, _) => new SqliteGrainStorage(
            services.GetRequiredService<SqliteStore>(),
            services.GetRequiredService<Serializer>(),
            services.GetRequiredService<TimeProvider>()));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        return silo;
    }
}
