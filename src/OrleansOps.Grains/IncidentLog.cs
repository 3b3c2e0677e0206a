using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>
/// An incident and its stream in the journal: loads it (snapshot and the entries after it) and journals each change as
/// the new values of what changed, with the chronicle entries it recorded, the summary for the account's index and the
/// next wake for the wake index. The grain decides when; this says what and how.
/// </summary>
public sealed class IncidentLog(IJournal journal, Serializer serializer, string incidentId, int minSnapshotBytes = JournalStream.MinSnapshotBytes)
{
    public const string StreamPrefix = "incident/";

    private readonly JournalStream _stream = new(journal, serializer, StreamPrefix + incidentId, minSnapshotBytes);
    /// <summary>The escalation, notification, clock and ticket parts as last journaled, to tell whether a change touched them.</summary>
    private byte[] _extras = [];
    /// <summary>The wake time the wake index holds.</summary>
    private DateTimeOffset? _wakeJournaled;
    /// <summary>The summary the index holds.</summary>
    private IncidentSummary? _indexed;

    public IncidentState Incident { get; private set; } = new();

    /// <summary>The summary as of the last change journaled (or loaded).</summary>
    public IncidentSummary? Summary { get; private set; }

    public string Stream => _stream.Name;

    /// <summary>Completes when every change journaled so far is durable.</summary>
    public Task Durable => _stream.Durable;

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var (snapshot, entries) = await _stream.LoadAsync<IncidentState>(cancellationToken);
        Incident = snapshot ?? new IncidentState();
        Replay(entries);
    }

    /// <summary>Applies entries read from the stream (those after the last one applied).</summary>
    public void Replay(IEnumerable<JournalRecord> entries)
    {
        _stream.Replay<IncidentChange>(entries, change =>
            Incident.Apply(change, change.Extras is { } extras ? _stream.Read<IncidentExtras>(extras) : null));
        Incident.Rebuild();
        if (!Incident.Exists) return;
        _extras = _stream.Write(Incident.Extras);
        _wakeJournaled = Incident.BackstopWake;
        Summary = _indexed = Incident.Summarize(_stream.Seq);
    }

    /// <summary>
    /// Journals what changed since the last call, within the turn that changed it; returns the task to wait on for
    /// durability (the last one's when nothing changed). Repeats go too unless <paramref name="withRepeats"/> is false;
    /// the escalation, notification, clock and ticket parts are compared only when <paramref name="extrasMayHaveChanged"/>.
    /// </summary>
    public Task Commit(bool extrasMayHaveChanged, bool withRepeats = true)
    {
        byte[]? extras = null;
        if (extrasMayHaveChanged)
        {
            var written = _stream.Write(Incident.Extras);
            if (!written.AsSpan().SequenceEqual(_extras)) extras = _extras = written;
        }
        if (!Incident.HasChanges && !(withRepeats && Incident.HasRepeats) && extras is null) return _stream.Durable;
        var (change, recorded) = Incident.TakeChange(withRepeats, extras);
        var seq = _stream.Seq + 1;
        var summary = Summary = Incident.Summarize(seq);
        var wake = Incident.BackstopWake;
        var wakeChange = wake != _wakeJournaled ? new StreamWake(_stream.Name, Incident.AccountId, wake) : null;
        _wakeJournaled = wake;
        return _stream.Append(
            Incident.AccountId,
            _stream.Write(change),
            snapshot: () => _stream.Write(Incident),
            chronicle: recorded.Count > 0 ? new JournalRecord(recorded[^1].Seq, _stream.Write(recorded)) : null,
            index: IndexRow(summary),
            wake: wakeChange);
    }

    /// <summary>
    /// The index row a change carries: its counts, and its summary when that changed in more than its counts (a storm
    /// changes every incident's counts with every alert; its summary it seldom changes).
    /// </summary>
    private IndexRow IndexRow(IncidentSummary summary)
    {
        byte[]? written = null;
        if (_indexed is not { } indexed || !SameButCounts(indexed, summary))
        {
            _indexed = summary;
            written = _stream.Write(summary);
        }
        return new IndexRow(Incident.Id!, summary.Version, Incident.IsOpen, Incident.OpenedAt, written, summary.AlertCount, summary.FiringAlertCount, summary.NodeCount);
    }

    private static bool SameButCounts(IncidentSummary a, IncidentSummary b) =>
        a.NodesTruncated == b.NodesTruncated
        && a with { AlertCount = b.AlertCount, FiringAlertCount = b.FiringAlertCount, NodeCount = b.NodeCount, Version = b.Version } == b;

    /// <summary>Up to <paramref name="limit"/> chronicle entries after <paramref name="afterSeq"/>, once this incident's own appends are durable.</summary>
    public async Task<IReadOnlyList<ChronicleEntry>> ReadChronicleAsync(long afterSeq, int limit)
    {
        await JournalStream.WhenDurableAsync(_stream.Durable);
        var entries = new List<ChronicleEntry>(Math.Min(limit, 1000));
        while (entries.Count < limit)
        {
            // A record holds one change's entries: as many records as entries wanted is enough, bar those it skips.
            var records = await journal.ReadChronicleAsync(_stream.Name, afterSeq, limit - entries.Count);
            foreach (var record in records)
            {
                if (entries.Count >= limit) break; // a record holds many entries: the rest need not be read
                entries.AddRange(_stream.Read<List<ChronicleEntry>>(record.Payload).Where(e => e.Seq > afterSeq).Take(limit - entries.Count));
            }
            if (records.Count == 0 || entries.Count >= limit) break;
            afterSeq = records[^1].Seq;
        }
        return entries;
    }
}
