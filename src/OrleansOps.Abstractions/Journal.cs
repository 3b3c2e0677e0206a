namespace OrleansOps.Abstractions;

/// <summary>
/// The account journal: grains change their state in memory and append what changed, as one entry per change, to
/// their stream; one writer per process commits the entries of every account together (one transaction and one sync
/// to disk per flush). A grain's state is its latest snapshot plus the entries after it.
/// <para>
/// Entries are committed in the order they were appended, and an entry whose commit failed is tried again, never
/// dropped, for as long as the process lives: so whatever an entry's change depended on (an earlier change another
/// grain appended) is durable before it is.
/// </para>
/// </summary>
public interface IJournal
{
    /// <summary>
    /// Queues <paramref name="entry"/> for the next flush and returns at once, with a task that completes when the entry
    /// (and everything appended before it) is durable. A grain appends within its turn and waits outside it.
    /// </summary>
    Task Append(JournalEntry entry);

    /// <summary>
    /// The number of the flush that makes <paramref name="appended"/> (a task <see cref="Append"/> returned) durable, so
    /// that a caller sharing this journal (<see cref="Instance"/>) can wait for it with <see cref="WhenFlushed"/> instead
    /// of the grain that appended: 0 when it is durable already, null when it cannot be told (the appender waits itself).
    /// </summary>
    long? FlushOf(Task appended);

    /// <summary>Completes when flush <paramref name="flush"/> is durable, and with it every flush before it.</summary>
    Task WhenFlushed(long flush);

    /// <summary>This journal, as its flush numbers belong to it: they mean nothing to a caller with another journal.</summary>
    string Instance { get; }

    /// <summary>A stream's latest snapshot and the entries after it, in order; entries of this process still in the queue are committed first.</summary>
    Task<StreamHistory> LoadAsync(string stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="limit"/> chronicle records of <paramref name="stream"/> holding entries after
    /// <paramref name="afterSeq"/>, oldest first (a record holds the entries of one change and is numbered by its last).
    /// </summary>
    Task<IReadOnlyList<JournalRecord>> ReadChronicleAsync(string stream, long afterSeq, int limit, CancellationToken cancellationToken = default);

    /// <summary>The account's incident index: each incident's latest summary and counts.</summary>
    Task<IReadOnlyList<IndexedIncident>> ReadIndexAsync(string account, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> streams that asked to be woken by <paramref name="until"/>, earliest first, from after <paramref name="after"/>.</summary>
    Task<IReadOnlyList<StreamWake>> DueWakesAsync(DateTimeOffset until, StreamWake? after, int limit, CancellationToken cancellationToken = default);
}

/// <summary>One change of one stream, and what it means for the account's projections.</summary>
public sealed class JournalEntry
{
    /// <summary>The grain's stream, e.g. <c>incident/inc-…</c>; every stream belongs to one account.</summary>
    public required string Stream { get; init; }
    public required string Account { get; init; }
    /// <summary>Contiguous per stream, from 1.</summary>
    public required long Seq { get; init; }
    /// <summary>The change itself; empty for an entry that only carries a snapshot or projections.</summary>
    public byte[] Payload { get; init; } = [];
    /// <summary>The stream's whole state as of <see cref="Seq"/>: once it is written, the entries up to <see cref="Seq"/> are dropped.</summary>
    public byte[]? Snapshot { get; init; }
    /// <summary>
    /// The entries this change added to the incident's chronicle, as one record numbered by the last of them: kept for
    /// good, never dropped behind a snapshot.
    /// </summary>
    public JournalRecord? Chronicle { get; init; }
    /// <summary>The incident's summary as of this change, for the account's index.</summary>
    public IndexRow? Index { get; init; }
    /// <summary>When the stream next needs waking, when that changed (a wake with a null time clears it).</summary>
    public StreamWake? Wake { get; init; }

    /// <summary>Bytes this entry adds to the stream's history (what a snapshot saves on the next load).</summary>
    public int HistoryBytes => Payload.Length;
}

/// <summary>A numbered record of a stream: a journal entry's payload, or a chronicle entry.</summary>
public sealed record JournalRecord(long Seq, byte[] Payload);

/// <summary>
/// An incident's row in its account's index, as one change leaves it: its summary when it changed in more than its
/// counts (null: the summary the index holds stands), and its counts (alerts, firing alerts, nodes) with every change,
/// since a storm changes those with every alert.
/// </summary>
public sealed record IndexRow(string Incident, long Version, bool Open, DateTimeOffset OpenedAt, byte[]? Summary, int Alerts, int Firing, int Nodes);

/// <summary>An incident as its account's index holds it: its latest summary, and the counts of its latest change.</summary>
public sealed record IndexedIncident(byte[] Summary, long Version, int Alerts, int Firing, int Nodes);

/// <summary>When a stream wants to be woken (null: it does not).</summary>
public sealed record StreamWake(string Stream, string Account, DateTimeOffset? At);

/// <summary>What a stream holds: its latest snapshot, if any, and the entries after it.</summary>
public sealed record StreamHistory(long SnapshotSeq, byte[]? Snapshot, IReadOnlyList<JournalRecord> Entries)
{
    public static readonly StreamHistory Empty = new(0, null, []);

    /// <summary>The last sequence number the stream holds.</summary>
    public long LastSeq => Entries.Count > 0 ? Entries[^1].Seq : SnapshotSeq;
}

/// <summary>The journal could not commit in time (the database is away); what was appended stays queued and is written when it can be.</summary>
[GenerateSerializer]
public sealed class JournalUnavailableException(string message) : Exception(message);
