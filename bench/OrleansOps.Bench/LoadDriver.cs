using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace OrleansOps.Bench;

/// <summary>Where a run sends alerts: one base address per silo (or the one server), and the integration key (none for Alertmanager).</summary>
public sealed record IngestTarget(string Name, IReadOnlyList<Uri> Endpoints, string? Key);

/// <summary>What one run measured at the client: completed alerts and requests, the time they took, each request's latency.</summary>
/// <param name="DueSeconds">For each latency, when its request was due, in seconds from the start of the run.</param>
public sealed record LoadResult(long Alerts, long Requests, TimeSpan Elapsed, IReadOnlyList<double> LatenciesMs, IReadOnlyList<double> DueSeconds,
    long Failures, string? FirstFailure)
{
    public double AlertsPerSecond => Alerts / Elapsed.TotalSeconds;
    public double P50Ms => Statistics.Percentile(LatenciesMs, 0.50);
    public double P99Ms => Statistics.Percentile(LatenciesMs, 0.99);
}

/// <summary>
/// Sends a stream to <c>POST /api/v2/alerts</c> over a fixed number of HTTP/1.1 connections, each with one request in
/// flight at a time; connection i goes to endpoint i mod the endpoint count, so a cluster's silos share the load. A
/// batch is the next free index of the stream, taken by whichever connection is free.
/// </summary>
public sealed class LoadDriver(int connections)
{
    /// <summary>Closed loop: every connection sends its next batch as soon as its last answer arrived, for <paramref name="duration"/>.</summary>
    public Task<LoadResult> RunFlatOutAsync(IngestTarget target, AlertStream stream, int batchSize, TimeSpan duration, CancellationToken cancel) =>
        RunAsync(target, stream, batchSize, duration, interval: null, long.MaxValue, cancel);

    /// <summary>Closed loop over the stream's first <paramref name="batches"/> batches, each sent once, however long that takes.</summary>
    public Task<LoadResult> RunFlatOutAsync(IngestTarget target, AlertStream stream, int batchSize, long batches, CancellationToken cancel) =>
        RunAsync(target, stream, batchSize, TimeSpan.MaxValue, interval: null, batches, cancel);

    /// <summary>
    /// Open loop: batch n is due at start + n × (batch size ÷ rate), whether or not earlier answers came back, and its
    /// latency counts from when it was due, so time spent waiting for a free connection behind a slow answer is counted
    /// too (no coordinated omission, within the limit of the connection count).
    /// </summary>
    public Task<LoadResult> RunAtRateAsync(IngestTarget target, AlertStream stream, int batchSize, double alertsPerSecond, TimeSpan duration, CancellationToken cancel) =>
        RunAsync(target, stream, batchSize, duration, TimeSpan.FromSeconds(batchSize / alertsPerSecond), long.MaxValue, cancel);

    /// <summary>Open loop, as above, over the stream's first <paramref name="batches"/> batches: it lasts batches × batch size ÷ rate.</summary>
    public Task<LoadResult> RunAtRateAsync(IngestTarget target, AlertStream stream, int batchSize, double alertsPerSecond, long batches, CancellationToken cancel)
    {
        var interval = TimeSpan.FromSeconds(batchSize / alertsPerSecond);
        return RunAsync(target, stream, batchSize, interval * batches, interval, batches, cancel);
    }

    private async Task<LoadResult> RunAsync(IngestTarget target, AlertStream stream, int batchSize, TimeSpan duration, TimeSpan? interval, long batches,
        CancellationToken cancel)
    {
        var clients = target.Endpoints.Select(endpoint => new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(60) }).ToList();
        try
        {
            long next = -1;
            var clock = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, connections).Select(connection => Task.Run(async () =>
            {
                var client = clients[connection % clients.Count];
                var latencies = new List<double>();
                var dues = new List<double>();
                var buffer = new ArrayBufferWriter<byte>(64 * 1024);
                long failures = 0;
                string? firstFailure = null;
                while (!cancel.IsCancellationRequested)
                {
                    var index = Interlocked.Increment(ref next);
                    if (index >= batches) break;
                    var due = interval is { } step ? step * index : clock.Elapsed;
                    if (due >= duration) break;
                    if (due - clock.Elapsed is { Ticks: > 0 } wait) await Task.Delay(wait, cancel);

                    buffer.ResetWrittenCount();
                    stream.WriteBatch(index, batchSize, DateTimeOffset.UtcNow, buffer);
                    using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/alerts") { Content = new ReadOnlyMemoryContent(buffer.WrittenMemory) };
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    if (target.Key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Key);
                    using var response = await client.SendAsync(request, cancel);
                    var body = await response.Content.ReadAsStringAsync(cancel);
                    var answered = clock.Elapsed;
                    if (response.IsSuccessStatusCode)
                    {
                        latencies.Add((answered - due).TotalMilliseconds);
                        dues.Add(due.TotalSeconds);
                    }
                    else if (failures++ == 0) firstFailure = $"{(int)response.StatusCode} {body[..Math.Min(body.Length, 500)]}";
                }
                return (latencies, dues, failures, firstFailure);
            }, cancel)).ToList();
            var results = await Task.WhenAll(workers);
            var elapsed = interval is null ? clock.Elapsed : duration;
            var all = results.SelectMany(r => r.latencies).ToList();
            return new LoadResult((long)all.Count * batchSize, all.Count, elapsed, all, results.SelectMany(r => r.dues).ToList(), results.Sum(r => r.failures),
                results.Select(r => r.firstFailure).FirstOrDefault(f => f is not null));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }
}

public static class Statistics
{
    /// <summary>The nearest-rank percentile (NaN for no values).</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The middle value; for an even count, the mean of the middle two.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) return double.NaN;
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
