using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OrleansOps.Domain;

/// <summary>One step in an incident's record. <see cref="Hash"/> covers every field and the previous entry's hash.</summary>
[GenerateSerializer, Immutable]
public sealed record ChronicleEntry
{
    [Id(0)] public required long Seq { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
    [Id(2)] public required string Kind { get; init; }
    [Id(3)] public required string Actor { get; init; }
    [Id(4)] public required string Text { get; init; }
    [Id(5)] public IReadOnlyDictionary<string, string> Data { get; init; } = new Dictionary<string, string>();
    [Id(6)] public required string PrevHash { get; init; }
    [Id(7)] public required string Hash { get; init; }
}

public static class ChronicleKinds
{
    public const string Opened = "incident.opened";
    public const string AlertAttached = "alert.attached";
    public const string AlertRefired = "alert.refired";
    public const string AlertResolved = "alert.resolved";
    public const string SeverityChanged = "severity.changed";
    public const string Acknowledged = "incident.acknowledged";
    public const string Resolved = "incident.resolved";
    public const string Reopened = "incident.reopened";
    public const string Note = "note.added";
    public const string EscalationPolicy = "escalation.policy";
    public const string Escalated = "escalation.step";
    public const string Reassigned = "incident.reassigned";
    public const string AckTimedOut = "acknowledgement.timedout";
    public const string Retriggered = "incident.retriggered";
    public const string NotificationAttempt = "notification.attempt";
    public const string NotificationDelivered = "notification.delivered";
    public const string NotificationFailed = "notification.failed";
    public const string NotificationCancelled = "notification.cancelled";
    public const string StakeholdersUpdated = "stakeholders.updated";
    public const string SlaWarning = "sla.warning";
    public const string Imported = "incident.imported";
    public const string TicketCreated = "ticket.created";
    public const string TicketFailed = "ticket.failed";
    public const string SlaBreached = "sla.breached";
}

[GenerateSerializer, Immutable]
public sealed record ChronicleVerification(
    [property: Id(0)] bool Valid,
    [property: Id(1)] int Entries,
    [property: Id(2)] string? HeadHash,
    [property: Id(3)] long? FirstInvalidSeq,
    [property: Id(4)] string? Reason);

/// <summary>
/// The hash chain: each entry's hash is SHA-256 over a canonical JSON array of its fields (timestamps in UTC,
/// data sorted by key) and the previous hash, so an exported record can be re-verified by anyone.
/// </summary>
public static class Chronicle
{
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    public static ChronicleEntry Next(
        IReadOnlyList<ChronicleEntry> chronicle, DateTimeOffset at, string kind, string actor, string text,
        IReadOnlyDictionary<string, string>? data = null)
    {
        var previous = chronicle.Count > 0 ? chronicle[^1] : null;
        var seq = (previous?.Seq ?? 0) + 1;
        var prevHash = previous?.Hash ?? GenesisHash;
        var fields = data ?? new Dictionary<string, string>();
        return new ChronicleEntry
        {
            Seq = seq,
            At = at.ToUniversalTime(),
            Kind = kind,
            Actor = actor,
            Text = text,
            Data = fields,
            PrevHash = prevHash,
            Hash = HashOf(seq, at, kind, actor, text, fields, prevHash),
        };
    }

    public static ChronicleVerification Verify(IReadOnlyList<ChronicleEntry> chronicle)
    {
        var expectedPrev = GenesisHash;
        long expectedSeq = 1;
        foreach (var entry in chronicle)
        {
            if (entry.Seq != expectedSeq)
                return Invalid(chronicle, entry.Seq, $"entry {entry.Seq} is out of sequence (expected {expectedSeq})");
            if (entry.PrevHash != expectedPrev)
                return Invalid(chronicle, entry.Seq, $"entry {entry.Seq} does not link to the entry before it");
            var recomputed = HashOf(entry.Seq, entry.At, entry.Kind, entry.Actor, entry.Text, entry.Data, entry.PrevHash);
            if (recomputed != entry.Hash)
                return Invalid(chronicle, entry.Seq, $"entry {entry.Seq} was altered after it was written");
            expectedPrev = entry.Hash;
            expectedSeq++;
        }
        return new ChronicleVerification(true, chronicle.Count, chronicle.Count > 0 ? chronicle[^1].Hash : GenesisHash, null, null);
    }

    private static ChronicleVerification Invalid(IReadOnlyList<ChronicleEntry> chronicle, long seq, string reason) =>
        new(false, chronicle.Count, chronicle.Count > 0 ? chronicle[^1].Hash : null, seq, reason);

    internal static string HashOf(
        long seq, DateTimeOffset at, string kind, string actor, string text,
        IReadOnlyDictionary<string, string> data, string prevHash)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            json.WriteNumberValue(seq);
            json.WriteStringValue(at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
            json.WriteStringValue(kind);
            json.WriteStringValue(actor);
            json.WriteStringValue(text);
            json.WriteStartArray();
            foreach (var (key, value) in data.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                json.WriteStartArray();
                json.WriteStringValue(key);
                json.WriteStringValue(value);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteStringValue(prevHash);
            json.WriteEndArray();
        }
        return Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }
}
