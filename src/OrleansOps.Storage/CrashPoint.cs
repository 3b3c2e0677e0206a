using System.Diagnostics;

namespace OrleansOps.Storage;

/// <summary>
/// Fault injection for the crash tests: the process kills itself with SIGKILL, as <c>kill -9</c> or the kernel's OOM
/// killer would, the n-th time the embedded journal's writer reaches a named point. Set by the environment variable
/// <c>ORLEANSOPS_CRASH_AT=&lt;point&gt;:&lt;n&gt;</c>; unset (always, outside those tests) it costs one comparison.
/// </summary>
public sealed class CrashPoint
{
    public const string Variable = "ORLEANSOPS_CRASH_AT";

    /// <summary>A flush written but not committed.</summary>
    public const string BeforeCommit = "before-commit";
    /// <summary>A flush committed (fsynced), its requests not yet answered.</summary>
    public const string AfterCommit = "after-commit";
    /// <summary>A snapshot written in a flush, nothing committed.</summary>
    public const string DuringSnapshot = "during-snapshot";
    /// <summary>The entries committed snapshots cover being dropped, not committed.</summary>
    public const string DuringTruncation = "during-truncation";
    /// <summary>A slice of the log copied into the tables read by stream (the last slice also empties the log), not committed.</summary>
    public const string DuringMove = "during-move";
    /// <summary>A slice of a move committed (before the last one: the log still holds what it copied), the writer's own record of it not yet updated.</summary>
    public const string AfterMove = "after-move";

    private static readonly string[] Points = [BeforeCommit, AfterCommit, DuringSnapshot, DuringTruncation, DuringMove, AfterMove];

    public static CrashPoint? FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    public static CrashPoint? Parse(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting)) return null;
        var parts = setting.Split(':');
        if (parts.Length != 2 || !Points.Contains(parts[0]) || !int.TryParse(parts[1], out var occurrence) || occurrence < 1)
            throw new ArgumentException($"{Variable} must be <point>:<n> with a point among {string.Join(", ", Points)} and n ≥ 1; it is '{setting}'.");
        return new CrashPoint(parts[0], occurrence);
    }

    private readonly string _point;
    private readonly int _occurrence;
    private int _reached;

    private CrashPoint(string point, int occurrence) => (_point, _occurrence) = (point, occurrence);

    public void Reach(string point)
    {
        if (point != _point || Interlocked.Increment(ref _reached) != _occurrence) return;
        Console.Error.WriteLine($"{Variable}: killing the process at {point} #{_occurrence}");
        Process.GetCurrentProcess().Kill();
    }
}
