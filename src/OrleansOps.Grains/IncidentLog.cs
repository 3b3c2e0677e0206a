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
        _wakeJournaled = Incident.NextWake;
        Summary = Incident.Summarize(_stream.Seq);
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
            var now = _stream.Write(Incident.Extras);
            if (!now.AsSpan().SequenceEqual(_extras)) extras = _extras = now;
        }
        if (!Incident.HasChanges && !(withRepeats && Incident.HasRepeats) && extras is null) return _stream.Durable;
        var (change, recorded) = Incident.TakeChange(withRepeats, extras);
        var seq = _stream.Seq + 1;
        var summary = Summary = Incident.Summarize(seq);
        var wake = Incident.NextWake;
        var wakeChange = wake != _wakeJournaled ? new StreamWake(_stream.Name, Incident.AccountId, wake) : null;
        _wakeJournaled = wake;
        return _stream.Append(
            Incident.AccountId,
            _stream.Write(change),
            snapshot: () => _stream.Write(Incident),
            chronicle: recorded.Select(e => new JournalRecord(e.Seq, _stream.Write(e))).ToList(),
            index: new IndexRow(Incident.Id!, seq, Incident.IsOpen, Incident.OpenedAt, _stream.Write(summary)),
            wake: wakeChange);
    }

    /// <summary>Up to <paramref name="limit"/> chronicle entries after <paramref name="afterSeq"/>, once this incident's own appends are durable.</summary>
    public async Task<IReadOnlyList<ChronicleEntry>> ReadChronicleAsync(long afterSeq, int limit)
    {
        await JournalStream.WhenDurableAsync(_stream.Durable);
        var records = await journal.ReadChronicleAsync(_stream.Name, afterSeq, limit);
        return records.Select(r => _stream.Read<ChronicleEntry>(r.Payload)).ToList();
    }
}
