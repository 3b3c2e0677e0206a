using Microsoft.Data.Sqlite;
using OrleansOps.Abstractions;

namespace OrleansOps.Storage.Tests;

/// <summary>
/// The account's incident index and the wake index, as the journal's entries leave them once the log has been moved
/// into the history (in moves of a few thousand, so an incident's rows land in several): per incident its latest
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

    /// <summary>
    /// A move commits in the history before the writer drops its rows from the log, and the next move may commit before
    /// that drop, so a crash in between leaves the log holding rows the history holds too, and rows it does not. Built
    /// here by hand from a store that moved everything: the first half of the streams moved and still in the log, the
    /// second half in the log alone. The next start moves the log again and every stream, chronicle and index row reads
    /// as before.
    /// </summary>
    [Fact]
    public async Task A_start_after_a_crash_between_a_move_and_the_logs_drop_of_its_rows_moves_the_log_again_to_the_same_outcome()
    {
        var streams = Enumerable.Range(0, 40).Select(i => $"incident/inc-{i:D3}").ToList();
        for (var seq = 1; seq <= 30; seq++)
            await Task.WhenAll(streams.Select(stream => Store.Append(new JournalEntry
            {
                Stream = stream, Account = "acme", Seq = seq, Payload = [(byte)seq, (byte)stream.Length, .. System.Text.Encoding.UTF8.GetBytes(stream)],
                Chronicle = new JournalRecord(seq, [(byte)seq, 7]),
                Index = new IndexRow(stream["incident/".Length..], seq, true, T0, seq == 1 ? [(byte)streams.IndexOf(stream)] : null, seq, seq, 1),
            })));
        var before = await ReadAllAsync();
        await Store.DisposeAsync();

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(DataPath, SqliteStore.HistoryFileName)}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"ATTACH DATABASE '{Path.Combine(DataPath, SqliteStore.FileName)}' AS log";
            await command.ExecuteNonQueryAsync();
            command.Parameters.AddWithValue("$half", streams[20]);
            command.CommandText = """
                INSERT INTO log.journal_log (stream, account, seq, payload, chronicle_seq, chronicle, incident, index_version, index_open,
                        index_opened_ticks, index_summary, index_alerts, index_firing, index_nodes)
                    SELECT j.stream, 'acme', j.seq, j.payload, c.seq, c.payload, i.incident, j.seq, i.open, i.opened_ticks,
                        CASE WHEN j.seq = 1 THEN i.summary END, j.seq, j.seq, i.node_count
                    FROM journal j JOIN chronicle c ON c.stream = j.stream AND c.seq = j.seq
                        JOIN incident_index i ON 'incident/' || i.incident = j.stream
                    ORDER BY j.stream, j.seq;
                DELETE FROM journal WHERE stream >= $half;
                DELETE FROM chronicle WHERE stream >= $half;
                UPDATE incident_index SET version = 0, alert_count = 0, firing_count = 0 WHERE 'incident/' || incident >= $half;
                """;
            Assert.Equal(streams.Count * 30 * 2, await command.ExecuteNonQueryAsync() - 20 /* the index rows reset */);
        }
        SqliteConnection.ClearAllPools();

        await ReopenAsync();
        Assert.Equal(before, await ReadAllAsync());
        await ReopenAsync();
        Assert.Equal(before, await ReadAllAsync());

        async Task<List<string>> ReadAllAsync()
        {
            var read = new List<string>();
            foreach (var stream in streams)
            {
                var history = await Store.LoadAsync(stream);
                read.Add($"{stream} {history.SnapshotSeq}: {string.Join(",", history.Entries.Select(e => $"{e.Seq}={Convert.ToHexString(e.Payload)}"))}");
                var chronicle = await Store.ReadChronicleAsync(stream, 0, 100);
                read.Add($"{stream} chronicle: {string.Join(",", chronicle.Select(r => $"{r.Seq}={Convert.ToHexString(r.Payload)}"))}");
            }
            read.AddRange((await Store.ReadIndexAsync("acme"))
                .Select(i => $"{Convert.ToHexString(i.Summary)} v{i.Version} {i.Alerts}/{i.Firing}/{i.Nodes}").Order(StringComparer.Ordinal));
            return read;
        }
    }
}
