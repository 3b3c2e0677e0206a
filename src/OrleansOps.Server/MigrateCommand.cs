using Npgsql;
using OrleansOps.Storage;

namespace OrleansOps.Server;

/// <summary><c>OrleansOps.Server migrate</c>: brings the PostgreSQL schema to this build's version and exits.</summary>
public static class MigrateCommand
{
    public const string Name = "migrate";

    /// <summary>0 when the schema is current, 1 when the database refused or cannot be reached, 2 for wrong settings.</summary>
    public static async Task<int> RunAsync(OrleansOpsOptions options)
    {
        if (options.Storage != StorageMode.Postgres)
        {
            await Console.Error.WriteLineAsync("migrate: the schema is for PostgreSQL; set OrleansOps:Storage=Postgres and OrleansOps:PostgresConnection.");
            return 2;
        }
        var target = new NpgsqlConnectionStringBuilder(options.PostgresConnection);
        Console.WriteLine($"migrate: database '{target.Database}' on {target.Host}:{target.Port}; this build's schema version is {PostgresMigrator.LatestVersion}");
        try
        {
            var report = await new PostgresMigrator(options.PostgresConnection!, line => Console.WriteLine($"migrate: {line}")).MigrateAsync();
            return report.ToVersion == PostgresMigrator.LatestVersion ? 0 : 1;
        }
        catch (SchemaMigrationException e)
        {
            await Console.Error.WriteLineAsync($"migrate: {e.Message}");
            return 1;
        }
        catch (PostgresException e)
        {
            await Console.Error.WriteLineAsync($"migrate: PostgreSQL refused: {e.MessageText} (SQLSTATE {e.SqlState}); check the user, password, database and its rights.");
            return 1;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"migrate: cannot reach the database: {e.Message}");
            return 1;
        }
    }
}
