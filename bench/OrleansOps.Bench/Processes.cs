using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansOps.Bench;

/// <summary>
/// What the bench started and must take down again: child processes, a PostgreSQL started through pg_ctl, temporary
/// folders. Each owner undoes its own on a normal end (newest first); whatever is still registered when the process
/// exits (Ctrl+C or SIGTERM past the command's grace period, an unhandled exception) is undone from ProcessExit.
/// </summary>
public static class Cleanup
{
    private static readonly List<Registration> Pending = [];

    static Cleanup() => AppDomain.CurrentDomain.ProcessExit += (_, _) => RunAll();

    /// <summary>Registers <paramref name="undo"/>; disposing the answer runs it (once) and forgets it.</summary>
    public static IDisposable Register(string what, Action undo)
    {
        var registration = new Registration(what, undo);
        lock (Pending) Pending.Add(registration);
        return registration;
    }

    /// <summary>A fresh folder under the system's temp folder, removed on clean-up.</summary>
    public static (string Path, IDisposable Removal) TempFolder(string prefix)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return (path, Register($"remove {path}", () => Directory.Delete(path, recursive: true)));
    }

    private static void RunAll()
    {
        List<Registration> left;
        lock (Pending) left = [.. Pending];
        for (var i = left.Count - 1; i >= 0; i--) left[i].Dispose();
    }

    private sealed class Registration(string what, Action undo) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1) return;
            lock (Pending) Pending.Remove(this);
            try { undo(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                Console.Error.WriteLine($"clean-up: could not {what}: {e.Message}");
            }
        }
    }
}

/// <summary>A program the bench runs as its child, its output kept in a log file; killed (with its children) on clean-up.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly IDisposable _kill;

    private ChildProcess(Process process, string logPath)
    {
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _kill = Cleanup.Register($"stop {Path.GetFileName(logPath)} (pid {process.Id})", Kill);
    }

    public int Id => _process.Id;
    public string LogPath { get; }
    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string program, IEnumerable<string> arguments, string logPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}"), logPath);
    }

    /// <summary>The last lines of its output, to explain why it did not come up.</summary>
    public string Tail(int lines = 30)
    {
        lock (_log) _log.Flush();
        using var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return string.Join('\n', new StreamReader(reader).ReadToEnd().Split('\n').TakeLast(lines));
    }

    public void Dispose() => _kill.Dispose();

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            lock (_log) _log.Dispose();
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            try { _log.WriteLine(line); }
            catch (ObjectDisposedException) { /* the process is being killed; its last words do not matter */ }
        }
    }

    /// <summary>Runs a program to its end and answers its standard output; throws with all its output when it fails.</summary>
    public static async Task<string> RunToEndAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancel = default)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync(cancel);
        var error = process.StandardError.ReadToEndAsync(cancel);
        try
        {
            await process.WaitForExitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        return await output;
    }
}

/// <summary>CPU time and memory of processes on this machine, read from /proc (Linux).</summary>
public static class ProcStats
{
    /// <summary>USER_HZ: /proc counts CPU time in ticks of 1/100 s on every Linux architecture the bench runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds the process has used; with <paramref name="reapedChildren"/>, also its children that have ended.</summary>
    public static double CpuSeconds(int pid, bool reapedChildren = false)
    {
        var fields = StatFields(pid);
        if (fields is null) return 0;
        // Fields after the command name, counted from 1 = state: utime is field 14 of the line, so index 11 here.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        if (reapedChildren) ticks += long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond;
    }

    /// <summary>The processes whose parent is <paramref name="pid"/>.</summary>
    public static IReadOnlyList<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var candidate)) continue;
            if (StatFields(candidate) is { } fields && int.Parse(fields[1], CultureInfo.InvariantCulture) == pid) children.Add(candidate);
        }
        return children;
    }

    /// <summary>Resident memory now (VmRSS), in bytes; 0 once the process is gone.</summary>
    public static long Rss(int pid) => StatusKb(pid, "VmRSS") * 1024;

    /// <summary>Peak resident memory (VmHWM) since start or since <see cref="ResetPeak"/>, in bytes.</summary>
    public static long PeakRss(int pid) => StatusKb(pid, "VmHWM") * 1024;

    /// <summary>
    /// Starts the peak (VmHWM) afresh, so that a run reports its own peak and not an earlier one's. Needs the right to
    /// write the process' clear_refs (the same user or root); answers false when that is refused.
    /// </summary>
    public static bool ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string[]? StatFields(int pid)
    {
        string line;
        try { line = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        // The command name is in parentheses and may hold spaces; the fields after it start with the state.
        return line[(line.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static long StatusKb(int pid, string name)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}

public static class Loopback
{
    /// <summary>A port nothing listens on right now (the kernel's pick); a small race with other programs is accepted.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>How often a starting server's readiness path is asked, unless the caller says otherwise.</summary>
    public static readonly TimeSpan ReadyPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>Polls <paramref name="url"/> every <paramref name="poll"/> until it answers 2xx; fails early when <paramref name="process"/> exits.</summary>
    public static async Task WaitUntilAnswersAsync(string what, string url, ChildProcess process, TimeSpan timeout, TimeSpan poll, CancellationToken cancel)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited) throw new InvalidOperationException($"{what} exited during start; last lines of {process.LogPath}:\n{process.Tail()}");
            try
            {
                using var response = await http.GetAsync(url, cancel);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { /* not listening yet */ }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested) { /* still starting */ }
            await Task.Delay(poll, cancel);
        }
        throw new TimeoutException($"{what} did not answer {url} within {timeout.TotalSeconds:0} s; last lines of {process.LogPath}:\n{process.Tail()}");
    }
}

public static class Folders
{
    /// <summary>The bytes of every file under <paramref name="path"/> (0 when it does not exist).</summary>
    public static long Bytes(string path) =>
        Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
}

public static class Repository
{
    /// <summary>The checkout the bench runs from: the folder above it that holds OrleansOps.sln.</summary>
    public static string Root
    {
        get
        {
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            {
                for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                    if (File.Exists(Path.Combine(directory.FullName, "OrleansOps.sln"))) return directory.FullName;
            }
            throw new DirectoryNotFoundException("OrleansOps.sln not found above the working folder or the bench's own folder.");
        }
    }
}

public static class BenchMachine
{
    /// <summary>The commit, the versions the caller names, the machine and how busy it already is (other builds may share it).</summary>
    public static async Task DescribeAsync(string versions, CancellationToken cancel)
    {
        var model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] : "0";
        var commit = await ChildProcess.RunToEndAsync("git", ["-C", Repository.Root, "describe", "--always", "--dirty"], cancel: cancel);
        Console.WriteLine($"commit {commit.Trim()}; {versions}");
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg", cancel)).Split(' ').Take(3)) : "?";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"machine: {Environment.ProcessorCount} cores ({model ?? "unknown CPU"}), {long.Parse(memory, CultureInfo.InvariantCulture) / 1048576.0:0.0} GiB; "
            + $"load average {load}; .NET {Environment.Version}"));
    }
}
