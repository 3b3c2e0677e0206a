using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using OrleansOps.Abstractions;

namespace OrleansOps.Storage;

/// <summary>
/// The account journal in PostgreSQL (deploy/postgres/0005_journal.sql): one writer per silo commits everything its
/// grains appended while the last commit was under way as one transaction, each table's rows in one statement over
/// arrays. A flush that fails (the database away) is tried again until it succeeds; requests that wait on it get 503
/// meanwhile, and nothing appended is dropped.
/// </summary>
public sealed class PostgresJournal : IJournal, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly JournalQueue _queue;
    private readonly Thread _writer;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PostgresJournal(string connectionString, ILogger<PostgresJournal>? logger = null, TimeProvider? time = null)
    {
        _queue = new JournalQueue(time);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "orleansops-journal-writer" };
        _writer.Start();
    }

    public Task Append(JournalEntry entry) => _queue.Append(entry);

    public long? FlushOf(Task appended) => _queue.FlushOf(appended);

    public Task WhenFlushed(long flush) => _queue.WhenFlushed(flush);

    public string Instance => _queue.Instance;

    private void WriteLoop()
    {
        try
        {
            while (true)
            {
                var batch = _queue.Take(Timeout.InfiniteTimeSpan);
                if (batch is null)
                {
                    if (_queue.Drained) break;
                    continue;
                }
                _queue.CommitUntilDurable(batch, () => Commit(batch), e => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }, _logger);
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void Commit(JournalBatch batch)
    {
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using var commands = new NpgsqlBatch(connection, transaction);

        var entries = batch.Entries.Where(e => e.Snapshot is null && e.Payload.Length > 0).ToList();
        if (entries.Count > 0)
            commands.BatchCommands.Add(Command(
                "INSERT INTO orleansops_journal (stream, seq, payload) SELECT * FROM unnest(@p0, @p1, @p2)",
                Array(entries.Select(e => e.Stream), NpgsqlDbType.Text), Array(entries.Select(e => e.Seq), NpgsqlDbType.Bigint),
                Array(entries.Select(e => e.Payload), NpgsqlDbType.Bytea)));
        foreach (var entry in batch.Entries.Where(e => e.Snapshot is not null))
        {
            commands.BatchCommands.Add(Command(
                "INSERT INTO orleansops_snapshots (stream, seq, payload) VALUES (@p0, @p1, @p2) ON CONFLICT (stream) DO UPDATE SET seq = excluded.seq, payload = excluded.payload",
                Value(entry.Stream, NpgsqlDbType.Text), Value(entry.Seq, NpgsqlDbType.Bigint), Value(entry.Snapshot!, NpgsqlDbType.Bytea)));
            commands.BatchCommands.Add(Command("DELETE FROM orleansops_journal WHERE stream = @p0 AND seq <= @p1",
                Value(entry.Stream, NpgsqlDbType.Text), Value(entry.Seq, NpgsqlDbType.Bigint)));
        }
        var chronicle = batch.Entries.Where(e => e.Chronicle is not null).Select(e => (e.Stream, e.Chronicle!.Seq, e.Chronicle.Payload)).ToList();
        if (chronicle.Count > 0)
            commands.BatchCommands.Add(Command(
                "INSERT INTO orleansops_chronicle (stream, seq, payload) SELECT * FROM unnest(@p0, @p1, @p2)",
                Array(chronicle.Select(c => c.Stream), NpgsqlDbType.Text), Array(chronicle.Select(c => c.Seq), NpgsqlDbType.Bigint),
                Array(chronicle.Select(c => c.Payload), NpgsqlDbType.Bytea)));
        var (index, wakes) = batch.Projections();
        var summarized = index.Where(i => i.Summary.Summary is not null).ToList();
        if (summarized.Count > 0)
            commands.BatchCommands.Add(Command("""
                INSERT INTO orleansops_incident_index (account, incident, version, open, opened_at, summary, alert_count, firing_count, node_count)
                SELECT * FROM unnest(@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8)
                ON CONFLICT (account, incident) DO UPDATE SET version = excluded.version, open = excluded.open, opened_at = excluded.opened_at,
                    summary = excluded.summary, alert_count = excluded.alert_count, firing_count = excluded.firing_count, node_count = excluded.node_count
                WHERE excluded.version >= orleansops_incident_index.version
                """,
                Array(summarized.Select(i => i.Account), NpgsqlDbType.Text), Array(summarized.Select(i => i.Counts.Incident), NpgsqlDbType.Text),
                Array(summarized.Select(i => i.Counts.Version), NpgsqlDbType.Bigint), Array(summarized.Select(i => i.Counts.Open), NpgsqlDbType.Boolean),
                Array(summarized.Select(i => i.Counts.OpenedAt.UtcDateTime), NpgsqlDbType.TimestampTz), Array(summarized.Select(i => i.Summary.Summary!), NpgsqlDbType.Bytea),
                Array(summarized.Select(i => i.Counts.Alerts), NpgsqlDbType.Integer), Array(summarized.Select(i => i.Counts.Firing), NpgsqlDbType.Integer),
                Array(summarized.Select(i => i.Counts.Nodes), NpgsqlDbType.Integer)));
        var counted = index.Where(i => i.Summary.Summary is null).ToList();
        if (counted.Count > 0)
            commands.BatchCommands.Add(Command("""
                UPDATE orleansops_incident_index AS i SET version = c.version, open = c.open, alert_count = c.alerts, firing_count = c.firing, node_count = c.nodes
                FROM unnest(@p0, @p1, @p2, @p3, @p4, @p5, @p6) AS c (account, incident, version, open, alerts, firing, nodes)
                WHERE i.account = c.account AND i.incident = c.incident AND c.version >= i.version
                """,
                Array(counted.Select(i => i.Account), NpgsqlDbType.Text), Array(counted.Select(i => i.Counts.Incident), NpgsqlDbType.Text),
                Array(counted.Select(i => i.Counts.Version), NpgsqlDbType.Bigint), Array(counted.Select(i => i.Counts.Open), NpgsqlDbType.Boolean),
                Array(counted.Select(i => i.Counts.Alerts), NpgsqlDbType.Integer), Array(counted.Select(i => i.Counts.Firing), NpgsqlDbType.Integer),
                Array(counted.Select(i => i.Counts.Nodes), NpgsqlDbType.Integer)));
        var set = wakes.Where(w => w.At is not null).ToList();
        if (set.Count > 0)
            commands.BatchCommands.Add(Command("""
                INSERT INTO orleansops_wakes (stream, account, at) SELECT * FROM unnest(@p0, @p1, @p2)
                ON CONFLICT (stream) DO UPDATE SET at = excluded.at
                """,
                Array(set.Select(w => w.Stream), NpgsqlDbType.Text), Array(set.Select(w => w.Account), NpgsqlDbType.Text),
                Array(set.Select(w => w.At!.Value.UtcDateTime), NpgsqlDbType.TimestampTz)));
        var cleared = wakes.Where(w => w.At is null).Select(w => w.Stream).ToList();
        if (cleared.Count > 0)
            commands.BatchCommands.Add(Command("DELETE FROM orleansops_wakes WHERE stream = ANY(@p0)", Array(cleared, NpgsqlDbType.Text)));

        commands.ExecuteNonQuery();
        transaction.Commit();
        JournalMetrics.Snapshotted(batch.Entries.Count(e => e.Snapshot is not null));
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i].ParameterName = "p" + i;
            command.Parameters.Add(parameters[i]);
        }
        return command;
    }

    private static NpgsqlParameter Value<T>(T value, NpgsqlDbType type) => new() { Value = value, NpgsqlDbType = type };

    private static NpgsqlParameter Array<T>(IEnumerable<T> values, NpgsqlDbType type) => new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type };

    public async Task<StreamHistory> LoadAsync(string stream, CancellationToken cancellationToken = default)
    {
        await _queue.Pending(stream).WaitAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        long snapshotSeq = 0;
        byte[]? snapshot = null;
        await using (var command = new NpgsqlCommand("SELECT seq, payload FROM orleansops_snapshots WHERE stream = @stream", connection))
        {
            command.Parameters.AddWithValue("stream", stream);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken)) (snapshotSeq, snapshot) = (reader.GetInt64(0), (byte[])reader[1]);
        }
        return new StreamHistory(snapshotSeq, snapshot, await RecordsAsync(connection, "orleansops_journal", stream, snapshotSeq, int.MaxValue, cancellationToken));
    }

    public async Task<IReadOnlyList<JournalRecord>> ReadChronicleAsync(string stream, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        await _queue.Pending(stream).WaitAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await RecordsAsync(connection, "orleansops_chronicle", stream, afterSeq, limit, cancellationToken);
    }

    private static async Task<IReadOnlyList<JournalRecord>> RecordsAsync(
        NpgsqlConnection connection, string table, string stream, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT seq, payload FROM {table} WHERE stream = @stream AND seq > @after ORDER BY seq LIMIT @limit", connection);
        command.Parameters.AddWithValue("stream", stream);
        command.Parameters.AddWithValue("after", afterSeq);
        command.Parameters.AddWithValue("limit", (long)limit);
        var records = new List<JournalRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) records.Add(new JournalRecord(reader.GetInt64(0), (byte[])reader[1]));
        return records;
    }

    public async Task<IReadOnlyList<IndexedIncident>> ReadIndexAsync(string account, CancellationToken cancellationToken = default)
    {
        await _queue.Everything().WaitAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT summary, version, alert_count, firing_count, node_count FROM orleansops_incident_index WHERE account = @account", connection);
        command.Parameters.AddWithValue("account", account);
        var rows = new List<IndexedIncident>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows.Add(new IndexedIncident((byte[])reader[0], reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4)));
        return rows;
    }

    public async Task<IReadOnlyList<StreamWake>> DueWakesAsync(DateTimeOffset until, StreamWake? after, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT stream, account, at FROM orleansops_wakes WHERE at <= @until"
            + (after is null ? "" : " AND (at, stream) > (@afterAt, @afterStream)") + " ORDER BY at, stream LIMIT @limit", connection);
        command.Parameters.AddWithValue("until", until.UtcDateTime);
        command.Parameters.AddWithValue("limit", (long)limit);
        if (after is not null)
        {
            command.Parameters.AddWithValue("afterAt", after.At!.Value.UtcDateTime);
            command.Parameters.AddWithValue("afterStream", after.Stream);
        }
        var wakes = new List<StreamWake>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            wakes.Add(new StreamWake(reader.GetString(0), reader.GetString(1), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero)));
        return wakes;
    }

    /// <summary>
    /// Writes nothing more from now on, as if the silo's process had died: a silo stopped within a process that goes on
    /// (the cluster tests) would otherwise still flush what its grains queued after the survivors took them over. The
    /// task ends once the flush under way, if any, has committed or failed: a process killed mid-flush loses that race
    /// in an instant, while a silo stopped in-process would otherwise commit it after survivors read its streams, which
    /// only fencing (a partition epoch) can refuse.
    /// </summary>
    public Task AbandonAsync()
    {
        _queue.Abandon();
        return _stopped.Task;
    }

    /// <summary>For hosts disposed synchronously: waits for the queue to drain as <see cref="DisposeAsync"/> does.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        // What is queued is written before the silo stops: a clean stop loses nothing.
        _queue.Close();
        await _stopped.Task;
        await _dataSource.DisposeAsync();
    }
}
