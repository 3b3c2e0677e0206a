using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;

namespace OrleansOps.Storage;

public static class StorageExtensions
{
    /// <summary>Grain storage named <paramref name="storageName"/> and the reminder table, both in one SQLite file under <paramref name="dataPath"/>.</summary>
    public static ISiloBuilder UseSqliteStorage(this ISiloBuilder silo, string storageName, string dataPath, SqliteDurability durability)
    {
        silo.Services.AddSingleton(_ => new SqliteStore(dataPath, durability));
        silo.Services.AddGrainStorage(storageName, (services, _) => new SqliteGrainStorage(
            services.GetRequiredService<SqliteStore>(),
            services.GetRequiredService<Serializer>(),
            services.GetRequiredService<TimeProvider>()));
        silo.AddReminders();
        silo.Services.AddSingleton<IReminderTable, SqliteReminderTable>();
        return silo;
    }
}
