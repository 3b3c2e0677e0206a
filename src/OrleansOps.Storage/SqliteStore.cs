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
/// The embedded database: two SQLite files in write-ahead-log mode under the data folder. <c>orleansops.db</c> takes
/// every flush: the log of the account journal's entries, the snapshots, the few grain states that live outside the
/// journal, and the reminders. <c>orleansops-history.db</c> holds what is read by stream: the journal's entries, the
/// chronicles, and the projections the journal keeps (the incident index and the wake index). One writer thread commits
/// everything queued while the last commit was under way as one transaction with one sync to disk (group commit); reads
/// use pooled connections alongside.
/// <para>
/// A flush appends its entries to <c>journal_log</c> in arrival order, so that it writes about as many bytes as it
/// holds. Stored by stream, each entry would dirty a page of its own stream in every table it touches: with a storm's
/// eighty incidents each changed per request, that was five times the bytes and most of the writer's time. A mover
/// thread of its own copies the log into the history file every few thousand entries (or couple of seconds), in one
/// transaction, where a stream's page is written once for all its entries meanwhile; then the writer drops the copied
/// rows from the log within its next flush. SQLite lets one writer at a time change a file: in two files the moves run
/// beside the flushes, on the other core, instead of between them. Reads see both: the log's rows of a stream are
/// known in memory until they are moved, and a read takes them before the history, so that a row it misses in the log
/// was moved before it looks at the history.
/// </para>
/// </summary>
public sealed class SqliteStore : IJournal, IAsyncDisposable, IDisposable
{
    public const string FileName = "orleansops.db";
    public const string HistoryFileName = "orleansops-history.db";
    /// <summary>1: whole grain states only; 2: the account journal in one file; 3: the journal's history in a file of its own.</summary>
    public const int SchemaVersion = 3;

    /// <summary>State names version 1 wrote for what the journal holds now.</summary>
    private static readonly string[] JournaledStateNames = ["account", "correlator", "incident", "account-signals"];

    /// <summary>The tables storage format 2 kept in the log's file and format 3 keeps in the history file.</summary>
    private static readonly string[] HistoryTables = ["journal", "chronicle", "incident_index", "wakes"];

    private readonly string _logFile;
    private readonly string _historyFile;
    private readonly string _connectionString;
    private readonly string _historyConnectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteConnection _mover;
    private readonly TimeProvider _time;
    private readonly JournalQueue _journal;
    private readonly Lock _writesLock = new();
    private List<PendingWrite> _writes = [];
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _moverStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LogCommands _logCommands;
    private readonly HistoryCommands _historyCommands;
    /// <summary>How long entries stay in the log before they are moved to the history (and how often the mover looks).</summary>
    private static readonly TimeSpan MoveEvery = TimeSpan.FromSeconds(2);
    /// <summary>
    /// How many entries the log holds before the mover moves them, and the most one move takes. Every page of the indexes
    /// by stream that a move touches is written whole to the history's write-ahead log, once per move whatever the number
    /// of its rows on that page, so a move should be large; but it is one transaction, whose rows the log keeps until it
    /// commits.
    /// </summary>
    private const int MoveCycle = 4_000;
    /// <summary>Guards what the writer, the mover and the readers share: the log's rows by stream and the bounds below.</summary>
    private readonly Lock _logLock = new();
    /// <summary>The log's rows of each stream not moved yet (added by the writer after each commit, read by loads).</summary>
    private readonly Dictionary<string, Queue<long>> _logRows = new(StringComparer.Ordinal);
    /// <summary>Every row of <see cref="_logRows"/> with its stream, in log order, to forget them as moves go.</summary>
    private readonly Queue<(long Id, string Stream)> _logOrder = new();
    /// <summary>The next log row's id (the writer's alone).</summary>
    private long _nextLogId;
    /// <summary>The last log row committed.</summary>
    private long _loggedUpTo;
    /// <summary>The last log row moved (committed in the history; the log holds those after it, and maybe some before).</summary>
    private long _movedUpTo;
    /// <summary>The last log row dropped from the log (the writer's alone).</summary>
    private long _droppedFromLogUpTo;
    private readonly CrashPoint? _crashPoint = CrashPoint.FromEnvironment();
    /// <summary>The last log entry readers of the projections wait to see moved.</summary>
    private long _moveWantedUpTo;
    private long _lastMove;
    /// <summary>Readers of the projections waiting for the log to be moved.</summary>
    private TaskCompletionSource? _moveWanted;
    /// <summary>Wakes the mover: the log holds a whole move, a reader waits for one, or the store is stopping.</summary>
    private readonly AutoResetEvent _moverSignal = new(false);
    private volatile bool _stopping;

    public SqliteStore(string dataPath, SqliteDurability durability = SqliteDurability.Full, ILogger<SqliteStore>? logger = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _journal = new JournalQueue(_time);
        _lastMove = _lastDrop = _time.GetTimestamp();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        DataPath = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(DataPath);
        _folderLock = LockFolder(DataPath);
        _logFile = Path.Combine(DataPath, FileName);
        _historyFile = Path.Combine(DataPath, HistoryFileName);
        _connectionString = ConnectionString(_logFile);
        _historyConnectionString = ConnectionString(_historyFile);
        _writer = Open(ConnectionString(_logFile, pooling: false), durability);
        Problem(_writer);
        CreateLogTables(_writer);
        // Synced whatever the durability: the log drops what a move copied, so a move lost to a power failure would be
        // lost from both files. One sync per move, off the requests' path.
        _mover = Open(ConnectionString(_historyFile, pooling: false), SqliteDurability.Full);
        CreateHistoryTables(_mover);
        Attach(_mover, _logFile, "log");
        MoveHistoryToItsFile();
        _logCommands = new LogCommands(_writer);
        _historyCommands = new HistoryCommands(_mover);
        _nextLogId = Scalar(_writer, "SELECT coalesce(max(id), 0) FROM journal_log") + 1;
        _loggedUpTo = _nextLogId - 1;
        _movedUpTo = _droppedFromLogUpTo = Scalar(_writer, "SELECT coalesce(min(id), 1) FROM journal_log") - 1;
        // Whatever the last run left in the log, moved before anything reads.
        while (_movedUpTo < _loggedUpTo) MoveLog();
        DropMovedFromLog();
        new Thread(CheckpointLoop) { IsBackground = true, Name = "orleansops-sqlite-checkpoints" }.Start();
        new Thread(WriteLoop) { IsBackground = true, Name = "orleansops-sqlite-writer" }.Start();
        new Thread(MoveLoop) { IsBackground = true, Name = "orleansops-sqlite-mover" }.Start();
    }

    public string DataPath { get; }

    /// <summary>The data folder's lock: one store (one writer) per folder, whatever the processes.</summary>
    private readonly FileStream _folderLock;
    public const string LockFileName = "orleansops.lock";

    private static FileStream LockFolder(string dataPath)
    {
        try
        {
            return new FileStream(Path.Combine(dataPath, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new StorageFormatException(
                $"Another OrleansOps process uses the data folder {dataPath}. Stop it first, or point OrleansOps:DataPath at another folder: one server writes one folder.");
        }
    }

    /// <summary>Pooled for the readers; not for the long-lived connections, whose attached file would go back into the pool with them.</summary>
    private static string ConnectionString(string file, bool pooling = true) => new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = pooling,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>A connection that writes <paramref name="connectionString"/>'s file: the writer's, or the mover's.</summary>
    private static SqliteConnection Open(string connectionString, SqliteDurability durability)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        // 16 KB pages for a new file (an existing one keeps its own): every page a commit touches is two writes to the
        // log, and a storm's flushes and moves touch a few hundred; with 4 KB pages the writer spent more time in those
        // system calls than in SQLite (measured: 160,000 writes in 3 s, 86,000 with 16 KB; 64 KB halves them again but
        // makes every one-alert commit write a 64 KB page).
        Execute(connection, $"""
            PRAGMA page_size = 16384;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = {Synchronous(durability)};
            PRAGMA busy_timeout = 30000;
            PRAGMA wal_autocheckpoint = 4000;
            PRAGMA cache_size = -65536;
            """);
        return connection;
    }

    /// <summary>Why <paramref name="dataPath"/> cannot be used by this build, or null when it can (or holds nothing yet).</summary>
    public static string? CheckDataFolder(string dataPath)
    {
        var folder = Path.GetFullPath(dataPath);
        var file = Path.Combine(folder, FileName);
        if (!File.Exists(file)) return null;
        try
        {
            if (File.Exists(Path.Combine(folder, LockFileName))) LockFolder(folder).Dispose();
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

    private static void CreateLogTables(SqliteConnection connection) => Execute(connection, """
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
        CREATE TABLE IF NOT EXISTS journal_log (
            id INTEGER PRIMARY KEY,
            stream TEXT NOT NULL,
            account TEXT NOT NULL,
            seq INTEGER NOT NULL,
            payload BLOB,
            chronicle_seq INTEGER,
            chronicle BLOB,
            incident TEXT,
            index_version INTEGER,
            index_open INTEGER,
            index_opened_ticks INTEGER,
            index_summary BLOB,
            index_alerts INTEGER,
            index_firing INTEGER,
            index_nodes INTEGER,
            wake_set INTEGER NOT NULL DEFAULT 0,
            wake_ticks INTEGER
        );
        CREATE TABLE IF NOT EXISTS snapshots (
            stream TEXT PRIMARY KEY,
            seq INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        """);

    private static void CreateHistoryTables(SqliteConnection connection) => Execute(connection, """
        CREATE TABLE IF NOT EXISTS journal (
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL,
            payload BLOB NOT NULL,
            UNIQUE (stream, seq)
        );
        CREATE TABLE IF NOT EXISTS chronicle (
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL,
            payload BLOB NOT NULL,
            UNIQUE (stream, seq)
        );
        CREATE TABLE IF NOT EXISTS incident_index (
            account TEXT NOT NULL,
            incident TEXT NOT NULL,
            version INTEGER NOT NULL,
            open INTEGER NOT NULL,
            opened_ticks INTEGER NOT NULL,
            summary BLOB NOT NULL,
            alert_count INTEGER NOT NULL,
            firing_count INTEGER NOT NULL,
            node_count INTEGER NOT NULL,
            PRIMARY KEY (account, incident)
        );
        CREATE TABLE IF NOT EXISTS wakes (
            stream TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            at_ticks INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS wakes_by_time ON wakes (at_ticks, stream);
        """);

    /// <summary>
    /// Storage format 2 → 3: the history tables out of the log's file into their own. The copy replaces whatever the
    /// history file holds and commits before the log's file drops its tables, so a crash in between copies again.
    /// </summary>
    private void MoveHistoryToItsFile()
    {
        if (Scalar(_writer, $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{HistoryTables[0]}'") > 0)
        {
            var clock = Stopwatch.StartNew();
            _logger.LogInformation("Moving the journal's history to {File} (storage format 2 to 3) ...", HistoryFileName);
            using (var transaction = _mover.BeginTransaction())
            {
                foreach (var table in HistoryTables) Execute(_mover, $"DELETE FROM main.{table}; INSERT INTO main.{table} SELECT * FROM log.{table};", transaction);
                transaction.Commit();
            }
            using (var transaction = _writer.BeginTransaction())
            {
                foreach (var table in HistoryTables) Execute(_writer, $"DROP TABLE {table};", transaction);
                transaction.Commit();
            }
            _logger.LogInformation("Moved the journal's history to {File} in {Seconds:0.0} s", HistoryFileName, clock.Elapsed.TotalSeconds);
        }
        Execute(_writer, $"DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES ({SchemaVersion});");
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

    public long? FlushOf(Task appended) => _journal.FlushOf(appended);

    public Task WhenFlushed(long flush) => _journal.WhenFlushed(flush);

    public string Instance => _journal.Instance;

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
                // Nudged by appends and grain-state writes. The log's moved rows go with the next commit, or with one of
                // their own when nothing else comes within MoveEvery.
                var batch = _journal.Take(MoveEvery);
                List<PendingWrite> writes;
                lock (_writesLock)
                {
                    writes = _writes;
                    _writes = [];
                }
                if (batch is not null || writes.Count > 0 || MovedRowsInLog() is not null) CommitWithRetries(batch, writes);
                if (batch is null && writes.Count == 0 && _journal.Drained) break;
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>The last row the log holds that the history holds too (to drop with the next commit), if any.</summary>
    private long? MovedRowsInLog()
    {
        lock (_logLock) return _movedUpTo > _droppedFromLogUpTo ? _movedUpTo : null;
    }

    /// <summary>
    /// Moves the log into the history, a move at a time, whenever the log holds a whole move, a couple of seconds have
    /// passed, or a reader of the projections waits; drops what snapshots cover from the history now and then. When the
    /// store stops, it moves what is left once the writer has stopped.
    /// </summary>
    private void MoveLoop()
    {
        try
        {
            while (true)
            {
                _moverSignal.WaitOne(MoveEvery);
                var stopping = _stopping;
                while (MoveDue(stopping) && MoveLogWithRetries()) { }
                if (DropDue() || stopping) DropCovered();
                if (stopping) break;
            }
        }
        finally
        {
            _moverStopped.TrySetResult();
        }
    }

    private bool MoveDue(bool stopping)
    {
        lock (_logLock)
        {
            var logged = _loggedUpTo - _movedUpTo;
            return logged > 0 && (stopping || _moveWanted is not null || logged >= MoveCycle || _time.GetElapsedTime(_lastMove) >= MoveEvery);
        }
    }

    /// <summary>Moves the log into the history now (for readers of the projections); completes when it has.</summary>
    private Task MoveLogSoon()
    {
        lock (_logLock)
        {
            if (_loggedUpTo <= _movedUpTo) return Task.CompletedTask;
            _moveWantedUpTo = Math.Max(_moveWantedUpTo, _loggedUpTo);
            _moveWanted ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _moverSignal.Set();
            return _moveWanted.Task;
        }
    }

    /// <returns>False when the store stops before the move could be made (the next start makes it).</returns>
    private bool MoveLogWithRetries()
    {
        for (var pause = TimeSpan.FromMilliseconds(100); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                MoveLog();
                return true;
            }
            catch (Exception e)
            {
                // The log stays as it is and reads still see it; the next attempt moves it.
                _logger.LogError(e, "The journal could not move its log to the history; trying again in {Pause} ms", (int)pause.TotalMilliseconds);
                if (_stopping) return false;
                Thread.Sleep(pause);
            }
        }
    }

    /// <summary>
    /// Checkpoints both write-ahead logs into their database files on a thread of its own, so that the writer and the
    /// mover seldom pay for it (their own automatic checkpoints find the work done, and the logs start over).
    /// </summary>
    private void CheckpointLoop()
    {
        using var connection = new SqliteConnection(ConnectionString(_logFile, pooling: false));
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 5000;");
        Attach(connection, _historyFile, "history");
        while (!_moverStopped.Task.IsCompleted)
        {
            Thread.Sleep(250);
            try
            {
                Execute(connection, "PRAGMA main.wal_checkpoint(PASSIVE); PRAGMA history.wal_checkpoint(PASSIVE);");
            }
            catch (SqliteException e)
            {
                _logger.LogDebug(e, "A background checkpoint failed; the writer's and mover's own checkpoints cover it");
            }
        }
    }

    /// <summary>
    /// One move, on the mover's connection: the log's next entries, up to <see cref="MoveCycle"/> of them, into the
    /// history's <c>journal</c> (those no snapshot covers), their chronicle records into <c>chronicle</c>, the latest index
    /// row of each incident and wake of each stream into the projections. It reads the log without locking it, so flushes
    /// go on meanwhile; once it is committed and synced, the writer drops the rows from the log. A crash before that moves
    /// them again at the next start: the same rows, or with later ones, to the same outcome.
    /// </summary>
    private void MoveLog()
    {
        long start, end;
        lock (_logLock) (start, end) = (_movedUpTo, Math.Min(_loggedUpTo, _movedUpTo + MoveCycle));
        // Deferred: the move writes the history only; the log's file it reads, as a reader would.
        using (var transaction = _mover.BeginTransaction(deferred: true))
        using (var command = _mover.CreateCommand())
        {
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$start", start);
            command.Parameters.AddWithValue("$end", end);
            // OR IGNORE: after a crash between a move and the log's drop of its rows, a start moves them again.
            command.CommandText = """
                INSERT OR IGNORE INTO main.journal (stream, seq, payload)
                    SELECT l.stream, l.seq, l.payload FROM log.journal_log l
                    WHERE l.id > $start AND l.id <= $end AND l.payload IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM log.snapshots s WHERE s.stream = l.stream AND s.seq >= l.seq);
                INSERT OR IGNORE INTO main.chronicle (stream, seq, payload)
                    SELECT stream, chronicle_seq, chronicle FROM log.journal_log WHERE id > $start AND id <= $end AND chronicle IS NOT NULL;
                """;
            command.ExecuteNonQuery();
            var (index, wakes) = JournalProjections.Of(LoggedProjections(command));
            var c = _historyCommands;
            foreach (var (account, summary, counts) in index)
            {
                if (summary.Summary is { } bytes)
                    c.PutIndex.Text(1, account).Text(2, counts.Incident).Integer(3, counts.Version).Integer(4, counts.Open ? 1 : 0)
                        .Integer(5, counts.OpenedAt.UtcTicks).Blob(6, bytes).Integer(7, counts.Alerts).Integer(8, counts.Firing).Integer(9, counts.Nodes).Execute();
                else
                    c.PutIndexCounts.Text(1, account).Text(2, counts.Incident).Integer(3, counts.Version).Integer(4, counts.Open ? 1 : 0)
                        .Integer(5, counts.Alerts).Integer(6, counts.Firing).Integer(7, counts.Nodes).Execute();
            }
            foreach (var wake in wakes)
            {
                if (wake.At is { } at) c.PutWake.Text(1, wake.Stream).Text(2, wake.Account).Integer(3, at.UtcTicks).Execute();
                else c.ClearWake.Text(1, wake.Stream).Execute();
            }
            _crashPoint?.Reach(CrashPoint.DuringMove);
            transaction.Commit();
        }
        _crashPoint?.Reach(CrashPoint.AfterMove);
        Moved(end);
    }

    /// <summary>The projections the log's entries of the move under way carry, in log order.</summary>
    private static IEnumerable<JournalEntry> LoggedProjections(SqliteCommand command)
    {
        command.CommandText = """
            SELECT stream, account, seq, incident, index_version, index_open, index_opened_ticks, index_summary, index_alerts, index_firing,
                index_nodes, wake_set, wake_ticks
            FROM log.journal_log WHERE id > $start AND id <= $end AND (incident IS NOT NULL OR wake_set = 1) ORDER BY id
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var stream = reader.GetString(0);
            var account = reader.GetString(1);
            yield return new JournalEntry
            {
                Stream = stream,
                Account = account,
                Seq = reader.GetInt64(2),
                Index = reader.IsDBNull(3) ? null : new IndexRow(reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5) != 0,
                    new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero), reader.IsDBNull(7) ? null : (byte[])reader[7],
                    reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10)),
                Wake = reader.GetInt64(11) == 0 ? null
                    : new StreamWake(stream, account, reader.IsDBNull(12) ? null : new DateTimeOffset(reader.GetInt64(12), TimeSpan.Zero)),
            };
        }
    }

    /// <summary>The log's rows up to <paramref name="end"/> are in the history: loads read them there, and the writer may drop them.</summary>
    private void Moved(long end)
    {
        TaskCompletionSource? wanted = null;
        lock (_logLock)
        {
            _movedUpTo = end;
            while (_logOrder.TryPeek(out var row) && row.Id <= end)
            {
                _logOrder.Dequeue();
                var rows = _logRows[row.Stream];
                rows.Dequeue();
                if (rows.Count == 0) _logRows.Remove(row.Stream);
            }
            // The next move waits until the log holds a whole one again (or MoveEvery, or a reader that waits for it):
            // started at once on what came in meanwhile, moves would shrink under load and write each index page for fewer rows.
            _lastMove = _time.GetTimestamp();
            if (_moveWanted is not null && end >= _moveWantedUpTo)
            {
                wanted = _moveWanted;
                _moveWanted = null;
            }
        }
        wanted?.TrySetResult();
    }

    /// <summary>Drops the log's rows the history holds, at a start or a stop (when no writer thread runs).</summary>
    private void DropMovedFromLog()
    {
        if (MovedRowsInLog() is null) return;
        using var transaction = _writer.BeginTransaction();
        _logCommands.DropMoved.Integer(1, _movedUpTo).Execute();
        transaction.Commit();
        _droppedFromLogUpTo = _movedUpTo;
    }

    /// <summary>
    /// Each stream's entries in <c>journal</c> that a committed snapshot covers, to drop in the next sweep (added by the
    /// writer, dropped by the mover). Loads read only the entries after a stream's snapshot, so covered entries are dead
    /// weight, not wrong.
    /// </summary>
    private readonly Dictionary<string, long> _covered = new(StringComparer.Ordinal);
    private long _lastDrop;
    /// <summary>
    /// How often covered entries are dropped, or at how many streams: a stream's entries lie on pages shared with other
    /// streams' (they were moved in log order), so dropping them stream by stream, snapshot by snapshot, wrote the same
    /// pages again and again (measured: most of what the writer's work grew by when a storm's incidents snapshot).
    /// </summary>
    private static readonly TimeSpan DropEvery = TimeSpan.FromSeconds(5);
    private const int DropAtStreams = 2_000;

    private bool DropDue()
    {
        lock (_logLock) return _covered.Count > 0 && (_covered.Count >= DropAtStreams || _time.GetElapsedTime(_lastDrop) >= DropEvery);
    }

    /// <summary>
    /// Drops what snapshots cover from <c>journal</c>, in one unsynced transaction on the mover's connection (lost to a
    /// crash, the entries stay covered and go with the stream's next snapshot). A failure leaves them for the next sweep.
    /// </summary>
    private void DropCovered()
    {
        List<KeyValuePair<string, long>> covered;
        lock (_logLock)
        {
            covered = [.. _covered];
            _lastDrop = _time.GetTimestamp();
        }
        if (covered.Count == 0) return;
        try
        {
            WithoutSync(() =>
            {
                using var transaction = _mover.BeginTransaction();
                foreach (var (stream, seq) in covered) _historyCommands.Truncate.Text(1, stream).Integer(2, seq).Execute();
                _crashPoint?.Reach(CrashPoint.DuringTruncation);
                transaction.Commit();
            });
            lock (_logLock)
                foreach (var (stream, seq) in covered)
                    if (_covered.GetValueOrDefault(stream) == seq) _covered.Remove(stream);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "The journal could not drop the entries its snapshots cover; the next sweep tries again");
        }
    }

    /// <summary>Runs <paramref name="work"/> on the mover's connection with commits that are not synced by themselves (the next move's sync covers them).</summary>
    private void WithoutSync(Action work)
    {
        Execute(_mover, "PRAGMA synchronous = NORMAL;");
        try
        {
            work();
        }
        finally
        {
            Execute(_mover, "PRAGMA synchronous = FULL;");
        }
    }

    private static string Synchronous(SqliteDurability durability) => durability == SqliteDurability.Full ? "FULL" : "NORMAL";

    /// <summary>
    /// Commits the batch until it is durable (its entries are never dropped). Grain-state writes fail with the
    /// transaction instead; their grains read again what storage holds.
    /// </summary>
    private void CommitWithRetries(JournalBatch? batch, List<PendingWrite> writes) =>
        _journal.CommitUntilDurable(batch,
            () =>
            {
                Commit(batch, writes);
                foreach (var write in writes) write.Complete();
            },
            e => e is SqliteException { SqliteErrorCode: 19 /* SQLITE_CONSTRAINT */ },
            _logger,
            e =>
            {
                foreach (var write in writes) write.Fail(e);
                writes = [];
            });

    private void Commit(JournalBatch? batch, List<PendingWrite> writes)
    {
        var firstId = _nextLogId;
        var moved = MovedRowsInLog();
        using (var transaction = _writer.BeginTransaction())
        {
            if (moved is { } upTo) _logCommands.DropMoved.Integer(1, upTo).Execute();
            if (batch is not null) WriteJournal(batch);
            foreach (var pending in writes)
            {
                transaction.Save("write");
                if (pending.Execute(_writer, transaction)) transaction.Release("write");
                else transaction.Rollback("write");
            }
            if (batch is not null) _crashPoint?.Reach(CrashPoint.BeforeCommit);
            transaction.Commit();
            if (batch is not null) _crashPoint?.Reach(CrashPoint.AfterCommit);
        }
        if (moved is { } dropped) _droppedFromLogUpTo = dropped;
        if (batch is null) return;
        lock (_logLock)
        {
            var id = firstId;
            foreach (var entry in batch.Entries)
            {
                if (entry.Snapshot is not null && !(_covered.GetValueOrDefault(entry.Stream) >= entry.Seq)) _covered[entry.Stream] = entry.Seq;
                if (entry.Payload.Length > 0 && entry.Snapshot is null || entry.Chronicle is not null)
                {
                    if (!_logRows.TryGetValue(entry.Stream, out var rows)) _logRows[entry.Stream] = rows = new Queue<long>();
                    rows.Enqueue(id);
                    _logOrder.Enqueue((id, entry.Stream));
                }
                id++;
            }
            _loggedUpTo = _nextLogId - 1;
            if (_loggedUpTo - _movedUpTo >= MoveCycle) _moverSignal.Set();
        }
    }

    /// <summary>
    /// The batch's entries, in order, onto the log (snapshots straight into their table, which loads read first), through
    /// the writer's own statements inside the transaction its connection has open.
    /// </summary>
    private void WriteJournal(JournalBatch batch)
    {
        var c = _logCommands;
        var snapshots = 0;
        var id = _nextLogId;
        foreach (var entry in batch.Entries)
        {
            if (entry.Snapshot is { } snapshot)
            {
                c.PutSnapshot.Text(1, entry.Stream).Integer(2, entry.Seq).Blob(3, snapshot).Execute();
                _crashPoint?.Reach(CrashPoint.DuringSnapshot);
                snapshots++;
            }
            var index = entry.Index;
            c.Log.Integer(1, id++).Text(2, entry.Stream).Text(3, entry.Account).Integer(4, entry.Seq)
                .Blob(5, entry.Snapshot is null && entry.Payload.Length > 0 ? entry.Payload : null)
                .Integer(6, entry.Chronicle?.Seq).Blob(7, entry.Chronicle?.Payload)
                .Text(8, index?.Incident).Integer(9, index?.Version).Integer(10, index is null ? null : index.Open ? 1 : 0)
                .Integer(11, index?.OpenedAt.UtcTicks).Blob(12, index?.Summary)
                .Integer(13, index?.Alerts).Integer(14, index?.Firing).Integer(15, index?.Nodes)
                .Integer(16, entry.Wake is null ? 0 : 1).Integer(17, entry.Wake?.At?.UtcTicks)
                .Execute();
        }
        _nextLogId = id;
        JournalMetrics.Snapshotted(snapshots);
    }

    /// <summary>The writer's statements on the log's file, prepared once and bound again for every row.</summary>
    private sealed class LogCommands(SqliteConnection connection) : IDisposable
    {
        public readonly WriterStatement Log = new(connection, """
            INSERT INTO journal_log (id, stream, account, seq, payload, chronicle_seq, chronicle, incident, index_version, index_open,
                index_opened_ticks, index_summary, index_alerts, index_firing, index_nodes, wake_set, wake_ticks)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            """);
        public readonly WriterStatement PutSnapshot = new(connection,
            "INSERT INTO snapshots (stream, seq, payload) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, payload = excluded.payload");
        public readonly WriterStatement DropMoved = new(connection, "DELETE FROM journal_log WHERE id <= ?1");

        public void Dispose()
        {
            Log.Dispose();
            PutSnapshot.Dispose();
            DropMoved.Dispose();
        }
    }

    /// <summary>The mover's statements on the history's file.</summary>
    private sealed class HistoryCommands(SqliteConnection connection) : IDisposable
    {
        public readonly WriterStatement Truncate = new(connection, "DELETE FROM main.journal WHERE stream = ?1 AND seq <= ?2");
        public readonly WriterStatement PutIndex = new(connection, """
            INSERT INTO main.incident_index (account, incident, version, open, opened_ticks, summary, alert_count, firing_count, node_count)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                ON CONFLICT (account, incident) DO UPDATE SET version = excluded.version, open = excluded.open, opened_ticks = excluded.opened_ticks,
                    summary = excluded.summary, alert_count = excluded.alert_count, firing_count = excluded.firing_count, node_count = excluded.node_count
                WHERE excluded.version >= incident_index.version
            """);
        public readonly WriterStatement PutIndexCounts = new(connection, """
            UPDATE main.incident_index SET version = ?3, open = ?4, alert_count = ?5, firing_count = ?6, node_count = ?7
                WHERE account = ?1 AND incident = ?2 AND ?3 >= version
            """);
        public readonly WriterStatement PutWake = new(connection,
            "INSERT INTO main.wakes (stream, account, at_ticks) VALUES (?1, ?2, ?3) ON CONFLICT (stream) DO UPDATE SET at_ticks = excluded.at_ticks");
        public readonly WriterStatement ClearWake = new(connection, "DELETE FROM main.wakes WHERE stream = ?1");

        public void Dispose()
        {
            Truncate.Dispose();
            PutIndex.Dispose();
            PutIndexCounts.Dispose();
            PutWake.Dispose();
            ClearWake.Dispose();
        }
    }

    public async Task<StreamHistory> LoadAsync(string stream, CancellationToken cancellationToken = default)
    {
        await _journal.Pending(stream).WaitAsync(cancellationToken);
        var logged = LoggedRows(stream);
        // The log first, then the history: a row gone from the log by then was moved before, and the history shows it.
        var (snapshotSeq, snapshot, entries) = await ReadAsync(async connection =>
        {
            // One read transaction: the snapshot and the log's rows as of one moment.
            // Deferred: a reader must never take the write lock (Microsoft.Data.Sqlite begins IMMEDIATE transactions by default).
            await using var transaction = connection.BeginTransaction(deferred: true);
            long snapshotSeq = 0;
            byte[]? snapshot = null;
            await using (var command = Command(connection, transaction, "SELECT seq, payload FROM snapshots WHERE stream = $stream", ("$stream", stream)))
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken)) (snapshotSeq, snapshot) = (reader.GetInt64(0), (byte[])reader[1]);
            }
            return (snapshotSeq, snapshot, await LoggedAsync(connection, transaction, logged, "seq", "payload", snapshotSeq, cancellationToken));
        });
        entries.AddRange(await ReadHistoryAsync(connection => RecordsAsync(connection, "journal", "seq", stream, snapshotSeq, int.MaxValue, cancellationToken)));
        return new StreamHistory(snapshotSeq, snapshot, entries.OrderBy(e => e.Seq).DistinctBy(e => e.Seq).ToList());
    }

    public async Task<IReadOnlyList<JournalRecord>> ReadChronicleAsync(string stream, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await _journal.Pending(stream).WaitAsync(cancellationToken);
        var logged = LoggedRows(stream);
        // The log first, then the history, as loads read.
        var records = logged.Length == 0 ? [] : await ReadAsync(async connection =>
        {
            await using var transaction = connection.BeginTransaction(deferred: true);
            return await LoggedAsync(connection, transaction, logged, "chronicle_seq", "chronicle", afterSeq, cancellationToken);
        });
        records.AddRange(await ReadHistoryAsync(connection => RecordsAsync(connection, "chronicle", "seq", stream, afterSeq, limit, cancellationToken)));
        return records.OrderBy(r => r.Seq).DistinctBy(r => r.Seq).Take(limit).ToList();
    }

    /// <summary>The log's rows of <paramref name="stream"/> as this moment knows them (a move after it finds them in the tables).</summary>
    private long[] LoggedRows(string stream)
    {
        lock (_logLock) return _logRows.TryGetValue(stream, out var rows) ? [.. rows] : [];
    }

    private static async Task<List<JournalRecord>> RecordsAsync(SqliteConnection connection,
        string table, string seqColumn, string stream, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null,
            $"SELECT {seqColumn}, payload FROM {table} WHERE stream = $stream AND {seqColumn} > $after ORDER BY {seqColumn} LIMIT $limit",
            ("$stream", stream), ("$after", afterSeq), ("$limit", limit));
        return await ReadRecordsAsync(command, cancellationToken);
    }

    private static async Task<List<JournalRecord>> LoggedAsync(SqliteConnection connection, SqliteTransaction transaction,
        long[] ids, string seqColumn, string payloadColumn, long afterSeq, CancellationToken cancellationToken)
    {
        if (ids.Length == 0) return [];
        await using var command = Command(connection, transaction,
            $"SELECT {seqColumn}, {payloadColumn} FROM journal_log WHERE id IN ({string.Join(',', ids)}) AND {payloadColumn} IS NOT NULL AND {seqColumn} > $after",
            ("$after", afterSeq));
        return await ReadRecordsAsync(command, cancellationToken);
    }

    private static async Task<List<JournalRecord>> ReadRecordsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var records = new List<JournalRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) records.Add(new JournalRecord(reader.GetInt64(0), (byte[])reader[1]));
        return records;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    public async Task<IReadOnlyList<IndexedIncident>> ReadIndexAsync(string account, CancellationToken cancellationToken = default)
    {
        await _journal.Everything().WaitAsync(cancellationToken);
        await MoveLogSoon().WaitAsync(cancellationToken);
        return await ReadHistoryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT summary, version, alert_count, firing_count, node_count FROM incident_index WHERE account = $account";
            command.Parameters.AddWithValue("$account", account);
            var rows = new List<IndexedIncident>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                rows.Add(new IndexedIncident((byte[])reader[0], reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4)));
            return (IReadOnlyList<IndexedIncident>)rows;
        });
    }

    public async Task<IReadOnlyList<StreamWake>> DueWakesAsync(DateTimeOffset until, StreamWake? after, int limit, CancellationToken cancellationToken = default)
    {
        await MoveLogSoon().WaitAsync(cancellationToken);
        return await ReadHistoryAsync(async connection =>
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
    }

    /// <summary>Runs <paramref name="work"/> on a pooled connection to the log's file (the log, snapshots, grain states, reminders).</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> work) => ReadAsync(_connectionString, work);

    /// <summary>Runs <paramref name="work"/> on a pooled connection to the history's file.</summary>
    private Task<T> ReadHistoryAsync<T>(Func<SqliteConnection, Task<T>> work) => ReadAsync(_historyConnectionString, work);

    private static async Task<T> ReadAsync<T>(string connectionString, Func<SqliteConnection, Task<T>> work)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        return await work(connection);
    }

    /// <summary>For hosts disposed synchronously: waits for the queue to drain as <see cref="DisposeAsync"/> does.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private readonly Lock _disposeLock = new();
    private Task? _disposed;

    /// <summary>Closes the store once, whoever asks and however often (a host and a test may both dispose it).</summary>
    public ValueTask DisposeAsync()
    {
        lock (_disposeLock) return new ValueTask(_disposed ??= CloseAsync());
    }

    private async Task CloseAsync()
    {
        // What is queued is written before the file closes: a clean stop loses nothing.
        _journal.Close();
        var clock = Stopwatch.StartNew();
        await _stopped.Task;
        // Then the mover moves what is left, and the log drops it: the next start has nothing to move.
        _stopping = true;
        _moverSignal.Set();
        await _moverStopped.Task;
        DropMovedFromLog();
        _logger.LogDebug("The journal closed in {Elapsed} ms", clock.ElapsedMilliseconds);
        lock (_writesLock)
            foreach (var write in _writes) write.Fail(new ObjectDisposedException(nameof(SqliteStore)));
        _logCommands.Dispose();
        _historyCommands.Dispose();
        await _writer.DisposeAsync();
        await _mover.DisposeAsync();
        _moverSignal.Dispose();
        await _folderLock.DisposeAsync();
    }

    /// <summary>Makes <paramref name="file"/> readable on <paramref name="connection"/> as <paramref name="alias"/>.</summary>
    private static void Attach(SqliteConnection connection, string file, string alias)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"ATTACH DATABASE $path AS {alias}";
        command.Parameters.AddWithValue("$path", file);
        command.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
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
