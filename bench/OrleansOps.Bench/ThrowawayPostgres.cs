using System.Globalization;

namespace OrleansOps.Bench;

/// <summary>
/// A PostgreSQL server of the bench's own, from the Debian package's binaries, as tests/Shared/PostgresServer.cs starts
/// one (that file is written for xunit, so it is not compiled here): initdb and pg_ctl into a temporary folder, on a free
/// loopback port, stopped and removed afterwards. Under root it runs as the package's postgres user, since initdb
/// refuses root. Unlike the tests' server it keeps PostgreSQL's default durability (fsync and synchronous_commit on):
/// the bench measures what a 2xx costs when it means "on disk".
/// </summary>
public sealed class ThrowawayPostgres : IDisposable
{
    public const string Database = "orleansops";

    private static readonly bool RunAsPostgresUser = Environment.UserName == "root";

    private readonly string _bin;
    private readonly string _root;
    private readonly IDisposable _stop;

    private ThrowawayPostgres(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        Port = port;
        _stop = Cleanup.Register("stop the bench's PostgreSQL", Stop);
    }

    /// <summary>The folder of initdb and pg_ctl (ORLEANSOPS_PG_BIN, else the newest /usr/lib/postgresql/N/bin), or null when absent.</summary>
    public static string? BinDirectory { get; } = FindBinDirectory();

    public int Port { get; }
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={Database};Timeout=15;Command Timeout=30;Maximum Pool Size=50";
    private string DataFolder => Path.Combine(_root, "data");

    /// <summary>The postmaster's process id, from its pid file.</summary>
    public int ServerProcessId => int.Parse(File.ReadLines(Path.Combine(DataFolder, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    /// <summary>CPU seconds of the postmaster and every backend, live and ended.</summary>
    public double CpuSeconds()
    {
        var postmaster = ServerProcessId;
        return ProcStats.CpuSeconds(postmaster, reapedChildren: true) + ProcStats.Children(postmaster).Sum(child => ProcStats.CpuSeconds(child));
    }

    /// <summary>initdb, start, and an empty database for OrleansOps.</summary>
    public static async Task<ThrowawayPostgres> StartAsync(string root, CancellationToken cancel)
    {
        var bin = BinDirectory ?? throw new InvalidOperationException("PostgreSQL server binaries are not installed (apt-get install postgresql)");
        Directory.CreateDirectory(root);
        if (RunAsPostgresUser) await ChildProcess.RunToEndAsync("chown", ["postgres:postgres", root], cancel: cancel);
        var server = new ThrowawayPostgres(bin, root, Loopback.FreePort());
        try
        {
            await server.RunAsync("initdb", ["-D", server.DataFolder, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], cancel);
            await server.RunAsync("pg_ctl",
            [
                "-D", server.DataFolder, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
                "-o", $"-p {server.Port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=400",
                "start",
            ], cancel);
            await server.RunAsync("createdb", ["-h", "127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", Database], cancel);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    public void Dispose() => _stop.Dispose();

    private void Stop()
    {
        try
        {
            if (File.Exists(Path.Combine(DataFolder, "postmaster.pid")))
                RunAsync("pg_ctl", ["-D", DataFolder, "-m", "immediate", "-w", "stop"], CancellationToken.None).GetAwaiter().GetResult();
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancel) =>
        RunAsPostgresUser
            ? ChildProcess.RunToEndAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, program), .. arguments], cancel: cancel)
            : ChildProcess.RunToEndAsync(Path.Combine(_bin, program), arguments, cancel: cancel);

    /// <summary>The same lookup as the tests' PostgresServer (which is written for xunit, so the bench cannot compile it).</summary>
    private static string? FindBinDirectory() =>
        Environment.GetEnvironmentVariable("ORLEANSOPS_PG_BIN") is { Length: > 0 } configured ? configured
        : Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql", "*").Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
                .MaxBy(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : 0)
            : null;
}
