using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>
/// One grain's stream in its account's journal: it numbers the grain's entries, decides when a snapshot is due, and
/// keeps the task of the last append, so that the grain appends within its turn and waits for durability outside it.
/// <para>
/// A journaled grain is reentrant and keeps one discipline: whatever it awaits first (a configuration, the chronicle),
/// it then changes its state and appends what changed in one synchronous stretch, and only then waits for the journal.
/// Another request may run while it waits; it sees the change (which is durable before anything that depends on it,
/// since the journal commits in order) and never half of one.
/// </para>
/// </summary>
public sealed class JournalStream(IJournal journal, Serializer serializer, string name, int minSnapshotBytes = JournalStream.MinSnapshotBytes)
{
    /// <summary>Below this much history, a snapshot would not pay for itself.</summary>
    public const int MinSnapshotBytes = 256 * 1024;
    /// <summary>
    /// How much history, against the last snapshot's size, calls for the next, on average: snapshots cost half a byte per
    /// byte appended, and a load replays about twice the state's size (at most <see cref="SnapshotSpread"/> more).
    /// Replay is the slower half of a load (a correlator of 1.7 million firing alerts: 2.0 s for its 44 MB snapshot,
    /// 2.3 s for 52 MB of history, since every change spells out what a snapshot holds once), so a larger factor would
    /// let a restart after a long storm take several times as long.
    /// </summary>
    public const double SnapshotFactor = 2;
    /// <summary>
    /// How far each stream's threshold strays from the average, either way, drawn anew after every snapshot: incidents
    /// that a storm grows together would otherwise reach it together and snapshot in one wave (measured: 80 incidents
    /// of 750 alerts, a third more CPU for the second of the storm that holds the wave).
    /// </summary>
    public const double SnapshotSpread = 0.25;
    /// <summary>How long a request waits for the journal before it is answered 503; what it appended is written later all the same.</summary>
    public static readonly TimeSpan DurableWait = TimeSpan.FromSeconds(10);

    private long _historyBytes;
    private long _snapshotDue = minSnapshotBytes;
    private Task _lastAppend = Task.CompletedTask;

    public string Name => name;

    /// <summary>The number of the last entry appended (or loaded).</summary>
    public long Seq { get; private set; }

    /// <summary>Reads the stream: its snapshot (null when it has none) and the entries after it, in order, to <see cref="Replay"/>.</summary>
    public async Task<(T? Snapshot, IReadOnlyList<JournalRecord> Entries)> LoadAsync<T>(CancellationToken cancellationToken) where T : class
    {
        var history = await journal.LoadAsync(name, cancellationToken);
        Seq = history.SnapshotSeq;
        _snapshotDue = NextSnapshotDue(history.Snapshot?.Length ?? 0);
        _historyBytes = 0;
        return (history.Snapshot is { } bytes ? Read<T>(bytes) : null, history.Entries);
    }

    /// <summary>Applies the entries after the last one applied, in order: an entry replayed twice is applied once.</summary>
    public void Replay<TChange>(IEnumerable<JournalRecord> entries, Action<TChange> apply)
    {
        foreach (var entry in entries)
        {
            if (entry.Seq <= Seq) continue;
            apply(Read<TChange>(entry.Payload));
            Seq = entry.Seq;
            _historyBytes += entry.Payload.Length;
        }
    }

    /// <summary>
    /// Appends one change; with it a snapshot of the whole state (from <paramref name="snapshot"/>) once the history since
    /// the last one is about <see cref="SnapshotFactor"/> times as large as that snapshot was, so that what a change costs
    /// never grows with the state and a load reads a bounded multiple of it. Returns the task to wait on for durability.
    /// </summary>
    public Task Append(string account, byte[] payload, Func<byte[]>? snapshot = null,
        JournalRecord? chronicle = null, IndexRow? index = null, StreamWake? wake = null)
    {
        var seq = ++Seq;
        byte[]? whole = null;
        if (snapshot is not null && _historyBytes + payload.Length >= _snapshotDue)
        {
            whole = snapshot();
            _snapshotDue = NextSnapshotDue(whole.Length);
            _historyBytes = 0;
        }
        else _historyBytes += payload.Length;
        return _lastAppend = journal.Append(new JournalEntry
        {
            Stream = name,
            Account = account,
            Seq = seq,
            Payload = payload,
            Snapshot = whole,
            Chronicle = chronicle,
            Index = index,
            Wake = wake,
        });
    }

    /// <summary>The history that calls for the snapshot after one of <paramref name="snapshotBytes"/>, spread per stream and snapshot.</summary>
    private long NextSnapshotDue(long snapshotBytes)
    {
        var spread = 1 + SnapshotSpread * (2 * ((uint)HashCode.Combine(name, Seq) / (double)uint.MaxValue) - 1);
        return (long)(Math.Max(minSnapshotBytes, SnapshotFactor * snapshotBytes) * spread);
    }

    /// <summary>Completes when everything this stream appended so far is durable.</summary>
    public Task Durable => _lastAppend;

    /// <summary>Waits for <paramref name="appended"/>, within <see cref="DurableWait"/>.</summary>
    public static async Task WhenDurableAsync(Task appended)
    {
        if (appended.IsCompletedSuccessfully) return;
        try
        {
            await appended.WaitAsync(DurableWait);
        }
        catch (TimeoutException)
        {
            throw new JournalUnavailableException($"The journal could not commit within {DurableWait.TotalSeconds:0} s; the change is kept and written as soon as it can be.");
        }
    }

    public byte[] Write<T>(T value) => serializer.SerializeToArray(value);

    public T Read<T>(byte[] bytes) => serializer.Deserialize<T>(bytes)!;
}
