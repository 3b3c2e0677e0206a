using Microsoft.Data.Sqlite;

namespace OrleansOps.Storage;

/// <summary>How hard SQLite works to keep a commit: Full survives power loss, Normal survives a process crash.</summary>
public enum SqliteDurability
{
    Full,
    Normal,
}

/// <summary>
/// The embedded database: one SQLite file in write-ahead-log mode under the data folder. Writes go through one
/// connection, one at a time (SQLite has a single writer anyway); reads use pooled connections alongside.
/// </summary>
public sealed class SqliteStore : IAsyncDisposable
{
    public const string FileName = "orleansops.db";
    public const int SchemaVersion = 1;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public SqliteStore(string dataPath, SqliteDurability durability = SqliteDurability.Full)
    {
        DataPath = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(DataPath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(DataPath, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, $"""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = {(durability == SqliteDurability.Full ? "FULL" : "NORMAL")};
            PRAGMA busy_timeout = 30000;
            CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS grain_state (
                state_name TEXT NOT NULL,
                grain_id TEXT NOT NULL,
                etag INTEGER NOT NULL,
                payload BLOB NOT NULL,
                modified_utc TEXT NOT NULL,
                PRIMARY KEY (state_name, grain_id)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS reminders (
                service_id TEXT NOT NULL,
                grain_id TEXT NOT NULL,
                reminder_name TEXT NOT NULL,
                grain_hash INTEGER NOT NULL,
                start_utc_ticks INTEGER NOT NULL,
                period_ticks INTEGER NOT NULL,
                etag INTEGER NOT NULL,
                PRIMARY KEY (service_id, grain_id, reminder_name)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS reminders_by_hash ON reminders (service_id, grain_hash);
            INSERT INTO schema_version (version) SELECT {SchemaVersion} WHERE NOT EXISTS (SELECT 1 FROM schema_version);
            """);
    }

    public string DataPath { get; }

    /// <summary>Runs <paramref name="work"/> on the single writer connection inside a transaction.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            using var transaction = _writer.BeginTransaction();
            var result = work(_writer, transaction);
            transaction.Commit();
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return await work(connection);
    }

    public async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync();
        await _writer.DisposeAsync();
        _writeLock.Dispose();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
