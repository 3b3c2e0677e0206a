using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansOps.Domain;

namespace OrleansOps.Microbench;

/// <summary>
/// A correlator's snapshot as a storm leaves it: <see cref="FiringAlerts"/> firing alerts of one service in 80 groups,
/// each alert where it fires and which group counts it, and the last 256 alerts placed in each incident. The journal
/// writes one such snapshot whenever the history since the last is about twice its size, within the request that
/// makes it due, so what a snapshot costs per alert is what a storm pays per alert for snapshots.
/// </summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    [Params(10_000, 300_000)]
    public int FiringAlerts { get; set; }

    private const int Groups = 80;
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private Serializer _serializer = null!;
    private CorrelatorState _state = null!;
    private byte[] _snapshot = null!;

    [GlobalSetup]
    public void Setup()
    {
        _serializer = new ServiceCollection().AddSerializer(builder => builder.AddAssembly(typeof(CorrelatorState).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();
        _state = new CorrelatorState();
        var incidents = Enumerable.Range(0, Groups).Select(g => $"inc-0k3v9x2m{g:D12}").ToArray();
        var groups = Enumerable.Range(0, Groups).Select(g => $"alertname=StormAlert{g % 4}|service=storm-svc-{g / 4:D2}").ToArray();
        for (var g = 0; g < Groups; g++)
        {
            _state.OpenGroups[groups[g]] = incidents[g];
            _state.Groups[groups[g]] = new GroupLife { Firing = FiringAlerts / Groups, QuietSince = Now };
        }
        var random = new Random(1);
        for (var i = 0; i < FiringAlerts; i++)
        {
            var g = i % Groups;
            var fingerprint = random.NextInt64().ToString("x16");
            _state.FiringAlerts[fingerprint] = incidents[g];
            _state.CountedIn[fingerprint] = groups[g];
            _state.Placed.Add(incidents[g], new PlacedAlert($"StormAlert{g % 4}", $"node-{i:D7}", Severity.Sev2, Now.AddMilliseconds(i)), TimeSpan.FromMinutes(5));
        }
        _state.TakeChange();
        _snapshot = Write();
        if (Read().FiringAlerts.Count != FiringAlerts) throw new InvalidOperationException("The snapshot does not read back whole.");
        Console.WriteLine($"// snapshot of {FiringAlerts:N0} firing alerts: {_snapshot.Length:N0} bytes");
    }

    [Benchmark]
    public byte[] Write() => _serializer.SerializeToArray(_state);

    [Benchmark]
    public CorrelatorState Read() => _serializer.Deserialize<CorrelatorState>(_snapshot)!;
}
