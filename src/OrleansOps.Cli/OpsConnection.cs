using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace OrleansOps.Cli;

/// <summary>
/// Where the cluster's gateways are: the local embedded server's port, a fixed list of host:port, or the
/// PostgreSQL membership table of a cluster (which also follows silos as they come and go).
/// </summary>
public sealed record GatewaySource(int LocalPort, IReadOnlyList<string> Gateways, string? Postgres, string ClusterId, string ServiceId)
{
    public override string ToString() =>
        Postgres is not null ? $"the gateways of cluster '{ClusterId}' listed in PostgreSQL"
        : Gateways.Count > 0 ? $"the gateway{(Gateways.Count > 1 ? "s" : "")} at {string.Join(", ", Gateways)}"
        : $"the OrleansOps gateway at 127.0.0.1:{LocalPort}";

    /// <summary>The --gateway host:port pairs as endpoints.</summary>
    /// <exception cref="FormatException">When one is not host:port, or its host has no IPv4 address.</exception>
    public IReadOnlyList<IPEndPoint> ResolveGateways()
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var gateway in Gateways)
        {
            var separator = gateway.LastIndexOf(':');
            if (separator <= 0 || !int.TryParse(gateway.AsSpan(separator + 1), out var port) || port is <= 0 or > 65535)
                throw new FormatException($"--gateway '{gateway}' is not host:port.");
            var host = gateway[..separator].Trim('[', ']');
            var address = IPAddress.TryParse(host, out var ip) ? ip
                : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                  ?? throw new FormatException($"--gateway host '{host}' has no IPv4 address.");
            endpoints.Add(new IPEndPoint(address, port));
        }
        return endpoints;
    }
}

/// <summary>An Orleans client connected to the cluster's gateway; reads and acts on grains directly.</summary>
public sealed class OpsConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private OpsConnection(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IClusterClient>();

    /// <exception cref="UnreachableException">When no gateway answers within <paramref name="timeout"/>.</exception>
    public static async Task<OpsConnection> ConnectAsync(GatewaySource source, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (source.ClusterId, source.ServiceId));
            if (source.Postgres is not null)
                client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", source.Postgres));
            else if (source.Gateways.Count > 0)
                client.UseStaticClustering([.. source.ResolveGateways()]);
            else
                client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, source.LocalPort));
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
        });
        var host = builder.Build();
        // The client keeps retrying a refused gateway for minutes; a terminal command should answer in seconds.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await host.StartAsync(deadline.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            var reason = e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0} s" : e.GetBaseException().Message;
            throw new UnreachableException($"Cannot reach {source} ({reason}). Is the server running? " +
                                           "Use --gateway-port for a local server, --gateway host:port, or --postgres for a cluster.");
        }
        return new OpsConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(5));
        _host.Dispose();
    }
}

public sealed class UnreachableException(string message) : Exception(message);
