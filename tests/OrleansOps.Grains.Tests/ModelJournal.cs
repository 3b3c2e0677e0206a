namespace OrleansOps.Grains.Tests;

/// <summary>
/// The journal's contract, held in memory and stepped by hand: appends wait until <see cref="Flush"/> makes a prefix of
/// them durable, in order; <see cref="Crash"/> loses what is not. A snapshot drops the entries it covers, as the
/// databases do. For model-based tests of what grains journal and replay; the databases themselves are tested apart.
/// </summary>
public sealed class ModelJournal : IJournal
{
    private readonly List<(JournalEntry Entry, TaskCompletionSource Done)> _pending = [];
    /// <summary>Each entry is a flush of its own here: numbered by its place in the journal, from 1.</summary>
    private long _appended;
    /// <summary>The number before the first pending entry's: every entry up to it is durable or lost.</summary>
    private long _settled;
    private readonly List<(long From, long To)> _lost = [];
    private readonly Dictionary<string, (long Seq, byte[] Payload)> _snapshots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<long, byte[]>> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<long, byte[]>> _chronicle = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), IndexedIncident> _index = [];
    private readonly Dictionary<string, StreamWake> _wakes = new(StringComparer.Ordinal);

    public int Pending => _pending.Count;
    public int Snapshots { get; private set; }

    public Task Append(JournalEntry entry)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending.Add((entry, done));
        _appended++;
        return done.Task;
    }

    public long? FlushOf(Task appended)
    {
        if (appended.IsCompletedSuccessfully) return 0;
        var index = _pending.FindIndex(p => p.Done.Task == appended);
        return index < 0 ? null : _settled + index + 1;
    }

    public Task WhenFlushed(long flush)
    {
        if (_lost.Any(l => flush >= l.From && flush <= l.To)) return new TaskCompletionSource().Task; // never durable
        if (flush <= _settled) return Task.CompletedTask;
        return _pending[(int)(flush - _settled - 1)].Done.Task;
    }

    public string Instance { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Makes the first <paramref name="count"/> pending entries durable (all when null).</summary>
    public void Flush(int? count = null)
    {
        var taken = _pending.Take(count ?? _pending.Count).ToList();
        _pending.RemoveRange(0, taken.Count);
        _settled += taken.Count;
        foreach (var (entry, done) in taken)
        {
            var entries = Of(_entries, entry.Stream);
            if (entry.Payload.Length > 0 && (entries.ContainsKey(entry.Seq) || _snapshots.TryGetValue(entry.Stream, out var covered) && covered.Seq >= entry.Seq))
                throw new InvalidOperationException($"{entry.Stream} #{entry.Seq} was written twice");
            if (entry.Snapshot is { } snapshot)
            {
                _snapshots[entry.Stream] = (entry.Seq, snapshot);
                foreach (var seq in entries.Keys.Where(s => s <= entry.Seq).ToList()) entries.Remove(seq);
                Snapshots++;
            }
            else if (entry.Payload.Length > 0) entries[entry.Seq] = entry.Payload;
            if (entry.Chronicle is { } record) Of(_chronicle, entry.Stream).Add(record.Seq, record.Payload);
            if (entry.Index is { } row)
                _index[(entry.Account, row.Incident)] = new IndexedIncident(
                    row.Summary ?? _index[(entry.Account, row.Incident)].Summary, row.Version, row.Alerts, row.Firing, row.Nodes);
            if (entry.Wake is { } wake)
            {
                if (wake.At is null) _wakes.Remove(wake.Stream);
                else _wakes[wake.Stream] = wake;
            }
            done.SetResult();
        }
    }

    /// <summary>The process died: what was not flushed is gone, and nobody was told it was durable.</summary>
    public void Crash()
    {
        if (_pending.Count > 0) _lost.Add((_settled + 1, _appended));
        _pending.Clear();
        _settled = _appended;
    }

    /// <summary>Every durable entry of a stream, snapshot aside, as a replay after the snapshot would read them.</summary>
    public IReadOnlyList<JournalRecord> Entries(string stream) =>
        Of(_entries, stream).Select(e => new JournalRecord(e.Key, e.Value)).ToList();

    public Task<StreamHistory> LoadAsync(string stream, CancellationToken cancellationToken = default) =>
        Task.FromResult(_snapshots.TryGetValue(stream, out var snapshot)
            ? new StreamHistory(snapshot.Seq, snapshot.Payload, Entries(stream))
            : new StreamHistory(0, null, Entries(stream)));

    public Task<IReadOnlyList<JournalRecord>> ReadChronicleAsync(string stream, long afterSeq, int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<JournalRecord>>(Of(_chronicle, stream).Where(e => e.Key > afterSeq).Take(limit).Select(e => new JournalRecord(e.Key, e.Value)).ToList());

    public Task<IReadOnlyList<IndexedIncident>> ReadIndexAsync(string account, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<IndexedIncident>>(_index.Where(i => i.Key.Item1 == account).Select(i => i.Value).ToList());

    public Task<IReadOnlyList<StreamWake>> DueWakesAsync(DateTimeOffset until, StreamWake? after, int limit, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StreamWake>>(_wakes.Values.Where(w => w.At <= until)
            .OrderBy(w => w.At).ThenBy(w => w.Stream, StringComparer.Ordinal)
            .Where(w => after is null || w.At > after.At || w.At == after.At && string.CompareOrdinal(w.Stream, after.Stream) > 0)
            .Take(limit).ToList());

    private static SortedDictionary<long, byte[]> Of(Dictionary<string, SortedDictionary<long, byte[]>> map, string stream) =>
        map.TryGetValue(stream, out var records) ? records : map[stream] = [];
}
