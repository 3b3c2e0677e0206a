using OrleansOps.Storage;

namespace OrleansOps.Server;

/// <summary>The <c>OrleansOps</c> configuration section (appsettings, environment <c>OrleansOps__X</c>, or <c>--OrleansOps:X=</c>).</summary>
public sealed class OrleansOpsOptions
{
    public const string Section = "OrleansOps";

    /// <summary>Folder of the embedded database; relative paths are resolved against the working directory.</summary>
    public string DataPath { get; set; } = "./data";
    /// <summary>Folder of account YAML files applied at start-up; relative paths are resolved against the program's folder.</summary>
    public string ConfigPath { get; set; } = "config";
    /// <summary>Bearer token for the query and admin API. Generated and printed at start when neither it nor <see cref="AdminTokenSha256"/> is set.</summary>
    public string? AdminToken { get; set; }
    /// <summary>The admin token given only as its SHA-256 (64 hex digits), so the configuration need not hold the token.</summary>
    public string? AdminTokenSha256 { get; set; }

    public bool AdminTokenConfigured => !string.IsNullOrWhiteSpace(AdminToken) || !string.IsNullOrWhiteSpace(AdminTokenSha256);
    /// <summary>Sqlite: one silo on local files (the default). Postgres: a cluster of silos sharing PostgreSQL.</summary>
    public StorageMode Storage { get; set; } = StorageMode.Sqlite;
    /// <summary>Npgsql connection string, required when <see cref="Storage"/> is Postgres.</summary>
    public string? PostgresConnection { get; set; }
    /// <summary>Apply the PostgreSQL schema (deploy/postgres) before the silo starts; otherwise run <c>OrleansOps.Server migrate</c>.</summary>
    public bool MigrateOnStart { get; set; }
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>The address (IP or host name) other silos and clients reach this silo at; in Postgres mode Orleans picks one when empty.</summary>
    public string? AdvertisedAddress { get; set; }
    /// <summary>Silos with the same cluster id form one cluster; the service id keys grain state and reminders and must not change.</summary>
    public string ClusterId { get; set; } = "orleansops";
    public string ServiceId { get; set; } = "orleansops";
    /// <summary>Running in Kubernetes: take the silo's name, address and ids from the pod (Microsoft.Orleans.Hosting.Kubernetes).</summary>
    public bool Kubernetes { get; set; }
    public SqliteDurability SqliteDurability { get; set; } = SqliteDurability.Full;
    /// <summary>Largest accepted ingest body, in bytes (PagerDuty allows 512 KB; Prometheus batches are smaller).</summary>
    public long MaxIngestBodyBytes { get; set; } = 1024 * 1024;
    /// <summary>
    /// Maps <c>GET /api/v1/diagnostics/failure</c> (admin token), which fails on purpose: to check that a defect reaches
    /// the logs and its caller gets a 500 problem, end to end. Off unless set.
    /// </summary>
    public bool FailureProbe { get; set; }

    /// <summary>What stops the server from starting, worded for the operator who set it.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Storage == StorageMode.Postgres && string.IsNullOrWhiteSpace(PostgresConnection))
            problems.Add("OrleansOps:Storage is Postgres, so OrleansOps:PostgresConnection must be set (e.g. \"Host=db;Username=orleansops;Password=...;Database=orleansops\").");
        else if (Storage == StorageMode.Postgres && InvalidConnectionString(PostgresConnection!) is { } reason)
            problems.Add($"OrleansOps:PostgresConnection is not a valid Npgsql connection string: {reason}");
        if (Storage != StorageMode.Postgres && MigrateOnStart)
            problems.Add("OrleansOps:MigrateOnStart applies the PostgreSQL schema; it needs OrleansOps:Storage=Postgres.");
        if (SiloPort is <= 0 or > 65535 || GatewayPort is <= 0 or > 65535 || SiloPort == GatewayPort)
            problems.Add($"OrleansOps:SiloPort ({SiloPort}) and OrleansOps:GatewayPort ({GatewayPort}) must be two different ports between 1 and 65535.");
        if (!string.IsNullOrWhiteSpace(AdminTokenSha256) && !IntegrationKey.IsHash(AdminTokenSha256))
            problems.Add("OrleansOps:AdminTokenSha256 must be the token's SHA-256 as 64 lowercase hex digits (printf %s \"$TOKEN\" | sha256sum).");
        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
            problems.Add("OrleansOps:ClusterId and OrleansOps:ServiceId must not be empty.");
        return problems;
    }

    private static string? InvalidConnectionString(string connectionString)
    {
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return e.Message;
        }
    }
}

public enum StorageMode
{
    Sqlite,
    Postgres,
}
