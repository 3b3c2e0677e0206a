using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace OrleansOps.Bench;

/// <summary>
/// One distinct alert of the chaos stream: member <see cref="Member"/> of group <see cref="Group"/> of an account, and
/// what the server's 2xx answers said of it (its fingerprint, the incident it landed in, how many sends were accepted).
/// </summary>
public sealed class TrackedAlert(int account, int group, int member)
{
    public int Account => account;
    public int Group => group;
    public int Member => member;
    public StreamAlert Labels => new($"Chaos{group:D5}", "critical", $"svc-{group % ChaosLoad.ServicesPerAccount:D2}", $"host-{member}");

    public string? Fingerprint { get; private set; }
    /// <summary>Every incident a 2xx answer placed it in: one, unless the server split its group.</summary>
    public HashSet<string> Incidents { get; } = new(StringComparer.Ordinal);
    public int AcceptedSends { get; private set; }
    /// <summary>Seconds into the run of the first 2xx that carried it, and from which silo.</summary>
    public double? FirstAcceptedAt { get; private set; }
    public string? FirstAcceptedBy { get; private set; }

    public void Accepted(string fingerprint, string? incidentId, double at, string silo)
    {
        lock (this)
        {
            Fingerprint ??= fingerprint;
            if (incidentId is not null) Incidents.Add(incidentId);
            AcceptedSends++;
            if (FirstAcceptedAt is null)
            {
                FirstAcceptedAt = at;
                FirstAcceptedBy = silo;
            }
        }
    }
}

/// <summary>One request of the load: when it was due, how long until a 2xx (through every retry), and how it ended.</summary>
public sealed record BatchResult(double DueSeconds, double LatencyMs, int Attempts, bool Accepted, string? Failure);

/// <summary>
/// The chaos bench's sender: an open loop of <c>POST /api/v2/alerts</c> batches at a fixed rate, round-robin over the
/// live silos, each batch for one account in turn. A mix of new alerts (each group of
/// <see cref="ChaosSettings.AlertsPerIncident"/> new alerts opens one incident, so many incidents and notifications) and
/// re-sends of the account's earlier alerts. A batch that fails on the connection, times out or is answered 5xx, 408 or
/// 429 is sent again to the next live silo after a short back-off, as Alertmanager retries its webhooks, until a 2xx or
/// <see cref="GiveUpAfter"/>; its latency runs from when it was due to the 2xx, retries included. Only a 2xx makes its
/// alerts accepted.
/// </summary>
public sealed class ChaosLoad(ChaosCluster cluster, IReadOnlyList<BenchAccount> accounts, ChaosSettings settings, Stopwatch clock)
{
    /// <summary>Groups are spread over this many services per account: as many correlators, not one per incident.</summary>
    public const int ServicesPerAccount = 20;
    /// <summary>Longer than Orleans' 30 s response timeout, so a request held by a silo waiting for a dead one gets its 503.</summary>
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly List<TrackedAlert>[] _byAccount = accounts.Select(_ => new List<TrackedAlert>()).ToArray();
    private readonly List<BatchResult> _results = [];
    private readonly string _startsAt = AlertStream.Timestamp(DateTimeOffset.UtcNow.AddMinutes(-1));
    private long _sentBatches;
    private long _sentAlerts;
    private long _acceptedEvents;
    private long _retrying;
    private long _connectionFailures;
    private long _timeouts;
    private long _statusFailures;
    private long _gaveUp;
    private string? _firstRefusal;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, long> _failedStatuses = new();

    public IReadOnlyList<TrackedAlert> Alerts => _byAccount.SelectMany(a => a).ToList();
    public IReadOnlyList<BatchResult> Results
    {
        get { lock (_results) return _results.ToList(); }
    }

    public long SentBatches => Interlocked.Read(ref _sentBatches);
    public long SentAlerts => Interlocked.Read(ref _sentAlerts);
    public long AcceptedEvents => Interlocked.Read(ref _acceptedEvents);
    public long ConnectionFailures => Interlocked.Read(ref _connectionFailures);
    public long Timeouts => Interlocked.Read(ref _timeouts);
    public long StatusFailures => Interlocked.Read(ref _statusFailures);
    public long FailedAttempts => ConnectionFailures + Timeouts + StatusFailures;
    public long GaveUp => Interlocked.Read(ref _gaveUp);
    /// <summary>Batches that have failed at least once and are still being retried.</summary>
    public long Retrying => Interlocked.Read(ref _retrying);
    public string? FirstRefusal => Volatile.Read(ref _firstRefusal);
    /// <summary>The failed attempts answered with a status that is retried, by status: "503 × 1057".</summary>
    public string FailedStatuses => string.Join(", ", _failedStatuses.OrderBy(s => s.Key).Select(s => $"{s.Key} × {s.Value}"));

    /// <summary>Sends until <paramref name="until"/> on the shared clock, then waits for every batch still being retried.</summary>
    public async Task RunAsync(TimeSpan until, CancellationToken cancel)
    {
        var interval = TimeSpan.FromSeconds(settings.BatchSize / settings.Rate);
        var sending = new List<Task>();
        for (long n = 0; ; n++)
        {
            var due = interval * n;
            if (due >= until) break;
            if (due - clock.Elapsed is { Ticks: > 0 } wait) await Task.Delay(wait, cancel);
            var (account, batch) = Compose(n);
            sending.Add(SendAsync(account, batch, due, cancel));
        }
        await Task.WhenAll(sending);
    }

    /// <summary>Batch n: account n mod the accounts; each alert new with probability NewShare, else a re-send of one of the account's earlier alerts.</summary>
    private (BenchAccount Account, List<TrackedAlert> Batch) Compose(long n)
    {
        var index = (int)(n % accounts.Count);
        var known = _byAccount[index];
        var random = new Random(HashCode.Combine(settings.Seed, n));
        var batch = new List<TrackedAlert>(settings.BatchSize);
        while (batch.Count < settings.BatchSize)
        {
            TrackedAlert alert;
            if (known.Count < settings.BatchSize || random.NextDouble() < settings.NewShare)
            {
                var position = known.Count;
                alert = new TrackedAlert(index, position / settings.AlertsPerIncident, position % settings.AlertsPerIncident);
                known.Add(alert); // only this loop touches the lists while the load runs
            }
            else
            {
                alert = known[random.Next(known.Count)];
                if (batch.Contains(alert)) continue; // a sender never repeats an alert within one request
            }
            batch.Add(alert);
        }
        return (accounts[index], batch);
    }

    private async Task SendAsync(BenchAccount account, List<TrackedAlert> batch, TimeSpan due, CancellationToken cancel)
    {
        Interlocked.Increment(ref _sentBatches);
        Interlocked.Add(ref _sentAlerts, batch.Count);
        var body = Body(batch);
        var attempts = 0;
        string? failure = null;
        try
        {
            while (true)
            {
                if (cluster.NextLive() is not { } silo)
                {
                    await Task.Delay(100, cancel);
                    continue;
                }
                attempts++;
                if (attempts == 2) Interlocked.Increment(ref _retrying);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                attempt.CancelAfter(AttemptTimeout);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/alerts") { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.Key);
                    using var response = await silo.Client.SendAsync(request, attempt.Token);
                    var answer = await response.Content.ReadAsStringAsync(attempt.Token);
                    var answeredAt = clock.Elapsed;
                    if (response.IsSuccessStatusCode)
                    {
                        Record(batch, answer, answeredAt.TotalSeconds, silo.Name);
                        Finish(new BatchResult(due.TotalSeconds, (answeredAt - due).TotalMilliseconds, attempts, true, null));
                        return;
                    }
                    var status = (int)response.StatusCode;
                    if (status is not (>= 500 or 408 or 429))
                    {
                        // The server refused the batch itself: sending it again would be refused again.
                        failure = $"{status} from {silo.Name}: {answer[..Math.Min(answer.Length, 300)]}";
                        Interlocked.CompareExchange(ref _firstRefusal, failure, null);
                        Finish(new BatchResult(due.TotalSeconds, (answeredAt - due).TotalMilliseconds, attempts, false, failure));
                        return;
                    }
                    Interlocked.Increment(ref _statusFailures);
                    _failedStatuses.AddOrUpdate(status, 1, (_, count) => count + 1);
                    failure = $"{status} from {silo.Name}";
                }
                catch (HttpRequestException e)
                {
                    Interlocked.Increment(ref _connectionFailures);
                    failure = $"{e.HttpRequestError} at {silo.Name}";
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _timeouts);
                    failure = $"no answer from {silo.Name} within {AttemptTimeout.TotalSeconds:0} s";
                }
                if (clock.Elapsed - due > GiveUpAfter)
                {
                    Interlocked.Increment(ref _gaveUp);
                    Finish(new BatchResult(due.TotalSeconds, (clock.Elapsed - due).TotalMilliseconds, attempts, false, $"gave up after {attempts} attempts; last: {failure}"));
                    return;
                }
                // The first retry goes to the next silo at once (a refused connection costs nothing); later ones back off.
                if (attempts > 1) await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 125 * Math.Pow(2, attempts - 1))), cancel);
            }
        }
        finally
        {
            if (attempts >= 2) Interlocked.Decrement(ref _retrying);
        }
    }

    private void Finish(BatchResult result)
    {
        lock (_results) _results.Add(result);
    }

    /// <summary>Each alert's receipt, in request order: its fingerprint and incident.</summary>
    private void Record(List<TrackedAlert> batch, string answer, double at, string silo)
    {
        using var json = JsonDocument.Parse(answer);
        var receipts = json.RootElement.GetProperty("alerts").EnumerateArray().ToList();
        if (receipts.Count != batch.Count) throw new InvalidOperationException($"{silo} answered {receipts.Count} receipts for {batch.Count} alerts: {answer}");
        for (var i = 0; i < batch.Count; i++)
        {
            var incident = receipts[i].TryGetProperty("incidentId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
            batch[i].Accepted(receipts[i].GetProperty("fingerprint").GetString()!, incident, at, silo);
        }
        Interlocked.Add(ref _acceptedEvents, batch.Count);
    }

    private byte[] Body(List<TrackedAlert> batch)
    {
        var buffer = new ArrayBufferWriter<byte>(512 * batch.Count);
        var endsAt = AlertStream.Timestamp(DateTimeOffset.UtcNow.AddHours(6));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var alert in batch) AlertStream.WriteAlert(json, alert.Labels, _startsAt, endsAt, "chaos");
            json.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
