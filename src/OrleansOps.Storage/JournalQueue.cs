using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using OrleansOps.Abstractions;

namespace OrleansOps.Storage;

/// <summary>
/// Group commit, whatever the database: appends queue up while a flush is under way, and the next flush takes them
/// all. Each append gets the task of the flush that will carry it, so a grain appends within its turn and waits for
/// durability outside it. A flush that fails is tried again by its writer; its entries are never dropped, so the
/// durable journal is always a prefix of what this process appended.
/// </summary>
public sealed class JournalQueue(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly ManualResetEventSlim _signal = new(false);
    private List<JournalEntry> _entries = [];
    private TaskCompletionSource _next = NewFlush();
    /// <summary>The flush being written, if any.</summary>
    private Task? _writing;
    /// <summary>Each stream's last append, until its flush is done: a new activation reads the stream only after it.</summary>
    private readonly Dictionary<string, Task> _inFlight = new(StringComparer.Ordinal);
    private bool _closed;
    /// <summary>The number of the flush that <see cref="_next"/> completes; flushes are numbered from 1 and made durable in order.</summary>
    private long _nextFlush = 1;
    /// <summary>The number of the flush being written (<see cref="_writing"/>).</summary>
    private long _writingFlush;
    /// <summary>The last flush made durable.</summary>
    private long _durableUpTo;
    /// <summary>Stopped as a killed process would be: a flush that was under way is not tried again.</summary>
    private volatile bool _abandoned;

    public Task Append(JournalEntry entry)
    {
        lock (_lock)
        {
            if (_closed) throw new ObjectDisposedException(nameof(JournalQueue), "The journal is closed: the server is stopping.");
            _entries.Add(entry);
            _inFlight[entry.Stream] = _next.Task;
            if (!_signal.IsSet) _signal.Set();
            return _next.Task;
        }
    }

    /// <summary>Completes when every entry of <paramref name="stream"/> appended so far is durable.</summary>
    public Task Pending(string stream)
    {
        lock (_lock) return _inFlight.TryGetValue(stream, out var last) ? last : Task.CompletedTask;
    }

    public string Instance { get; } = Guid.NewGuid().ToString("N");

    public long? FlushOf(Task appended)
    {
        if (appended.IsCompletedSuccessfully) return 0;
        lock (_lock)
        {
            if (appended == _next.Task) return _nextFlush;
            if (appended == _writing) return _writingFlush;
            return null;
        }
    }

    public Task WhenFlushed(long flush)
    {
        lock (_lock)
        {
            if (flush <= _durableUpTo) return Task.CompletedTask;
            if (flush == _nextFlush) return _next.Task;
            if (flush == _writingFlush && _writing is { } writing) return writing;
            // A flush neither durable nor under way: its writer gave up on it (a stopping server, an abandoned journal).
            return Task.FromException(new ObjectDisposedException(nameof(JournalQueue), $"Flush {flush} of the journal was not made durable: the server is stopping."));
        }
    }

    /// <summary>Completes when every entry appended so far is durable.</summary>
    public Task Everything()
    {
        lock (_lock) return _entries.Count > 0 ? _next.Task : _writing ?? Task.CompletedTask;
    }

    /// <summary>
    /// For the writer: waits until something is queued or the writer is nudged (at most <paramref name="patience"/>), and
    /// takes everything queued as one batch; null when nothing is.
    /// </summary>
    public JournalBatch? Take(TimeSpan patience)
    {
        _signal.Wait(patience);
        lock (_lock)
        {
            _signal.Reset();
            if (_entries.Count == 0) return null;
            var batch = new JournalBatch(_entries, _next, this);
            _writing = _next.Task;
            _writingFlush = _nextFlush++;
            _entries = new List<JournalEntry>(Math.Max(16, batch.Entries.Count));
            _next = NewFlush();
            return batch;
        }
    }

    /// <summary>No more appends are taken: the server is stopping.</summary>
    public bool Closed
    {
        get
        {
            lock (_lock) return _closed;
        }
    }

    /// <summary>Closed, and everything queued has been taken: the writer may stop.</summary>
    public bool Drained
    {
        get
        {
            lock (_lock) return _closed && _entries.Count == 0;
        }
    }

    /// <summary>No more appends; the writer takes what is queued and then stops.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _signal.Set();
        }
    }

    /// <summary>
    /// Stops at once, as a killed process would: what is queued is dropped (the requests that wait on it fail, so none
    /// is answered 2xx) and no more appends are taken. A flush already being written completes if its attempt under way
    /// succeeds; it is not tried again.
    /// </summary>
    public void Abandon()
    {
        lock (_lock)
        {
            _closed = _abandoned = true;
            _entries.Clear();
            _next.TrySetException(new ObjectDisposedException(nameof(JournalQueue), "The journal was abandoned."));
            _signal.Set();
        }
    }

    /// <summary>Wakes a writer that waits for entries, without adding any (it has other work).</summary>
    public void Nudge() => _signal.Set();

    internal void Done(JournalBatch batch)
    {
        lock (_lock)
        {
            foreach (var entry in batch.Entries)
                if (_inFlight.TryGetValue(entry.Stream, out var last) && last == batch.Flush.Task) _inFlight.Remove(entry.Stream);
            if (_writing == batch.Flush.Task)
            {
                _durableUpTo = _writingFlush;
                _writing = null;
            }
        }
        JournalMetrics.Flushed(batch.Entries.Count);
        batch.Flush.TrySetResult();
    }

    private static TaskCompletionSource NewFlush() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a stopping server keeps trying to commit what is queued before it gives up.</summary>
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(30);
    private long? _stoppingSince;

    /// <summary>
    /// The writer's way to commit <paramref name="batch"/>: <paramref name="commit"/> again, with a growing pause, for as
    /// long as it fails, so that its entries are never dropped (only a stopping server gives up, after
    /// <see cref="StopPatience"/>). A conflict (<paramref name="isConflict"/>: two writers of one stream) stops the process
    /// at once: some grain's state in memory no longer matches what is durable, and no retry can mend that.
    /// <paramref name="failed"/> hears of each failure; with no batch (other writes only) there is no second attempt.
    /// </summary>
    public void CommitUntilDurable(JournalBatch? batch, Action commit, Func<Exception, bool> isConflict, ILogger logger, Action<Exception>? failed = null)
    {
        var pause = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                commit();
                batch?.Complete();
                return;
            }
            catch (Exception e) when (batch is not null && _abandoned)
            {
                // A dead process would not have tried again: its grains live elsewhere now, and may have written since.
                logger.LogWarning(e, "The journal was abandoned; {Count} entries of a flush under way are dropped", batch.Entries.Count);
                batch.Flush.TrySetException(new ObjectDisposedException(nameof(JournalQueue), "The journal was abandoned."));
                return;
            }
            catch (Exception e) when (batch is not null && isConflict(e))
            {
                logger.LogCritical(e, "A journal entry conflicts with one already written; stopping the process so that every grain starts again from the durable journal");
                Environment.FailFast("OrleansOps: conflicting journal entries (" + e.Message + ")");
            }
            catch (Exception e)
            {
                JournalMetrics.Failed();
                failed?.Invoke(e);
                if (batch is null) return;
                if (_stoppingSince is { } stopping && _time.GetElapsedTime(stopping) > StopPatience)
                {
                    logger.LogError(e, "The server is stopping and the journal still cannot commit {Count} entries after {Seconds} s; they are lost", batch.Entries.Count, (int)StopPatience.TotalSeconds);
                    return;
                }
                if (_stoppingSince is null && Closed) _stoppingSince = _time.GetTimestamp();
                if (attempt == 1 || attempt % 50 == 0)
                    logger.LogError(e, "The journal could not commit {Count} entries (attempt {Attempt}); trying again in {Pause} ms. Requests wait, then get 503, until it can",
                        batch.Entries.Count, attempt, (int)pause.TotalMilliseconds);
                Thread.Sleep(pause);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}

/// <summary>What one flush writes: every entry queued when it began, in order.</summary>
public sealed class JournalBatch(List<JournalEntry> entries, TaskCompletionSource flush, JournalQueue queue)
{
    public IReadOnlyList<JournalEntry> Entries => entries;
    internal TaskCompletionSource Flush => flush;

    /// <summary>The entries are durable: their waiters go on.</summary>
    public void Complete() => queue.Done(this);

    /// <summary>What this flush leaves in the projections (<see cref="JournalProjections.Of"/>).</summary>
    public (IReadOnlyCollection<(string Account, IndexRow Summary, IndexRow Counts)> Index, IReadOnlyCollection<StreamWake> Wakes) Projections() =>
        JournalProjections.Of(entries);
}

/// <summary>The account's index and the wake index as a run of journal entries leaves them.</summary>
public static class JournalProjections
{
    /// <summary>
    /// Per incident, its latest summary and its latest counts (the same row or a later one), and per stream its latest
    /// wake: of a run of entries in journal order, only the last of each is worth writing.
    /// </summary>
    public static (IReadOnlyCollection<(string Account, IndexRow Summary, IndexRow Counts)> Index, IReadOnlyCollection<StreamWake> Wakes) Of(
        IEnumerable<JournalEntry> entries)
    {
        var summaries = new Dictionary<(string, string), IndexRow>();
        var counts = new Dictionary<(string, string), (string Account, IndexRow Row)>();
        var wakes = new Dictionary<string, StreamWake>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.Index is { } row)
            {
                if (row.Summary is not null) summaries[(entry.Account, row.Incident)] = row;
                counts[(entry.Account, row.Incident)] = (entry.Account, row);
            }
            if (entry.Wake is { } wake) wakes[wake.Stream] = wake;
        }
        return (counts.Select(c => (c.Value.Account, summaries.GetValueOrDefault(c.Key) ?? c.Value.Row, c.Value.Row)).ToList(), wakes.Values);
    }
}

/// <summary>The journal's own measures, on the <c>OrleansOps</c> meter.</summary>
public static class JournalMetrics
{
    private static readonly Meter Meter = new("OrleansOps");
    private static readonly Counter<long> Records = Meter.CreateCounter<long>(
        "orleansops.journal.records", "{record}", "Journal entries committed since the process started");
    private static readonly Counter<long> Flushes = Meter.CreateCounter<long>(
        "orleansops.journal.flushes", "{flush}", "Journal flushes: one transaction and one sync to disk each");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>(
        "orleansops.journal.flush.failures", "{failure}", "Journal flushes that failed and were tried again");
    private static readonly Counter<long> Snapshots = Meter.CreateCounter<long>(
        "orleansops.journal.snapshots", "{snapshot}", "Snapshots written (each drops the entries before it)");

    public static void Flushed(int entries)
    {
        Flushes.Add(1);
        Records.Add(entries);
    }

    public static void Failed() => Failures.Add(1);

    public static void Snapshotted(int count)
    {
        if (count > 0) Snapshots.Add(count);
    }
}
