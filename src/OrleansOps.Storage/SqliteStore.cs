using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansOps.Abstractions;

namespace OrleansOps.Storage;

/// <summary>How hard SQLite works to keep a commit: Full survives power loss, Normal survives a process crash.</summary>
public enum SqliteDurability
{
    Full,
    Normal,
}

/// <summary>A data folder this build cannot use: written by another version.</summary>
public sealed class StorageFormatException(string message) : Exception(message);

/// <summary>
/// The embedded database: one SQLite file in write-ahead-log mode under the data folder, holding the account journal
/// (entries, snapshots, chronicles and the projections the journal keeps: the incident index and the wake index), the
/// few grain states that live outside the journal, and the reminders. One writer thread commits everything queued
/// while the last commit was under way as one transaction with one sync to disk (group commit); reads use pooled
/// connections alongside.
/// </summary>
public sealed class SqliteStore : IJournal, IAsyncDisposable, IDisposable
{
    public const string FileName = "orleansops.db";
    /// <summary>1: whole grain states only; 2: the account journal.</summary>
    public const int SchemaVersion = 2;

    /// <summary>State names version 1 wrote for what the journal holds now.</summary>
    private static readonly string[] JournaledStateNames = ["account", "correlator", "incident", "account-signals"];

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly JournalQueue _journal = new();
    private readonly Lock _writesLock = new();
    private List<PendingWrite> _writes = [];
    private readonly Thread _writeLoop;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WriterCommands _commands;

    public SqliteStore(string dataPath, SqliteDurability durability = SqliteDurability.Full, ILogger<SqliteStore>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
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
            PRAGMA wal_autocheckpoint = 4000;
            """);
        Migrate(_writer);
        _commands = new WriterCommands(_writer);
        _writeLoop = new Thread(WriteLoop) { IsBackground = true, Name = "orleansops-sqlite-writer" };
        _writeLoop.Start();
    }

    public string DataPath { get; }

    /// <summary>Why <paramref name="dataPath"/> cannot be used by this build, or null when it can (or holds nothing yet).</summary>
    public static string? CheckDataFolder(string dataPath)
    {
        var file = Path.Combine(Path.GetFullPath(dataPath), FileName);
        if (!File.Exists(file)) return null;
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            Problem(connection);
            return null;
        }
        catch (StorageFormatException e)
        {
            return e.Message;
        }
    }

    private static void Migrate(SqliteConnection connection)
    {
        Problem(connection);
        Execute(connection, $"""
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
            CREATE TABLE IF NOT EXISTS journal (
                stream TEXT NOT NULL,
                seq INTEGER NOT NULL,
                payload BLOB NOT NULL,
                PRIMARY KEY (stream, seq)
            );
            CREATE TABLE IF NOT EXISTS snapshots (
                stream TEXT PRIMARY KEY,
                seq INTEGER NOT NULL,
                payload BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS chronicle (
                stream TEXT NOT NULL,
                seq INTEGER NOT NULL,
                payload BLOB NOT NULL,
                PRIMARY KEY (stream, seq)
            );
            CREATE TABLE IF NOT EXISTS incident_index (
                account TEXT NOT NULL,
                incident TEXT NOT NULL,
                version INTEGER NOT NULL,
                open INTEGER NOT NULL,
                opened_ticks INTEGER NOT NULL,
                summary BLOB NOT NULL,
                PRIMARY KEY (account, incident)
            );
            CREATE TABLE IF NOT EXISTS wakes (
                stream TEXT PRIMARY KEY,
                account TEXT NOT NULL,
                at_ticks INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS wakes_by_time ON wakes (at_ticks, stream);
            DELETE FROM schema_version;
            INSERT INTO schema_version (version) VALUES ({SchemaVersion});
            """);
    }

    /// <summary>Throws when the file was written by a build whose format this one cannot read.</summary>
    private static void Problem(SqliteConnection connection)
    {
        if (Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") == 0) return;
        var version = Scalar(connection, "SELECT coalesce(max(version), 0) FROM schema_version");
        if (version > SchemaVersion)
            throw new StorageFormatException(
                $"The data folder was written by a newer OrleansOps (storage format {version}; this build reads up to {SchemaVersion}). Run that release, or point OrleansOps:DataPath at another folder.");
        if (version < 2 && Scalar(connection,
                $"SELECT count(*) FROM grain_state WHERE state_name IN ({string.Join(", ", JournaledStateNames.Select(n => $"'{n}'"))})") > 0)
            throw new StorageFormatException(
                "The data folder was written by an earlier OrleansOps, which stored whole grain states (storage format 1); this build keeps an account " +
                "journal and does not read that format. Move the folder away (or delete it) to start afresh, or point OrleansOps:DataPath at another folder.");
    }

    public Task Append(JournalEntry entry) => _journal.Append(entry);

    /// <summary>Runs <paramref name="work"/> on the writer connection inside the next transaction; completes once it is committed.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(work);
        lock (_writesLock)
        {
            if (_stopped.Task.IsCompleted) throw new ObjectDisposedException(nameof(SqliteStore));
            _writes.Add(pending);
        }
        _journal.Nudge();
        return pending.Task;
    }

    private void WriteLoop()
    {
        try
        {
            while (true)
            {
                var batch = _journal.Take();
                List<PendingWrite> writes;
                lock (_writesLock)
                {
                    writes = _writes;
                    _writes = [];
                }
                if (batch is null && writes.Count == 0)
                {
                    if (_journal.Drained) break;
                    continue;
                }
                CommitWithRetries(batch, writes);
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>
    /// Commits the batch, trying again (with a growing pause) for as long as it fails: its entries are never dropped.
    /// Grain-state writes fail with the transaction instead; their grains read again what storage holds.
    /// </summary>
    /// <summary>How long a stopping server keeps trying to commit what is queued before it gives up.</summary>
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(30);
    private DateTime? _queueStopping;

    private void CommitWithRetries(JournalBatch? batch, List<PendingWrite> writes)
    {
        var pause = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Commit(batch, writes);
                foreach (var write in writes) write.Complete();
                batch?.Complete();
                return;
            }
            catch (SqliteException e) when (e.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */ && batch is not null)
            {
                // Two writers of one stream: the in-memory state of some grain no longer matches what is durable, and no
                // retry can mend that. Start again from what is on disk.
                _logger.LogCritical(e, "A journal entry conflicts with one already written; stopping the process so that every grain starts again from the durable journal");
                Environment.FailFast("OrleansOps: conflicting journal entries (" + e.Message + ")");
            }
            catch (Exception e)
            {
                JournalMetrics.Failed();
                foreach (var write in writes) write.Fail(e);
                writes = [];
                if (batch is null) return;
                if (_queueStopping is { } stopping && DateTime.UtcNow - stopping > StopPatience)
                {
                    _logger.LogError(e, "The server is stopping and the journal still cannot commit {Count} entries after {Seconds} s; they are lost", batch.Entries.Count, (int)StopPatience.TotalSeconds);
                    return;
                }
                if (_queueStopping is null && _journal.Closed) _queueStopping = DateTime.UtcNow;
                if (attempt == 1 || attempt % 50 == 0)
                    _logger.LogError(e, "The journal could not commit {Count} entries (attempt {Attempt}); trying again in {Pause} ms. Requests wait, then get 503, until it can",
                        batch.Entries.Count, attempt, (int)pause.TotalMilliseconds);
                Thread.Sleep(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private void Commit(JournalBatch? batch, List<PendingWrite> writes)
    {
        using var transaction = _writer.BeginTransaction();
        if (batch is not null) WriteJournal(batch, transaction);
        foreach (var pending in writes)
        {
            transaction.Save("write");
            if (pending.Execute(_writer, transaction)) transaction.Release("write");
            else transaction.Rollback("write");
        }
        transaction.Commit();
    }

    private void WriteJournal(JournalBatch batch, SqliteTransaction transaction)
    {
        var c = _commands;
        c.Bind(transaction);
        var snapshots = 0;
        foreach (var entry in batch.Entries)
        {
            if (entry.Snapshot is { } snapshot)
            {
                c.Run(c.PutSnapshot, entry.Stream, entry.Seq, snapshot);
                c.Run(c.Truncate, entry.Stream, entry.Seq, null);
                snapshots++;
            }
            else if (entry.Payload.Length > 0)
                c.Run(c.AppendEntry, entry.Stream, entry.Seq, entry.Payload);
            if (entry.Chronicle is { } chronicle)
                foreach (var record in chronicle) c.Run(c.AppendChronicle, entry.Stream, record.Seq, record.Payload);
        }
        var (index, wakes) = batch.Projections();
        foreach (var (account, row) in index)
        {
            c.PutIndex.Parameters[0].Value = account;
            c.PutIndex.Parameters[1].Value = row.Incident;
            c.PutIndex.Parameters[2].Value = row.Version;
            c.PutIndex.Parameters[3].Value = row.Open ? 1 : 0;
            c.PutIndex.Parameters[4].Value = row.OpenedAt.UtcTicks;
            c.PutIndex.Parameters[5].Value = row.Summary;
            c.PutIndex.ExecuteNonQuery();
        }
        foreach (var wake in wakes)
        {
            if (wake.At is { } at)
            {
                c.PutWake.Parameters[0].Value = wake.Stream;
                c.PutWake.Parameters[1].Value = wake.Account;
                c.PutWake.Parameters[2].Value = at.UtcTicks;
                c.PutWake.ExecuteNonQuery();
            }
            else
            {
                c.DropWake.Parameters[0].Value = wake.Stream;
                c.DropWake.ExecuteNonQuery();
            }
        }
        JournalMetrics.Snapshotted(snapshots);
    }

    /// <summary>The writer's statements, prepared once and bound again for every row.</summary>
    private sealed class WriterCommands
    {
        public readonly SqliteCommand AppendEntry, PutSnapshot, Truncate, AppendChronicle, PutIndex, PutWake, DropWake;

        public WriterCommands(SqliteConnection connection)
        {
            AppendEntry = Command(connection, "INSERT INTO journal (stream, seq, payload) VALUES ($1, $2, $3)", 3);
            PutSnapshot = Command(connection, "INSERT INTO snapshots (stream, seq, payload) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, payload = excluded.payload", 3);
            Truncate = Command(connection, "DELETE FROM journal WHERE stream = $1 AND seq <= $2", 2);
            AppendChronicle = Command(connection, "INSERT INTO chronicle (stream, seq, payload) VALUES ($1, $2, $3)", 3);
            PutIndex = Command(connection, """
                INSERT INTO incident_index (account, incident, version, open, opened_ticks, summary) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (account, incident) DO UPDATE SET version = excluded.version, open = excluded.open, opened_ticks = excluded.opened_ticks, summary = excluded.summary
                WHERE excluded.version >= incident_index.version
                """, 6);
            PutWake = Command(connection, "INSERT INTO wakes (stream, account, at_ticks) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE SET at_ticks = excluded.at_ticks", 3);
            DropWake = Command(connection, "DELETE FROM wakes WHERE stream = $1", 1);
        }

        public void Bind(SqliteTransaction transaction)
        {
            foreach (var command in new[] { AppendEntry, PutSnapshot, Truncate, AppendChronicle, PutIndex, PutWake, DropWake }) command.Transaction = transaction;
        }

        public void Run(SqliteCommand command, string stream, long seq, byte[]? payload)
        {
            command.Parameters[0].Value = stream;
            command.Parameters[1].Value = seq;
            if (payload is not null) command.Parameters[2].Value = payload;
            command.ExecuteNonQuery();
        }

        private static SqliteCommand Command(SqliteConnection connection, string sql, int parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            for (var i = 1; i <= parameters; i++) command.Parameters.Add(new SqliteParameter("$" + i, null));
            command.Prepare();
            return command;
        }
    }

    public async Task<StreamHistory> LoadAsync(string stream, CancellationToken cancellationToken = default)
    {
        await _journal.Pending(stream).WaitAsync(cancellationToken);
        return await ReadAsync(async connection =>
        {
            long snapshotSeq = 0;
            byte[]? snapshot = null;
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT seq, payload FROM snapshots WHERE stream = $stream";
                command.Parameters.AddWithValue("$stream", stream);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken)) (snapshotSeq, snapshot) = (reader.GetInt64(0), (byte[])reader[1]);
            }
            return new StreamHistory(snapshotSeq, snapshot, await RecordsAsync(connection, "journal", stream, snapshotSeq, int.MaxValue, cancellationToken));
        });
    }

    public async Task<IReadOnlyList<JournalRecord>> ReadChronicleAsync(string stream, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await _journal.Pending(stream).WaitAsync(cancellationToken);
        return await ReadAsync(connection => RecordsAsync(connection, "chronicle", stream, afterSeq, limit, cancellationToken));
    }

    private static async Task<IReadOnlyList<JournalRecord>> RecordsAsync(
        SqliteConnection connection, string table, string stream, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT seq, payload FROM {table} WHERE stream = $stream AND seq > $after ORDER BY seq LIMIT $limit";
        command.Parameters.AddWithValue("$stream", stream);
        command.Parameters.AddWithValue("$after", afterSeq);
        command.Parameters.AddWithValue("$limit", limit);
        var records = new List<JournalRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) records.Add(new JournalRecord(reader.GetInt64(0), (byte[])reader[1]));
        return records;
    }

    public async Task<IReadOnlyList<byte[]>> ReadIndexAsync(string account, bool openOnly, CancellationToken cancellationToken = default)
    {
        await _journal.Everything().WaitAsync(cancellationToken);
        return await ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT summary FROM incident_index WHERE account = $account" + (openOnly ? " AND open = 1" : "");
            command.Parameters.AddWithValue("$account", account);
            var rows = new List<byte[]>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add((byte[])reader[0]);
            return (IReadOnlyList<byte[]>)rows;
        });
    }

    public Task<IReadOnlyList<StreamWake>> DueWakesAsync(DateTimeOffset until, StreamWake? after, int limit, CancellationToken cancellationToken = default) =>
        ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT stream, account, at_ticks FROM wakes WHERE at_ticks <= $until"
                + (after is null ? "" : " AND (at_ticks > $afterAt OR at_ticks = $afterAt AND stream > $afterStream)")
                + " ORDER BY at_ticks, stream LIMIT $limit";
            command.Parameters.AddWithValue("$until", until.UtcTicks);
            command.Parameters.AddWithValue("$limit", limit);
            if (after is not null)
            {
                command.Parameters.AddWithValue("$afterAt", after.At!.Value.UtcTicks);
                command.Parameters.AddWithValue("$afterStream", after.Stream);
            }
            var wakes = new List<StreamWake>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                wakes.Add(new StreamWake(reader.GetString(0), reader.GetString(1), new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero)));
            return (IReadOnlyList<StreamWake>)wakes;
        });

    public async Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return await work(connection);
    }

    /// <summary>For hosts disposed synchronously: waits for the queue to drain as <see cref="DisposeAsync"/> does.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        // What is queued is written before the file closes: a clean stop loses nothing.
        _journal.Close();
        var clock = Stopwatch.StartNew();
        await _stopped.Task;
        _logger.LogDebug("The journal closed in {Elapsed} ms", clock.ElapsedMilliseconds);
        lock (_writesLock)
            foreach (var write in _writes) write.Fail(new ObjectDisposedException(nameof(SqliteStore)));
        await _writer.DisposeAsync();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
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
}
