using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OrleansOps.Domain;

/// <summary>One step in an incident's record. <see cref="Hash"/> covers every field and the previous entry's hash.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
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
    public const string SlaCorrected = "sla.corrected";
    public const string Merged = "incident.merged";
    public const string Split = "incident.split";
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
        IReadOnlyDictionary<string, string>? data = null) =>
        chronicle.Count > 0
            ? Next(chronicle[^1].Seq, chronicle[^1].Hash, at, kind, actor, text, data)
            : Next(0, GenesisHash, at, kind, actor, text, data);

    /// <summary>The entry that follows the one numbered <paramref name="previousSeq"/> with hash <paramref name="previousHash"/>.</summary>
    public static ChronicleEntry Next(
        long previousSeq, string previousHash, DateTimeOffset at, string kind, string actor, string text,
        IReadOnlyDictionary<string, string>? data = null)
    {
        var seq = previousSeq + 1;
        var fields = data ?? new Dictionary<string, string>();
        return new ChronicleEntry
        {
            Seq = seq,
            At = at.ToUniversalTime(),
            Kind = kind,
            Actor = actor,
            Text = text,
            Data = fields,
            PrevHash = previousHash,
            Hash = HashOf(seq, at, kind, actor, text, fields, previousHash),
        };
    }

    public static ChronicleVerification Verify(IReadOnlyList<ChronicleEntry> chronicle)
    {
        var check = new ChronicleCheck();
        foreach (var entry in chronicle) check.Next(entry);
        return check.Result;
    }

    /// <summary>Each thread's buffer and writer for <see cref="HashOf"/>: every chronicle entry is hashed as it is made.</summary>
    [ThreadStatic] private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Json)? _hashing;

    public static string HashOf(
        long seq, DateTimeOffset at, string kind, string actor, string text,
        IReadOnlyDictionary<string, string> data, string prevHash)
    {
        var (buffer, json) = _hashing ??= NewHashing();
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        json.WriteStartArray();
        json.WriteNumberValue(seq);
        Span<char> time = stackalloc char[28];
        at.UtcDateTime.TryFormat(time, out var written, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        json.WriteStringValue(time[..written]);
        json.WriteStringValue(kind);
        json.WriteStringValue(actor);
        json.WriteStringValue(text);
        json.WriteStartArray();
        var keys = ArrayPool<string>.Shared.Rent(data.Count);
        try
        {
            var count = 0;
            foreach (var key in data.Keys) keys[count++] = key;
            Array.Sort(keys, 0, count, StringComparer.Ordinal);
            foreach (var key in keys.AsSpan(0, count))
            {
                json.WriteStartArray();
                json.WriteStringValue(key);
                json.WriteStringValue(data[key]);
                json.WriteEndArray();
            }
        }
        finally
        {
            ArrayPool<string>.Shared.Return(keys, clearArray: true);
        }
        json.WriteEndArray();
        json.WriteStringValue(prevHash);
        json.WriteEndArray();
        json.Flush();
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static (ArrayBufferWriter<byte>, Utf8JsonWriter) NewHashing()
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        return (buffer, new Utf8JsonWriter(buffer));
    }
}

/// <summary>
/// A chronicle hash held as four numbers rather than as its 64 hex digits: an incident keeps the hash of its last entry
/// while it is active and takes a new one with every change, and as text each is 150 bytes on the heap.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct Sha256Digest(
    [property: Id(0)] ulong First, [property: Id(1)] ulong Second, [property: Id(2)] ulong Third, [property: Id(3)] ulong Fourth)
{
    private const int Bytes = 32;

    /// <summary>Reads 64 lower-case hex digits, as <see cref="Chronicle.HashOf"/> writes them (so that <see cref="ToString"/> gives them back).</summary>
    public static Sha256Digest Parse(string hex)
    {
        Span<byte> bytes = stackalloc byte[Bytes];
        if (hex.Length != Bytes * 2 || hex.AsSpan().ContainsAnyInRange('A', 'F')
            || Convert.FromHexString(hex, bytes, out _, out _) != OperationStatus.Done)
            throw new FormatException($"'{hex}' is not a SHA-256 hash in 64 lower-case hex digits.");
        return new Sha256Digest(
            BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]), BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Bytes];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, First);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Second);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], Third);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[24..], Fourth);
        return Convert.ToHexStringLower(bytes);
    }
}

/// <summary>Verifies a chronicle entry by entry, so that one too long to hold at once can be read and checked in pages.</summary>
public sealed class ChronicleCheck
{
    private string _expectedPrev = Chronicle.GenesisHash;
    private long _expectedSeq = 1;
    private int _entries;
    private string? _head;
    private (long Seq, string Reason)? _invalid;

    /// <summary>Checks the next entry; false once the chain is broken (the result says where the first break is).</summary>
    public bool Next(ChronicleEntry entry)
    {
        _entries++;
        _head = entry.Hash;
        if (_invalid is not null) return false;
        if (entry.Seq != _expectedSeq)
            _invalid = (entry.Seq, $"entry {entry.Seq} is out of sequence (expected {_expectedSeq})");
        else if (entry.PrevHash != _expectedPrev)
            _invalid = (entry.Seq, $"entry {entry.Seq} does not link to the entry before it");
        else if (Chronicle.HashOf(entry.Seq, entry.At, entry.Kind, entry.Actor, entry.Text, entry.Data, entry.PrevHash) != entry.Hash)
            _invalid = (entry.Seq, $"entry {entry.Seq} was altered after it was written");
        _expectedPrev = entry.Hash;
        _expectedSeq++;
        return _invalid is null;
    }

    public ChronicleVerification Result => _invalid is { } bad
        ? new ChronicleVerification(false, _entries, _head, bad.Seq, bad.Reason)
        : new ChronicleVerification(true, _entries, _head ?? Chronicle.GenesisHash, null, null);
}
