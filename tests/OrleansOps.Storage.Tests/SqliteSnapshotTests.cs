using Microsoft.Data.Sqlite;
using OrleansOps.Abstractions;

namespace OrleansOps.Storage.Tests;

/// <summary>
/// A snapshot stands for the entries before it: a load gets the snapshot and only the entries after it, whether or not
/// the covered entries have been dropped yet; they are dropped in sweeps, and at the latest when the store closes.
/// </summary>
public sealed class SqliteSnapshotTests : StoreFolder
{
    [Fact]
    public async Task A_load_reads_the_snapshot_and_the_entries_after_it_and_a_closedStore_holds_no_covered_entry()
    {
        string[] streams = ["incident/inc-a", "incident/inc-b", "correlator/acme"];
        // 1,500 entries per stream, a snapshot at every 400th, all in the log and moved (500 to a move) in between.
        for (var seq = 1; seq <= 1_500; seq++)
            await Task.WhenAll(streams.Select(stream => Store.Append(new JournalEntry
            {
                Stream = stream, Account = "acme", Seq = seq, Payload = BitConverter.GetBytes(seq),
                Snapshot = seq % 400 == 0 ? BitConverter.GetBytes(-seq) : null,
            })));

        foreach (var stream in streams) AssertHistory(await Store.LoadAsync(stream));
        await ReopenAsync();
        foreach (var stream in streams) AssertHistory(await Store.LoadAsync(stream));

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(DataPath, SqliteStore.HistoryFileName)}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"ATTACH DATABASE '{Path.Combine(DataPath, SqliteStore.FileName)}' AS log";
        await command.ExecuteNonQueryAsync();
        command.CommandText = "SELECT count(*) FROM journal j JOIN log.snapshots s ON s.stream = j.stream WHERE j.seq <= s.seq";
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        command.CommandText = "SELECT count(*) FROM journal";
        Assert.True((long)(await command.ExecuteScalarAsync())! > 0, "the entries after the snapshots were dropped too");

        static void AssertHistory(StreamHistory history)
        {
            Assert.Equal(1_200, history.SnapshotSeq);
            Assert.Equal(-1_200, BitConverter.ToInt32(history.Snapshot));
            Assert.Equal(Enumerable.Range(1_201, 300).Select(s => (long)s), history.Entries.Select(e => e.Seq));
            Assert.All(history.Entries, e => Assert.Equal((int)e.Seq, BitConverter.ToInt32(e.Payload)));
        }
    }
}
