using System.Threading.Channels;
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
/// connection (SQLite has a single writer anyway) and are committed in groups: every write queued while a
/// commit is under way goes into the next transaction, each in its own savepoint, so one sync to disk serves
/// many grains and one failing write does not fail its neighbours. Reads use pooled connections alongside.
/// </summary>
public sealed class SqliteStore : IAsyncDisposable
{
    public const string FileName = "orleansops.db";
    public const int SchemaVersion = 1;

    /// <summary>The most writes one transaction carries.</summary>
    private const int MaxGroup = 512;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writeLoop;

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
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    public string DataPath { get; }

    /// <summary>Runs <paramref name="work"/> on the writer connection inside a transaction; completes once it is committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(work);
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(SqliteStore));
        return pending.Task;
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<PendingWrite>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var next)) group.Add(next);
            try
            {
                using var transaction = _writer.BeginTransaction();
                foreach (var pending in group)
                {
                    transaction.Save("write");
                    if (pending.Execute(_writer, transaction)) transaction.Release("write");
                    else transaction.Rollback("write");
                }
                transaction.Commit();
                foreach (var pending in group) pending.Complete();
            }
            catch (Exception e)
            {
                foreach (var pending in group) pending.Fail(e);
            }
        }
    }

    private abstract class PendingWrite
    {
        /// <returns>False when the work threw; its changes are rolled back to the savepoint.</returns>
        public abstract bool Execute(SqliteConnection connection, SqliteTransaction transaction);
        public abstract void Complete();
        public abstract void Fail(Exception error);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction, T> work) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;
        private Exception? _error;

        public Task<T> Task => _done.Task;

        public override bool Execute(SqliteConnection connection, SqliteTransaction transaction)
        {
            try
            {
                _result = work(connection, transaction);
                return true;
            }
            catch (Exception e)
            {
                _error = e;
                return false;
            }
        }

        public override void Complete()
        {
            if (_error is null) _done.TrySetResult(_result);
            else _done.TrySetException(_error);
        }

        public override void Fail(Exception error) => _done.TrySetException(error);
    }

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return await work(connection);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writeLoop;
        await _writer.DisposeAsync();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
