using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Microsoft.Extensions.Hosting;
using System.Net;
using System.Net.Sockets;
using OrleansOps.Abstractions;
using OrleansOps.Storage;

namespace OrleansOps.Grains.Tests;

/// <summary>
/// Silos in this process on one PostgreSQL database, exactly as the server's cluster mode wires them: membership,
/// grain state and reminders through Orleans' ADO.NET providers, on the real clock and real loopback TCP. No
/// test-cluster shortcuts: membership, the grain directory and the reminder ring are Orleans' own.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string ServiceId = "orleansops-tests";
    /// <summary>Short enough that a test sees the back-stop reminder fire within seconds; production keeps one minute.</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromSeconds(2);

    private readonly List<Silo> _silos;
    private readonly IHost _client;

    private PostgresCluster(List<Silo> silos, IHost client, string connectionString, RecordingSender sender, FakeTicketSystem tickets)
    {
        Tickets = tickets;
        _silos = silos;
        _client = client;
        ConnectionString = connectionString;
        Sender = sender;
    }

    /// <summary>A silo of the cluster: its host and the address Orleans knows it by.</summary>
    public sealed record Silo(IHost Host, SiloAddress Address);

    public IReadOnlyList<Silo> Silos => _silos;
    public string ConnectionString { get; }
    /// <summary>What every silo's notifier sent (they share this process).</summary>
    public RecordingSender Sender { get; }
    /// <summary>The ticket system behind every silo's gateway.</summary>
    public FakeTicketSystem Tickets { get; }
    public IGrainFactory Grains => _client.Services.GetRequiredService<IClusterClient>();

    public static async Task<PostgresCluster> StartAsync(string connectionString, string clusterId, int silos = 3)
    {
        var started = new List<Silo>();
        var sender = new RecordingSender();
        var tickets = new FakeTicketSystem();
        for (var i = 0; i < silos; i++) started.Add(await StartSiloAsync(connectionString, clusterId, sender, tickets));
        var client = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        client.UseOrleansClient(builder => builder
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, ServiceId))
            .UsePostgresGateways(connectionString));
        var clientHost = client.Build();
        await clientHost.StartAsync();
        // As the server does once its silo is up: the wake index's back-stop reminder.
        await clientHost.Services.GetRequiredService<IClusterClient>().GetGrain<IWakeIndexGrain>(GrainKeys.Wakes).Start();
        return new PostgresCluster(started, clientHost, connectionString, sender, tickets);
    }

    /// <summary>A silo host on real loopback TCP ports, wired as the server wires cluster mode.</summary>
    private static async Task<Silo> StartSiloAsync(string connectionString, string clusterId, RecordingSender sender, FakeTicketSystem tickets)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, ServiceId));
            silo.ConfigureEndpoints(IPAddress.Loopback, FreePorts.Next(), FreePorts.Next());
            silo.UsePostgresCluster(StorageNames.Grains, connectionString);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<INotificationSender>(sender);
            silo.Services.AddSingleton<ITicketGateway>(tickets);
            silo.Services.Configure<BackstopReminderOptions>(o => o.Period = ReminderPeriod);
            silo.Services.Configure<ReminderOptions>(o =>
            {
                o.MinimumReminderPeriod = TimeSpan.FromSeconds(1);
                o.RefreshReminderListPeriod = TimeSpan.FromSeconds(5);
            });
            // Failure detection in seconds rather than Orleans' production pace, so a test can wait for it.
            silo.Services.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(3);
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return new Silo(host, host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress);
    }

    /// <summary>
    /// Stops a silo abruptly: no graceful deactivation and no hand-over of its grains, which activate elsewhere from
    /// their last write. Orleans still marks it dead in the table on the way out; a crash that the others must detect
    /// by probing is tested with SIGKILL against server processes (ClusterTests).
    /// </summary>
    public async Task KillAsync(Silo silo)
    {
        _silos.Remove(silo);
        if (silo.Host.Services.GetService<IJournal>() is PostgresJournal journal) await journal.AbandonAsync().WaitAsync(TimeSpan.FromSeconds(30));
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try { await silo.Host.StopAsync(now.Token); } catch (OperationCanceledException) { }
        silo.Host.Dispose();
    }

    /// <summary>The silo each activation of <paramref name="grainType"/> lives on, by grain key.</summary>
    public async Task<Dictionary<string, SiloAddress>> ActivationSilosAsync(string grainType)
    {
        var statistics = await Management().GetDetailedGrainStatistics();
        return statistics
            .Where(s => s.GrainId.Type.ToString()!.Contains(grainType, StringComparison.OrdinalIgnoreCase))
            .GroupBy(s => s.GrainId.Key.ToString()!)
            .ToDictionary(g => g.Key, g => g.First().SiloAddress);
    }

    /// <summary>The silos that the surviving silos' membership view holds active.</summary>
    public IReadOnlyList<SiloAddress> ActiveSilos() =>
        _silos[0].Host.Services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress)
            .ToList();

    /// <summary>The management grain of a live silo: the client's gateway may be the silo that died.</summary>
    private IManagementGrain Management() => _silos[0].Host.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);

    /// <summary>An incident as a client would see it, with its whole chronicle, as comparable text.</summary>
    public async Task<string> IncidentRecordAsync(string incidentId)
    {
        var grain = Grains.GetGrain<IIncidentGrain>(incidentId);
        var view = await grain.Describe();
        var chronicle = await grain.ChronicleAsync();
        return JsonSerializer.Serialize(new { view, chronicle });
    }

    public async Task<long> CountRowsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await _client.StopAsync();
        _client.Dispose();
        foreach (var silo in _silos)
        {
            await silo.Host.StopAsync();
            silo.Host.Dispose();
        }
    }

}
