using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace OrleansOps.Storage;

/// <summary>One numbered script of deploy/postgres; released scripts never change, new changes get a new number.</summary>
public sealed record SchemaMigration(int Version, string Name, string Sql)
{
    /// <summary>Of the script with Unix line endings, so a checkout on Windows does not look like an edit.</summary>
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.Replace("\r\n", "\n"))));
}

public sealed record MigrationReport(int FromVersion, int ToVersion, IReadOnlyList<SchemaMigration> Applied);

/// <summary>The database cannot be migrated by this build: it is newer, was edited, or was set up by something else.</summary>
public sealed class SchemaMigrationException(string message) : Exception(message);

/// <summary>
/// Applies the PostgreSQL scripts that Orleans' ADO.NET providers need, each once, in order, each in its own
/// transaction, and records them in <c>orleansops_schema_migrations</c>. Silos that start together with
/// MigrateOnStart take turns on an advisory lock, so the second finds nothing left to do.
/// </summary>
public sealed class PostgresMigrator(string connectionString, Action<string>? progress = null)
{
    public const string HistoryTable = "orleansops_schema_migrations";
    /// <summary>Arbitrary, fixed: every OrleansOps migrator on any silo locks the same number.</summary>
    private const long LockKey = 0x4f7073_5343484d;

    public static IReadOnlyList<SchemaMigration> Migrations { get; } = LoadEmbeddedScripts();
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Brings the database to <paramref name="targetVersion"/> (the latest when null) and says what it did.</summary>
    public async Task<MigrationReport> MigrateAsync(int? targetVersion = null, CancellationToken cancellationToken = default)
    {
        var target = targetVersion ?? LatestVersion;
        if (target < 0 || target > LatestVersion)
            throw new ArgumentOutOfRangeException(nameof(targetVersion), $"Known schema versions are 1 to {LatestVersion}.");

        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            var applied = await ReadHistoryAsync(connection, cancellationToken);
            var current = applied.Count == 0 ? 0 : applied.Keys.Max();
            CheckKnown(applied, current);

            var done = new List<SchemaMigration>();
            foreach (var migration in Migrations.Where(m => m.Version <= target && !applied.ContainsKey(m.Version)))
            {
                var clock = Stopwatch.StartNew();
                progress?.Invoke($"applying {migration.Name} ...");
                await ApplyAsync(connection, migration, cancellationToken);
                progress?.Invoke($"applied {migration.Name} in {clock.ElapsedMilliseconds} ms");
                done.Add(migration);
            }
            var reached = Math.Max(current, done.Count == 0 ? 0 : done[^1].Version);
            progress?.Invoke(done.Count == 0
                ? $"schema is at version {current}; nothing to do"
                : $"schema upgraded from version {current} to {reached}");
            return new MigrationReport(current, reached, done);
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    /// <summary>The highest applied version, 0 for a database this migrator has not touched.</summary>
    public async Task<int> CurrentVersionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var applied = await ReadHistoryAsync(connection, cancellationToken);
        return applied.Count == 0 ? 0 : applied.Keys.Max();
    }

    private static void CheckKnown(IReadOnlyDictionary<int, string> applied, int current)
    {
        if (current > LatestVersion)
            throw new SchemaMigrationException(
                $"The database schema is at version {current}, newer than this OrleansOps build knows (version {LatestVersion}). " +
                "Run the OrleansOps release that migrated it (or a later one); an older build must not write to a newer schema.");
        foreach (var (version, checksum) in applied)
        {
            var known = Migrations.FirstOrDefault(m => m.Version == version);
            if (known is null)
                throw new SchemaMigrationException($"The database records schema version {version}, which this OrleansOps build does not have.");
            if (known.Checksum != checksum)
                throw new SchemaMigrationException(
                    $"Schema version {version} ({known.Name}) was applied from a different script than this build ships. " +
                    "Released migrations must never be edited; put changes in a new numbered script.");
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<Dictionary<int, string>> ReadHistoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var probe = new NpgsqlCommand("SELECT to_regclass(@history) IS NOT NULL, to_regclass('orleansquery') IS NOT NULL", connection))
        {
            probe.Parameters.AddWithValue("history", HistoryTable);
            await using var reader = await probe.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var hasHistory = reader.GetBoolean(0);
            var hasOrleansTables = reader.GetBoolean(1);
            if (!hasHistory && hasOrleansTables)
                throw new SchemaMigrationException(
                    "The database already holds Orleans tables that this migrator did not create (no orleansops_schema_migrations table). " +
                    "Point OrleansOps:PostgresConnection at an empty database, or drop those tables first.");
            if (!hasHistory) return [];
        }

        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand($"SELECT version, checksum FROM {HistoryTable}", connection);
        await using var rows = await command.ExecuteReaderAsync(cancellationToken);
        while (await rows.ReadAsync(cancellationToken)) applied[rows.GetInt32(0)] = rows.GetString(1);
        return applied;
    }

    private static async Task ApplyAsync(NpgsqlConnection connection, SchemaMigration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using (var history = new NpgsqlCommand($"""
                CREATE TABLE IF NOT EXISTS {HistoryTable} (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, connection, transaction))
                await history.ExecuteNonQueryAsync(cancellationToken);
            await using (var script = new NpgsqlCommand(migration.Sql, connection, transaction))
                await script.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw new SchemaMigrationException($"{migration.Name} failed: {e.MessageText} (SQLSTATE {e.SqlState}); nothing of it was applied.");
        }
        await using (var record = new NpgsqlCommand($"INSERT INTO {HistoryTable} (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction))
        {
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            record.Parameters.AddWithValue("checksum", migration.Checksum);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The scripts are compiled in from deploy/postgres, so a binary always carries the schema it expects.</summary>
    private static List<SchemaMigration> LoadEmbeddedScripts()
    {
        const string prefix = "OrleansOps.Postgres.";
        var assembly = typeof(PostgresMigrator).Assembly;
        var migrations = new List<SchemaMigration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var name = resource[prefix.Length..^".sql".Length];
            var separator = name.IndexOf('_');
            if (separator <= 0 || !int.TryParse(name.AsSpan(0, separator), out var version))
                throw new InvalidOperationException($"Schema script {name}.sql must be named NNNN_description.sql.");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            migrations.Add(new SchemaMigration(version, name, reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
            if (migrations[i].Version != i + 1)
                throw new InvalidOperationException($"Schema scripts must be numbered 1, 2, 3 ... without gaps; found {migrations[i].Name}.");
        return migrations;
    }
}
