using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace OrleansOps.Testing;

/// <summary>
/// A throwaway PostgreSQL from the Debian package's binaries: initdb and pg_ctl into a temporary folder, on a free
/// loopback port, removed afterwards. Each test asks for its own database, so tests never see each other's rows.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    /// <summary>The folder holding initdb and pg_ctl (the newest installed version), or null when PostgreSQL is absent.</summary>
    public static string? BinDirectory { get; } = FindBinDirectory();

    /// <summary>initdb refuses to run as root, so under root (as in CI) the server runs as the package's postgres user.</summary>
    private static readonly bool RunAsPostgresUser = Environment.UserName == "root";

    private string _root = "";
    private int _databases;

    public int Port { get; private set; }
    public string AdminConnectionString => Connection("postgres") + ";Pooling=false";

    public async Task InitializeAsync()
    {
        if (BinDirectory is null) return; // the tests that need it are skipped with the reason
        _root = Path.Combine(Path.GetTempPath(), "orleansops-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        if (RunAsPostgresUser) await RunAsync("chown", ["postgres:postgres", _root], asPostgres: false);
        Port = FreePorts.Next();
        await RunAsync(Path.Combine(BinDirectory, "initdb"),
            ["-D", DataFolder, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        await StartAsync();
    }

    private string DataFolder => Path.Combine(_root, "data");

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>) on the same port and data.</summary>
    public Task StartAsync() =>
        // fsync off: this database lives for one test run; the server process itself is never killed by the tests.
        RunAsync(Path.Combine(BinDirectory!, "pg_ctl"),
        [
            "-D", DataFolder, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400",
            "start",
        ]);

    /// <summary>Stops the server as an outage would look to clients: connections closed, new ones refused.</summary>
    public async Task StopAsync()
    {
        await RunAsync(Path.Combine(BinDirectory!, "pg_ctl"), ["-D", DataFolder, "-m", "fast", "-w", "stop"]);
        NpgsqlConnection.ClearAllPools(); // this process' pooled connections died with the server
    }

    /// <summary>A new empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return Connection(name);
    }

    public string Connection(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=15;Command Timeout=30";

    public async Task DisposeAsync()
    {
        if (BinDirectory is null || _root.Length == 0) return;
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataFolder, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            try { Directory.Delete(_root, recursive: true); } catch (IOException) { /* best effort: it is a temp folder */ }
        }
    }

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres = true)
    {
        var start = new ProcessStartInfo(asPostgres && RunAsPostgresUser ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres && RunAsPostgresUser)
            foreach (var argument in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(argument);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}:\n{await output}\n{await error}");
    }

    private static string? FindBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("ORLEANSOPS_PG_BIN");
        if (!string.IsNullOrEmpty(configured)) return configured;
        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot)) return null;
        return Directory.GetDirectories(debianRoot)
            .Select(d => (Directory: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(d => File.Exists(Path.Combine(d.Directory, "initdb")) && File.Exists(Path.Combine(d.Directory, "pg_ctl")))
            .OrderByDescending(d => d.Version)
            .Select(d => d.Directory)
            .FirstOrDefault();
    }
}

/// <summary>A test that needs PostgreSQL's server binaries: skipped, with the reason, only where they are absent (CI installs them and fails on skips).</summary>
public sealed class RequiresPostgresFactAttribute : FactAttribute
{
    public RequiresPostgresFactAttribute()
    {
        if (PostgresServer.BinDirectory is null)
            Skip = "PostgreSQL server binaries are not installed (apt-get install postgresql); .ci/run installs them.";
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
