namespace OrleansOps.Domain.Tests;

public sealed class ChronicleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private static List<ChronicleEntry> ThreeEntries()
    {
        var chronicle = new List<ChronicleEntry>();
        chronicle.Add(Chronicle.Next(chronicle, T0, ChronicleKinds.Opened, "alertmanager", "opened"));
        chronicle.Add(Chronicle.Next(chronicle, T0.AddMinutes(1), ChronicleKinds.Acknowledged, "ana", "ack", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }));
        chronicle.Add(Chronicle.Next(chronicle, T0.AddMinutes(2), ChronicleKinds.Resolved, "ana", "fixed"));
        return chronicle;
    }

    [Fact]
    public void Entries_link_to_the_one_before()
    {
        var chronicle = ThreeEntries();
        Assert.Equal(Chronicle.GenesisHash, chronicle[0].PrevHash);
        Assert.Equal(chronicle[0].Hash, chronicle[1].PrevHash);
        Assert.Equal(chronicle[1].Hash, chronicle[2].PrevHash);
        Assert.Equal([1L, 2L, 3L], chronicle.Select(e => e.Seq));
        var verification = Chronicle.Verify(chronicle);
        Assert.True(verification.Valid);
        Assert.Equal(3, verification.Entries);
        Assert.Equal(chronicle[2].Hash, verification.HeadHash);
    }

    [Fact]
    public void Altered_text_is_detected_at_its_entry()
    {
        var chronicle = ThreeEntries();
        chronicle[1] = chronicle[1] with { Text = "ack (edited)" };
        var verification = Chronicle.Verify(chronicle);
        Assert.False(verification.Valid);
        Assert.Equal(2, verification.FirstInvalidSeq);
    }

    [Fact]
    public void Altered_data_or_time_is_detected()
    {
        var data = ThreeEntries();
        data[1] = data[1] with { Data = new Dictionary<string, string> { ["a"] = "1", ["b"] = "3" } };
        Assert.False(Chronicle.Verify(data).Valid);

        var time = ThreeEntries();
        time[2] = time[2] with { At = time[2].At.AddSeconds(-30) };
        Assert.Equal(3, Chronicle.Verify(time).FirstInvalidSeq);
    }

    [Fact]
    public void Removed_or_rehashed_entries_break_the_chain()
    {
        var removed = ThreeEntries();
        removed.RemoveAt(1);
        Assert.False(Chronicle.Verify(removed).Valid);

        // Rewriting an entry and its own hash still breaks the link from the next entry.
        var rewritten = ThreeEntries();
        var forged = rewritten[1] with { Text = "forged" };
        rewritten[1] = forged with { Hash = Chronicle.HashOf(forged.Seq, forged.At, forged.Kind, forged.Actor, forged.Text, forged.Data, forged.PrevHash) };
        var verification = Chronicle.Verify(rewritten);
        Assert.False(verification.Valid);
        Assert.Equal(3, verification.FirstInvalidSeq);
    }

    [Fact]
    public void Data_order_does_not_change_the_hash()
    {
        var a = Chronicle.HashOf(1, T0, "k", "x", "t", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, Chronicle.GenesisHash);
        var b = Chronicle.HashOf(1, T0, "k", "x", "t", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }, Chronicle.GenesisHash);
        Assert.Equal(a, b);
    }

    [Fact]
    public void A_hash_held_as_a_digest_gives_back_the_same_text()
    {
        var hash = Chronicle.HashOf(1, T0, "k", "x", "t", new Dictionary<string, string>(), Chronicle.GenesisHash);
        Assert.Equal(hash, Sha256Digest.Parse(hash).ToString());
        Assert.Equal(Chronicle.GenesisHash, Sha256Digest.Parse(Chronicle.GenesisHash).ToString());
        Assert.Throws<FormatException>(() => Sha256Digest.Parse(hash.ToUpperInvariant()));
        Assert.Throws<FormatException>(() => Sha256Digest.Parse(hash[1..]));
        Assert.Throws<FormatException>(() => Sha256Digest.Parse(hash[1..] + "g"));
    }
}
