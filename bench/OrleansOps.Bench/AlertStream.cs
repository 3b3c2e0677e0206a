using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace OrleansOps.Bench;

public enum StreamKind
{
    /// <summary>A few distinct alerts re-sent over and over, as Prometheus re-sends every firing alert on each evaluation.</summary>
    Repeat,
    /// <summary>Mostly alerts never seen before (a fleet-wide failure, pods coming and going), with some re-sends.</summary>
    Distinct,
    /// <summary>Only alerts never seen before, all landing in a few groups: one failure taking a fleet down, its incidents growing.</summary>
    Storm,
}

/// <summary>The labels of one alert in a stream.</summary>
public readonly record struct StreamAlert(string AlertName, string Severity, string Service, string Instance);

/// <summary>
/// A deterministic stream of Prometheus-shaped alerts: the alert at each position is a pure function of the seed, the
/// round and the position, so any sender can build any batch, batches can be taken in any order by concurrent
/// connections, and both systems get exactly the same stream. Each round adds its own <c>bench_round</c> label, so
/// round n's alerts are new to a server that saw round n-1 (Alertmanager keeps its alerts across runs; OrleansOps gets a
/// fresh account per run, except in the storm, whose runs are consecutive slices of one round on one account).
/// <list type="bullet">
/// <item>Repeat-heavy: <see cref="RepeatPool"/> distinct alerts (20 services × 5 alert names × 2 instances, so 100
/// groups), each position a random pick among them.</item>
/// <item>Distinct-heavy: nine positions in ten are a new alert (its own instance) on one of <see cref="DistinctServices"/>
/// services and <see cref="DistinctNames"/> alert names (at most 1,200 groups, so 1,200 incidents); the tenth re-sends
/// the alert of one of the previous 1,000 positions.</item>
/// <item>Storm: every position a new alert (its own instance) on one of <see cref="StormServices"/> services and
/// <see cref="StormNames"/> alert names, so exactly <see cref="StormGroups"/> groups that keep growing. The services carry
/// the round in their name (<c>storm&lt;round&gt;-svc-nn</c>): Alertmanager groups by service and alertname, not by
/// bench_round, so a storm round fills groups of its own there too, not those of a warm-up or an earlier case.</item>
/// </list>
/// </summary>
public sealed class AlertStream(StreamKind kind, int seed, int round)
{
    public const int RepeatPool = 200;
    public const int DistinctServices = 300;
    public const int DistinctNames = 4;
    public const int StormServices = 20;
    public const int StormNames = 4;
    public const int StormGroups = StormServices * StormNames;
    private const int RepeatServices = 20;
    private const int RepeatNames = 5;
    private const int ResendWindow = 1000;

    private static readonly (string Name, string Severity)[] AlertNames =
    [
        ("HighErrorRate", "critical"), ("HighLatency", "warning"), ("InstanceDown", "critical"), ("DiskSpaceLow", "warning"),
        ("HighMemoryUsage", "warning"),
    ];

    private readonly string _round = round.ToString(CultureInfo.InvariantCulture);
    private readonly ulong _base = SplitMix((ulong)round + SplitMix((ulong)(uint)seed));
    // Not readonly: From copies them into the view it answers.
    private string _startsAt = Timestamp(DateTimeOffset.UtcNow.AddMinutes(-1));
    private long _first;

    public StreamKind Kind => kind;

    /// <summary>
    /// The same stream from <paramref name="first"/> on: its batch 0 starts at that position. Consecutive runs of one
    /// storm send consecutive slices, so each run's alerts are new and still belong to the same groups.
    /// </summary>
    public AlertStream From(long first) => new(kind, seed, round) { _startsAt = _startsAt, _first = _first + first };

    public StreamAlert At(long position)
    {
        var draw = Mix(position);
        if (kind == StreamKind.Storm)
        {
            var group = (int)(draw % StormGroups);
            var (stormName, stormSeverity) = AlertNames[group % StormNames];
            return new StreamAlert(stormName, stormSeverity, $"storm{_round}-svc-{group / StormNames:D2}", $"host-{position}");
        }
        if (kind == StreamKind.Repeat)
        {
            var pick = (int)(draw % RepeatPool);
            var (name, severity) = AlertNames[pick / 2 % RepeatNames];
            return new StreamAlert(name, severity, Service(pick / (2 * RepeatNames) % RepeatServices), $"host-{pick % 2}");
        }
        // A re-send points back at an earlier position, which may itself be a re-send: a short chain, ten to one per step.
        while (position >= ResendWindow && draw % 10 == 0)
        {
            position -= 1 + (long)(draw / 10 % ResendWindow);
            draw = Mix(position);
        }
        var (distinctName, distinctSeverity) = AlertNames[(int)(draw / 16 % DistinctNames)];
        return new StreamAlert(distinctName, distinctSeverity, Service((int)(draw / 64 % DistinctServices)), $"host-{position}");
    }

    /// <summary>
    /// The Alertmanager v2 alerts body of the batch at <paramref name="index"/> (positions index × size onwards, counted
    /// from the slice's first position).
    /// </summary>
    public void WriteBatch(long index, int size, DateTimeOffset now, IBufferWriter<byte> output)
    {
        var endsAt = Timestamp(now.AddHours(1));
        using var json = new Utf8JsonWriter(output);
        json.WriteStartArray();
        var first = _first + index * size;
        for (var position = first; position < first + size; position++) WriteAlert(json, At(position), _startsAt, endsAt, _round);
        json.WriteEndArray();
    }

    /// <summary>
    /// One alert as Prometheus sends it to an Alertmanager: labels, a summary annotation, startsAt, an endsAt ahead (the
    /// bench sends an hour or more, so nothing expires during a run) and a generatorURL.
    /// </summary>
    public static void WriteAlert(Utf8JsonWriter json, StreamAlert alert, string startsAt, string endsAt, string round)
    {
        json.WriteStartObject();
        json.WriteStartObject("labels");
        json.WriteString("alertname", alert.AlertName);
        json.WriteString("service", alert.Service);
        json.WriteString("instance", alert.Instance);
        json.WriteString("severity", alert.Severity);
        json.WriteString("job", "bench");
        json.WriteString("bench_round", round);
        json.WriteEndObject();
        json.WriteStartObject("annotations");
        json.WriteString("summary", $"{alert.AlertName} on {alert.Instance} of {alert.Service}");
        json.WriteEndObject();
        json.WriteString("startsAt", startsAt);
        json.WriteString("endsAt", endsAt);
        json.WriteString("generatorURL", $"http://prometheus.bench:9090/graph?g0.expr={alert.AlertName}");
        json.WriteEndObject();
    }

    public static string Timestamp(DateTimeOffset at) => at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Service(int index) => $"svc-{index:D3}";

    /// <summary>Independent draws per (seed, round, position), with no shared generator to lock between connections.</summary>
    private ulong Mix(long position) => SplitMix(unchecked(_base + (ulong)position));

    /// <summary>SplitMix64's output function: a well-mixed 64-bit value of a counter.</summary>
    private static ulong SplitMix(ulong value)
    {
        var z = unchecked(value + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
