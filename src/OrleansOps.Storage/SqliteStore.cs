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
/// <para>
/// A flush appends its entries to <c>journal_log</c> in arrival order, so that it writes about as many bytes as it
/// holds. Stored by stream, each entry would dirty a page of its own stream in every table it touches: with a storm's
/// eighty incidents each changed per request, that was five times the bytes and most of the writer's time. Every
/// couple of seconds the writer moves the log into the tables read by stream (<c>journal</c>, <c>chronicle</c>, the
/// incident index and the wake index) in one transaction, where a stream's page is written once for all its entries
/// meanwhile. Reads see both: the log's rows of a stream are known in memory until they are moved.
/// </para>
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
    private readonly TimeProvider _time;
    private readonly JournalQueue _journal;
    private readonly Lock _writesLock = new();
    private List<PendingWrite> _writes = [];
    private readonly Thread _writeLoop;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WriterCommands _commands;
    /// <summary>How long entries stay in the log before they are moved to the tables read by stream (and how often the writer looks).</summary>
    private static readonly TimeSpan MoveEvery = TimeSpan.FromSeconds(2);
    /// <summary>
    /// About how many entries one slice of a move takes: a slice is a transaction that holds the writer (a flush waits
    /// for it, about 15 ms at 500) and takes a core, so moves come in a steady trickle rather than in bursts that would
    /// leave the grains one core for a second.
    /// </summary>
    private const int MoveChunk = 500;
    /// <summary>
    /// How many entries the log holds before the writer moves them, and the most one move takes, in slices of about
    /// <see cref="MoveChunk"/> by stream name. Every page of the indexes by stream that a move touches is written whole to
    /// the write-ahead log, and a move in log order touches nearly all of them (its entries come from every active
    /// stream); a slice of a range of stream names touches only that range's pages, so each page is written about once per
    /// move instead of once per 500 entries (measured: half the writer's bytes on batches of new alerts).
    /// </summary>
    private const int MoveCycle = 8 * MoveChunk;
    /// <summary>The move under way: the log's entries up to its end, moved slice by slice (null between moves).</summary>
    private LogMove? _move;
    private readonly SqliteDurability _durability;
    /// <summary>The log's rows of each stream not moved yet (written by the writer after each commit, read by loads).</summary>
    private readonly Dictionary<string, List<long>> _logRows = new(StringComparer.Ordinal);
    private readonly Lock _logLock = new();
    private long _nextLogId;
    /// <summary>The last log entry moved (the log holds those after it).</summary>
    private long _movedUpTo;
    private readonly CrashPoint? _crashPoint = CrashPoint.FromEnvironment();
    /// <summary>The last log entry readers of the projections wait to see moved.</summary>
    private long _moveWantedUpTo;
    private long _lastMove;
    /// <summary>Readers of the projections waiting for the log to be moved.</summary>
    private TaskCompletionSource? _moveWanted;

    public SqliteStore(string dataPath, SqliteDurability durability = SqliteDurability.Full, ILogger<SqliteStore>? logger = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _journal = new JournalQueue(_time);
        _lastMove = _lastDrop = _time.GetTimestamp();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        DataPath = Path.GetFullPath(dataPath);
        Directory.CreateDirectory(DataPath);
        _folderLock = LockFolder(DataPath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(DataPath, FileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        _durability = durability;
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        // 16 KB pages for a new folder (an existing one keeps its own): every page a commit touches is two writes to the
        // log, and a storm's flushes and moves touch a few hundred; with 4 KB pages the writer spent more time in those
        // system calls than in SQLite (measured: 160,000 writes in 3 s, 86,000 with 16 KB; 64 KB halves them again but
        // makes every one-alert commit write a 64 KB page).
        Execute(_writer, $"""
            PRAGMA page_size = 16384;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = {Synchronous(durability)};
            PRAGMA busy_timeout = 30000;
            PRAGMA wal_autocheckpoint = 4000;
            PRAGMA cache_size = -65536;
            """);
        Migrate(_writer);
        _commands = new WriterCommands(_writer);
        _nextLogId = Scalar(_writer, "SELECT coalesce(max(id), 0) FROM journal_log") + 1;
        _movedUpTo = Scalar(_writer, "SELECT coalesce(min(id), 1) FROM journal_log") - 1;
        while (_movedUpTo < _nextLogId - 1) MoveLog(); // whatever the last run left in the log
        new Thread(CheckpointLoop) { IsBackground = true, Name = "orleansops-sqlite-checkpoints" }.Start();
        _writeLoop = new Thread(WriteLoop) { IsBackground = true, Name = "orleansops-sqlite-writer" };
        _writeLoop.Start();
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
            CREATE TABLE IF NOT EXISTS journal (
                stream TEXT NOT NULL,
                seq INTEGER NOT NULL,
                payload BLOB NOT NULL,
                UNIQUE (stream, seq)
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
                var batch = _journal.Take(MovePending() || _dropping ? TimeSpan.Zero : MoveEvery);
                List<PendingWrite> writes;
                lock (_writesLock)
                {
                    writes = _writes;
                    _writes = [];
                }
                if (batch is not null || writes.Count > 0) CommitWithRetries(batch, writes);
                var drained = batch is null && writes.Count == 0 && _journal.Drained;
                if (drained)
                {
                    while (_movedUpTo < _nextLogId - 1) MoveLogWithRetries();
                    while (_covered.Count > 0 && DropCovered()) { }
                    break;
                }
                if (MoveDue()) MoveLogWithRetries();
                if (DropDue()) DropCovered();
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <summary>A move is under way: the writer alternates chunks of it with flushes until it is done.</summary>
    private bool MovePending()
    {
        lock (_logLock) return _moving || _moveWanted is not null;
    }

    private bool _moving;

    private bool MoveDue()
    {
        lock (_logLock)
        {
            var logged = _nextLogId - 1 - _movedUpTo;
            if (logged == 0) return _moving = false;
            return _moving = _moving || _moveWanted is not null || logged >= MoveCycle || _time.GetElapsedTime(_lastMove) >= MoveEvery;
        }
    }

    /// <summary>Moves the log into the tables read by stream now (for readers of the projections); completes when it has.</summary>
    private Task MoveLogSoon()
    {
        lock (_logLock)
        {
            if (_nextLogId - 1 <= _movedUpTo) return Task.CompletedTask;
            _moveWantedUpTo = Math.Max(_moveWantedUpTo, _nextLogId - 1);
            _moveWanted ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _journal.Nudge();
            return _moveWanted.Task;
        }
    }

    private void MoveLogWithRetries()
    {
        for (var pause = TimeSpan.FromMilliseconds(100); ; pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                MoveLog();
                return;
            }
            catch (Exception e)
            {
                // The log stays as it is and reads still see it; the next attempt moves it.
                _logger.LogError(e, "The journal could not move its log to the tables read by stream; trying again in {Pause} ms", (int)pause.TotalMilliseconds);
                if (_journal.Closed) return;
                Thread.Sleep(pause);
            }
        }
    }

    /// <summary>
    /// Checkpoints the write-ahead log into the database file on a thread of its own, so that the writer seldom pays for
    /// it (its own automatic checkpoint finds the work done, and the log starts over).
    /// </summary>
    private void CheckpointLoop()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 5000;");
        while (!_stopped.Task.IsCompleted)
        {
            Thread.Sleep(250);
            try
            {
                Execute(connection, "PRAGMA wal_checkpoint(PASSIVE);");
            }
            catch (SqliteException e)
            {
                _logger.LogDebug(e, "A background checkpoint failed; the writer's own checkpoint covers it");
            }
        }
    }

    /// <summary>
    /// One slice of the move under way (planned when none is): the log's entries of a range of stream names into
    /// <c>journal</c> (those no snapshot covers), their chronicle records into <c>chronicle</c>, the latest index row of
    /// each incident and wake of each stream into the projections. The last slice also empties the log up to the move's
    /// end; until then the moved rows stay in it, and a start after a crash moves them again (the same rows, so the same
    /// outcome).
    /// </summary>
    private void MoveLog()
    {
        var move = _move ??= PlanMove();
        var (from, to) = move.Slice;
        // A slice needs no sync of its own: what it moves is durable in the log already, and the slice is atomic. Lost to
        // a power failure, it is lost whole and done again from the log at the next start; otherwise the next flush's
        // sync covers it, as the write-ahead log is synced in order.
        WithoutSync(() => MoveLogSlice(move.End, from, to, emptyLog: move.Last));
        _crashPoint?.Reach(CrashPoint.AfterMove);
        ForgetLogged(move.End, move.Streams);
        if (!move.Last)
        {
            move.Next();
            return;
        }
        _move = null;
        AfterMove(move.End);
    }

    /// <summary>
    /// The next move: the log's entries up to <see cref="MoveCycle"/> of them, cut by stream name into slices of about
    /// <see cref="MoveChunk"/> (a stream's entries all in one slice, so each projection still takes its latest row).
    /// </summary>
    private LogMove PlanMove()
    {
        lock (_logLock)
        {
            var end = Math.Min(_nextLogId - 1, _movedUpTo + MoveCycle);
            var slices = new List<List<string>> { new() };
            var inSlice = 0;
            foreach (var (stream, count) in _logRows
                         .Select(r => (Stream: r.Key, Count: r.Value.Count(id => id <= end)))
                         .Where(r => r.Count > 0)
                         .OrderBy(r => System.Text.Encoding.UTF8.GetBytes(r.Stream), Utf8Order.Instance))
            {
                if (inSlice >= MoveChunk)
                {
                    slices.Add([]);
                    inSlice = 0;
                }
                slices[^1].Add(stream);
                inSlice += count;
            }
            return new LogMove(end, slices);
        }
    }

    /// <summary>
    /// A move of the log's entries up to <paramref name="end"/>, slice by slice: <paramref name="slices"/> holds each
    /// slice's streams that the writer remembers log rows of, in order. A slice runs from its first stream's name to the
    /// next slice's (the first from the lowest name, the last to the highest), so that every row falls in exactly one.
    /// </summary>
    private sealed class LogMove(long end, IReadOnlyList<IReadOnlyList<string>> slices)
    {
        private int _slice;

        public long End => end;

        public bool Last => _slice == slices.Count - 1;

        public (string? From, string? To) Slice => (_slice == 0 ? null : slices[_slice][0], Last ? null : slices[_slice + 1][0]);

        public IReadOnlyList<string> Streams => slices[_slice];

        public void Next() => _slice++;
    }

    /// <summary>Stream names in UTF-8 as SQLite orders text (its binary collation compares the bytes), for slices it agrees with.</summary>
    private sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    /// <summary>A slice is moved: loads find its streams' entries up to <paramref name="end"/> in the tables now.</summary>
    private void ForgetLogged(long end, IReadOnlyList<string> streams)
    {
        lock (_logLock)
            foreach (var stream in streams)
            {
                if (!_logRows.TryGetValue(stream, out var rows)) continue;
                rows.RemoveAll(id => id <= end);
                if (rows.Count == 0) _logRows.Remove(stream);
            }
    }

    /// <summary>Runs <paramref name="work"/> with commits that are not synced to disk by themselves (the next flush's sync covers them).</summary>
    private void WithoutSync(Action work)
    {
        Execute(_writer, "PRAGMA synchronous = NORMAL;");
        try
        {
            work();
        }
        finally
        {
            Execute(_writer, $"PRAGMA synchronous = {Synchronous(_durability)};");
        }
    }

    /// <summary>
    /// Each stream's entries in <c>journal</c> that a committed snapshot covers, to drop in the next sweep (the writer's
    /// alone). Loads read only the entries after a stream's snapshot, so covered entries are dead weight, not wrong.
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
    /// <summary>The most streams one sweep's transaction takes: sweeps alternate with flushes, as moves do.</summary>
    private const int DropChunk = 64;
    /// <summary>A sweep is under way: the writer alternates its chunks with flushes until nothing covered is left.</summary>
    private bool _dropping;

    private bool DropDue() =>
        _dropping = _covered.Count > 0 && (_dropping || _covered.Count >= DropAtStreams || _time.GetElapsedTime(_lastDrop) >= DropEvery);

    /// <summary>
    /// Drops what snapshots cover from <c>journal</c> for up to <see cref="DropChunk"/> streams, in one unsynced
    /// transaction (lost to a crash, the entries stay covered and go with the stream's next snapshot). A failure leaves
    /// them for the next sweep.
    /// </summary>
    private bool DropCovered()
    {
        var chunk = _covered.Take(DropChunk).ToList();
        try
        {
            WithoutSync(() =>
            {
                using var transaction = _writer.BeginTransaction();
                foreach (var (stream, seq) in chunk) _commands.Truncate.Text(1, stream).Integer(2, seq).Execute();
                _crashPoint?.Reach(CrashPoint.DuringTruncation);
                transaction.Commit();
            });
            foreach (var (stream, _) in chunk) _covered.Remove(stream);
            if (_covered.Count == 0) (_dropping, _lastDrop) = (false, _time.GetTimestamp());
            return true;
        }
        catch (Exception e)
        {
            (_dropping, _lastDrop) = (false, _time.GetTimestamp());
            _logger.LogWarning(e, "The journal could not drop the entries its snapshots cover; the next sweep tries again");
            return false;
        }
    }

    private static string Synchronous(SqliteDurability durability) => durability == SqliteDurability.Full ? "FULL" : "NORMAL";

    private void MoveLogSlice(long end, string? from, string? to, bool emptyLog)
    {
        using var transaction = _writer.BeginTransaction();
        using (var command = _writer.CreateCommand())
        {
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$start", _movedUpTo);
            command.Parameters.AddWithValue("$end", end);
            command.Parameters.AddWithValue("$from", (object?)from ?? DBNull.Value);
            command.Parameters.AddWithValue("$to", (object?)to ?? DBNull.Value);
            // OR IGNORE: after a crash between slices, a start moves the slices done already again.
            command.CommandText = $"""
                INSERT OR IGNORE INTO journal (stream, seq, payload)
                    SELECT l.stream, l.seq, l.payload FROM journal_log l
                    WHERE {InMove("l.")} AND l.payload IS NOT NULL AND NOT EXISTS (SELECT 1 FROM snapshots s WHERE s.stream = l.stream AND s.seq >= l.seq);
                INSERT OR IGNORE INTO chronicle (stream, seq, payload)
                    SELECT stream, chronicle_seq, chronicle FROM journal_log WHERE {InMove("")} AND chronicle IS NOT NULL;
                """;
            command.ExecuteNonQuery();
            var (index, wakes) = JournalProjections.Of(LoggedProjections(command));
            var c = _commands;
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
            if (emptyLog)
            {
                command.CommandText = "DELETE FROM journal_log WHERE id <= $end";
                command.ExecuteNonQuery();
            }
        }
        _crashPoint?.Reach(CrashPoint.DuringMove);
        transaction.Commit();
    }

    /// <summary>The log's rows of the slice under way, with <paramref name="alias"/> before each column (the command binds the slice).</summary>
    private static string InMove(string alias) =>
        $"{alias}id > $start AND {alias}id <= $end AND ($from IS NULL OR {alias}stream >= $from) AND ($to IS NULL OR {alias}stream < $to)";

    /// <summary>The projections the log's entries of the slice under way carry, in log order.</summary>
    private static IEnumerable<JournalEntry> LoggedProjections(SqliteCommand command)
    {
        command.CommandText = $"""
            SELECT stream, account, seq, incident, index_version, index_open, index_opened_ticks, index_summary, index_alerts, index_firing,
                index_nodes, wake_set, wake_ticks
            FROM journal_log WHERE {InMove("")} AND (incident IS NOT NULL OR wake_set = 1) ORDER BY id
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

    private void AfterMove(long end)
    {
        TaskCompletionSource? wanted = null;
        lock (_logLock)
        {
            _movedUpTo = end; // every stream with rows up to the end was in a slice, and each slice forgot its own
            // The next move waits until the log holds a whole one again (or MoveEvery, or a reader that waits for it):
            // started at once on what came in meanwhile, moves would shrink under load and write each index page for fewer rows.
            _lastMove = _time.GetTimestamp();
            _moving = false;
            if (_moveWanted is not null && end >= _moveWantedUpTo)
            {
                wanted = _moveWanted;
                _moveWanted = null;
            }
        }
        wanted?.TrySetResult();
    }

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
        using (var transaction = _writer.BeginTransaction())
        {
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
        if (batch is null) return;
        foreach (var entry in batch.Entries)
            if (entry.Snapshot is not null && !(_covered.GetValueOrDefault(entry.Stream) >= entry.Seq)) _covered[entry.Stream] = entry.Seq;
        lock (_logLock)
        {
            var id = firstId;
            foreach (var entry in batch.Entries)
            {
                if (entry.Payload.Length > 0 && entry.Snapshot is null || entry.Chronicle is not null)
                {
                    if (!_logRows.TryGetValue(entry.Stream, out var rows)) _logRows[entry.Stream] = rows = [];
                    rows.Add(id);
                }
                id++;
            }
        }
    }

    /// <summary>
    /// The batch's entries, in order, onto the log (snapshots straight into their table, which loads read first), through
    /// the writer's own statements inside the transaction its connection has open.
    /// </summary>
    private void WriteJournal(JournalBatch batch)
    {
        var c = _commands;
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

    /// <summary>The writer's statements, prepared once and bound again for every row.</summary>
    private sealed class WriterCommands(SqliteConnection connection) : IDisposable
    {
        public readonly WriterStatement Log = new(connection, """
            INSERT INTO journal_log (id, stream, account, seq, payload, chronicle_seq, chronicle, incident, index_version, index_open,
                index_opened_ticks, index_summary, index_alerts, index_firing, index_nodes, wake_set, wake_ticks)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            """);
        public readonly WriterStatement PutSnapshot = new(connection,
            "INSERT INTO snapshots (stream, seq, payload) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, payload = excluded.payload");
        public readonly WriterStatement Truncate = new(connection, "DELETE FROM journal WHERE stream = ?1 AND seq <= ?2");
        public readonly WriterStatement PutIndex = new(connection, """
            INSERT INTO incident_index (account, incident, version, open, opened_ticks, summary, alert_count, firing_count, node_count)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                ON CONFLICT (account, incident) DO UPDATE SET version = excluded.version, open = excluded.open, opened_ticks = excluded.opened_ticks,
                    summary = excluded.summary, alert_count = excluded.alert_count, firing_count = excluded.firing_count, node_count = excluded.node_count
                WHERE excluded.version >= incident_index.version
            """);
        public readonly WriterStatement PutIndexCounts = new(connection, """
            UPDATE incident_index SET version = ?3, open = ?4, alert_count = ?5, firing_count = ?6, node_count = ?7
                WHERE account = ?1 AND incident = ?2 AND ?3 >= version
            """);
        public readonly WriterStatement PutWake = new(connection,
            "INSERT INTO wakes (stream, account, at_ticks) VALUES (?1, ?2, ?3) ON CONFLICT (stream) DO UPDATE SET at_ticks = excluded.at_ticks");
        public readonly WriterStatement ClearWake = new(connection, "DELETE FROM wakes WHERE stream = ?1");

        public void Dispose()
        {
            Log.Dispose();
            PutSnapshot.Dispose();
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
        return await ReadAsync(async connection =>
        {
            // One read transaction: a move of the log meanwhile shows either before it or after it, never half.
            // Deferred: a reader must never take the write lock (Microsoft.Data.Sqlite begins IMMEDIATE transactions by default).
            await using var transaction = connection.BeginTransaction(deferred: true);
            long snapshotSeq = 0;
            byte[]? snapshot = null;
            await using (var command = Command(connection, transaction, "SELECT seq, payload FROM snapshots WHERE stream = $stream", ("$stream", stream)))
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken)) (snapshotSeq, snapshot) = (reader.GetInt64(0), (byte[])reader[1]);
            }
            var entries = await RecordsAsync(connection, transaction, "journal", "seq", stream, snapshotSeq, int.MaxValue, cancellationToken);
            entries.AddRange(await LoggedAsync(connection, transaction, logged, "seq", "payload", snapshotSeq, cancellationToken));
            return new StreamHistory(snapshotSeq, snapshot, entries.OrderBy(e => e.Seq).DistinctBy(e => e.Seq).ToList());
        });
    }

    public async Task<IReadOnlyList<JournalRecord>> ReadChronicleAsync(string stream, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await _journal.Pending(stream).WaitAsync(cancellationToken);
        var logged = LoggedRows(stream);
        return await ReadAsync(async connection =>
        {
            // Deferred: a reader must never take the write lock (Microsoft.Data.Sqlite begins IMMEDIATE transactions by default).
            await using var transaction = connection.BeginTransaction(deferred: true);
            var records = await RecordsAsync(connection, transaction, "chronicle", "seq", stream, afterSeq, limit, cancellationToken);
            if (records.Count < limit) records.AddRange(await LoggedAsync(connection, transaction, logged, "chronicle_seq", "chronicle", afterSeq, cancellationToken));
            return (IReadOnlyList<JournalRecord>)records.OrderBy(r => r.Seq).DistinctBy(r => r.Seq).Take(limit).ToList();
        });
    }

    /// <summary>The log's rows of <paramref name="stream"/> as this moment knows them (a move after it finds them in the tables).</summary>
    private long[] LoggedRows(string stream)
    {
        lock (_logLock) return _logRows.TryGetValue(stream, out var rows) ? [.. rows] : [];
    }

    private static async Task<List<JournalRecord>> RecordsAsync(SqliteConnection connection, SqliteTransaction transaction,
        string table, string seqColumn, string stream, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
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

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
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
        return await ReadAsync(async connection =>
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
        return await ReadAsync(async connection =>
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
        _commands.Dispose();
        await _writer.DisposeAsync();
        await _folderLock.DisposeAsync();
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
