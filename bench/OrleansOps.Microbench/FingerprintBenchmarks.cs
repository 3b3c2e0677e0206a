using BenchmarkDotNet.Attributes;
using OrleansOps.Domain;

namespace OrleansOps.Microbench;

/// <summary>
/// <see cref="AlertFingerprint.Of"/>, run once for every alert that arrives without a dedup key. No baseline: a
/// "naive" hash that is not byte-for-byte Alertmanager's would be measuring something else, so before/after figures
/// of a change come from running this benchmark on both commits.
/// </summary>
[MemoryDiagnoser]
public class FingerprintBenchmarks
{
    /// <summary>5: a bare Prometheus rule; 12: a typical Kubernetes alert; 30: kube-state-metrics labels copied onto the alert.</summary>
    [Params(5, 12, 30)]
    public int LabelCount { get; set; }

    private Dictionary<string, string> _labels = null!;

    [GlobalSetup]
    public void Setup() => _labels = LabelSets.Realistic(LabelCount);

    [Benchmark]
    public string Fingerprint() => AlertFingerprint.Of(_labels);
}
