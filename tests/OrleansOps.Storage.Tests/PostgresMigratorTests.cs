using Npgsql;
using OrleansOps.Storage;
using OrleansOps.Testing;

namespace OrleansOps.Storage.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresMigratorTests(PostgresServer postgres)
{
    [RequiresPostgresFact]
    public async Task A_fresh_database_gets_every_script_once_and_a_second_run_changes_nothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        var log = new List<string>();
        var migrator = new PostgresMigrator(database, log.Add);

        var first = await migrator.MigrateAsync();
        var afterFirst = await SchemaSnapshotAsync(database, includeHistoryTimes: true);
        var second = await migrator.MigrateAsync();
        var afterSecond = await SchemaSnapshotAsync(database, includeHistoryTimes: true);

        Assert.Equal((0, PostgresMigrator.LatestVersion), (first.FromVersion, first.ToVersion));
        Assert.Equal(PostgresMigrator.Migrations.Select(m => m.Version), first.Applied.Select(m => m.Version));
        Assert.Empty(second.Applied);
        Assert.Equal((PostgresMigrator.LatestVersion, PostgresMigrator.LatestVersion), (second.FromVersion, second.ToVersion));
        Assert.Equal(afterFirst, afterSecond);
        Assert.Contains(log, line => line.Contains("nothing to do"));
        Assert.Equal(PostgresMigrator.LatestVersion, await migrator.CurrentVersionAsync());
    }

    [RequiresPostgresFact]
    public async Task An_older_schema_is_upgraded_to_the_same_schema_a_fresh_install_gets()
    {
        Assert.True(PostgresMigrator.LatestVersion >= 2, "an upgrade needs at least two versions");
        var older = await postgres.CreateDatabaseAsync();
        var fresh = await postgres.CreateDatabaseAsync();

        await new PostgresMigrator(older).MigrateAsync(targetVersion: PostgresMigrator.LatestVersion - 1);
        var upgrade = await new PostgresMigrator(older).MigrateAsync();
        await new PostgresMigrator(fresh).MigrateAsync();

        Assert.Equal(PostgresMigrator.LatestVersion - 1, upgrade.FromVersion);
        Assert.Equal([PostgresMigrator.LatestVersion], upgrade.Applied.Select(m => m.Version));
        Assert.Equal(await SchemaSnapshotAsync(fresh, includeHistoryTimes: false), await SchemaSnapshotAsync(older, includeHistoryTimes: false));
    }

    [RequiresPostgresFact]
    public async Task A_database_newer_than_the_build_is_refused_with_a_clear_message_and_left_alone()
    {
        var database = await postgres.CreateDatabaseAsync();
        await new PostgresMigrator(database).MigrateAsync();
        var newer = PostgresMigrator.LatestVersion + 1;
        await ExecuteAsync(database, $"INSERT INTO {PostgresMigrator.HistoryTable} (version, name, checksum) VALUES ({newer}, '{newer:0000}_from_the_future', 'x')");
        var before = await SchemaSnapshotAsync(database, includeHistoryTimes: true);

        var error = await Assert.ThrowsAsync<SchemaMigrationException>(() => new PostgresMigrator(database).MigrateAsync());

        Assert.Contains($"schema is at version {newer}, newer than this OrleansOps build knows (version {PostgresMigrator.LatestVersion})", error.Message);
        Assert.Equal(before, await SchemaSnapshotAsync(database, includeHistoryTimes: true));
    }

    [RequiresPostgresFact]
    public async Task An_applied_script_that_differs_from_the_shipped_one_is_refused()
    {
        var database = await postgres.CreateDatabaseAsync();
        await new PostgresMigrator(database).MigrateAsync(targetVersion: 1);
        await ExecuteAsync(database, $"UPDATE {PostgresMigrator.HistoryTable} SET checksum = 'edited' WHERE version = 1");

        var error = await Assert.ThrowsAsync<SchemaMigrationException>(() => new PostgresMigrator(database).MigrateAsync());

        Assert.Contains("different script", error.Message);
        Assert.Equal(1, await new PostgresMigrator(database).CurrentVersionAsync());
    }

    [RequiresPostgresFact]
    public async Task Orleans_tables_made_by_hand_are_not_mistaken_for_an_empty_database()
    {
        var database = await postgres.CreateDatabaseAsync();
        await ExecuteAsync(database, "CREATE TABLE orleansquery (querykey varchar(64) PRIMARY KEY, querytext text)");

        var error = await Assert.ThrowsAsync<SchemaMigrationException>(() => new PostgresMigrator(database).MigrateAsync());

        Assert.Contains("did not create", error.Message);
    }

    [RequiresPostgresFact]
    public async Task Silos_migrating_at_the_same_moment_apply_each_script_once()
    {
        var database = await postgres.CreateDatabaseAsync();

        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new PostgresMigrator(database).MigrateAsync())));

        Assert.Equal(PostgresMigrator.LatestVersion, reports.Sum(r => r.Applied.Count));
        Assert.All(reports, r => Assert.Equal(PostgresMigrator.LatestVersion, r.ToVersion));
    }

    [Fact]
    public void The_shipped_scripts_are_numbered_without_gaps_and_hold_every_provider_query()
    {
        Assert.Equal(Enumerable.Range(1, PostgresMigrator.LatestVersion), PostgresMigrator.Migrations.Select(m => m.Version));
        var sql = string.Join("\n", PostgresMigrator.Migrations.Select(m => m.Sql));
        // The keys Orleans' ADO.NET providers look up at start-up; a missing one stops the silo.
        foreach (var key in new[]
        {
            "UpdateIAmAlivetimeKey", "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey", "GatewaysQueryKey",
            "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
            "CleanupDefunctSiloEntryKey", "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
            "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
            "DeleteReminderRowKey", "DeleteReminderRowsKey",
        })
            Assert.Contains($"'{key}'", sql);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Tables, columns, indexes, functions, the stored queries and the migration history, as text.</summary>
    private static async Task<string> SchemaSnapshotAsync(string connectionString, bool includeHistoryTimes)
    {
        var history = includeHistoryTimes ? "version || ' ' || checksum || ' ' || applied_at" : "version || ' ' || checksum";
        var queries = new[]
        {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns WHERE table_schema = 'public'",
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
            "SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') ' || md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
            "SELECT querykey || ' ' || md5(querytext) FROM orleansquery",
            $"SELECT {history} FROM {PostgresMigrator.HistoryTable}",
        };
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var lines = new List<string>();
        foreach (var query in queries)
        {
            await using var command = new NpgsqlCommand(query, connection);
            await using var reader = await command.ExecuteReaderAsync();
            var part = new List<string>();
            while (await reader.ReadAsync()) part.Add(reader.GetString(0));
            part.Sort(StringComparer.Ordinal);
            lines.AddRange(part);
        }
        return string.Join("\n", lines);
    }
}
