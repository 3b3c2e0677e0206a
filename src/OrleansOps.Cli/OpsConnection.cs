using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OrleansOps.Cli;

/// <summary>An Orleans client connected to the cluster's gateway; reads and acts on grains directly.</summary>
public sealed class OpsConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private OpsConnection(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IClusterClient>();

    /// <exception cref="UnreachableException">When no gateway answers within <paramref name="timeout"/>.</exception>
    public static async Task<OpsConnection> ConnectAsync(int gatewayPort, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client
            .UseLocalhostClustering(gatewayPort, serviceId: ClusterName, clusterId: ClusterName)
            .UseConnectionRetryFilter((_, _) => Task.FromResult(false)));
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
            throw new UnreachableException($"Cannot reach the OrleansOps gateway at 127.0.0.1:{gatewayPort} ({reason}). Is the server running? Set --gateway-port or OPSCTL_GATEWAY_PORT.");
        }
        return new OpsConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(5));
        _host.Dispose();
    }

    /// <summary>The server's cluster and service id (OrleansOps.Server's Extensions.ClusterName).</summary>
    private const string ClusterName = "orleansops";
}

public sealed class UnreachableException(string message) : Exception(message);
