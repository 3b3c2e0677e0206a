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
    /// <summary>Bearer token for the query and admin API. Generated and printed at start when empty.</summary>
    public string? AdminToken { get; set; }
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public SqliteDurability SqliteDurability { get; set; } = SqliteDurability.Full;
    /// <summary>Largest accepted ingest body, in bytes (PagerDuty allows 512 KB; Prometheus batches are smaller).</summary>
    public long MaxIngestBodyBytes { get; set; } = 1024 * 1024;
}
