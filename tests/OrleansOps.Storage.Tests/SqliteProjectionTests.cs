using OrleansOps.Abstractions;

namespace OrleansOps.Storage.Tests;

/// <summary>
/// The account's incident index and the wake index, as the journal's entries leave them once the log has been moved
/// into the tables read by stream (in chunks, so an incident's rows land in several moves): per incident its latest
/// summary with its latest counts, per stream its latest wake; and the same after the store is opened again.
/// </summary>
public sealed class SqliteProjectionTests : StoreFolder
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task The_index_holds_each_incidents_latest_summary_and_counts_and_the_wakes_each_streams_latest(int seed)
    {
        var random = new Random(seed);
        string[] accounts = ["acme", "globex"];
        var seqs = new Dictionary<string, long>();
        var summaries = new Dictionary<(string, string), byte[]>();
        var counts = new Dictionary<(string, string), (long Version, int Alerts, int Firing, int Nodes)>();
        var wakes = new Dictionary<string, (string Account, DateTimeOffset? At)>();
        var pending = new List<Task>();
        for (var i = 0; i < 2_500; i++)
        {
            var account = accounts[random.Next(accounts.Length)];
            var incident = $"inc-{account}-{random.Next(40):D3}";
            var stream = "incident/" + incident;
            var seq = seqs[stream] = seqs.GetValueOrDefault(stream) + 1;
            // A summary on an incident's first change and now and then after; counts on every change.
            var summary = !summaries.ContainsKey((account, incident)) || random.Next(5) == 0 ? BitConverter.GetBytes(random.NextInt64()) : null;
            var row = new IndexRow(incident, seq, random.Next(10) > 0, T0, summary, random.Next(1000), random.Next(1000), random.Next(50));
            StreamWake? wake = random.Next(4) switch
            {
                0 => new StreamWake(stream, account, T0.AddSeconds(random.Next(3_600))),
                1 => new StreamWake(stream, account, null),
                _ => null,
            };
            pending.Add(Store.Append(new JournalEntry
            {
                Stream = stream, Account = account, Seq = seq, Payload = [1, 2, 3], Index = row, Wake = wake,
                Chronicle = new JournalRecord(seq, [4, 5]),
            }));
            if (summary is not null) summaries[(account, incident)] = summary;
            counts[(account, incident)] = (row.Version, row.Alerts, row.Firing, row.Nodes);
            if (wake is not null) wakes[stream] = (account, wake.At);
            if (random.Next(50) == 0)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);

        await AssertProjections();
        await ReopenAsync();
        await AssertProjections();

        async Task AssertProjections()
        {
            foreach (var account in accounts)
            {
                var index = await Store.ReadIndexAsync(account);
                var expected = counts.Where(c => c.Key.Item1 == account).ToList();
                Assert.Equal(expected.Count, index.Count);
                foreach (var ((_, incident), (version, alerts, firing, nodes)) in expected)
                {
                    var held = Assert.Single(index, i => i.Version == version && i.Summary.SequenceEqual(summaries[(account, incident)]));
                    Assert.Equal((alerts, firing, nodes), (held.Alerts, held.Firing, held.Nodes));
                }
            }
            var due = await Store.DueWakesAsync(T0.AddDays(1), after: null, limit: 10_000);
            var expectedWakes = wakes.Where(w => w.Value.At is not null).OrderBy(w => w.Value.At).ThenBy(w => w.Key, StringComparer.Ordinal).ToList();
            Assert.Equal(expectedWakes.Select(w => (w.Key, w.Value.Account, w.Value.At)), due.Select(w => (w.Stream, w.Account, w.At)));
        }
    }
}
