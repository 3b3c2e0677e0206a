using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansOps.Integrations.Itsm;

/// <summary>
/// Builds the ticket client of an account's ServiceNow or Jira settings. Credentials are configuration keys looked up
/// in <c>config</c> at each call; a missing one is a non-retryable <see cref="ItsmException"/> naming the key.
/// Requests go through the named HttpClients of <see cref="ItsmHttpClients"/> (see <see cref="AddItsmHttpClients"/>).
/// </summary>
public static class TicketClients
{
    /// <summary>How long one call may take, connect to answer, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(10);

    public static ITicketClient ServiceNow(
        ServiceNowSettings s, IConfiguration config, IHttpClientFactory http, TimeProvider? time = null, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(s);
        var transport = new ItsmHttp(TicketSystem.ServiceNow, s.InstanceUrl, ItsmHttpClients.ServiceNow, http, config,
            ("usernameRef", s.UsernameRef), ("passwordRef", s.PasswordRef), time ?? TimeProvider.System, Timeout(callTimeout));
        return new ServiceNowTicketClient(s, transport);
    }

    public static ITicketClient Jira(
        JiraSettings s, IConfiguration config, IHttpClientFactory http, TimeProvider? time = null, TimeSpan? callTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(s);
        var transport = new ItsmHttp(TicketSystem.Jira, s.SiteUrl, ItsmHttpClients.Jira, http, config,
            ("emailRef", s.EmailRef), ("apiTokenRef", s.ApiTokenRef), time ?? TimeProvider.System, Timeout(callTimeout));
        return new JiraTicketClient(s, transport);
    }

    private static TimeSpan Timeout(TimeSpan? value) =>
        value is { } timeout && timeout <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(value), "the call timeout must be positive")
            : value ?? DefaultCallTimeout;

    /// <summary>
    /// Registers the named HttpClients of <see cref="ItsmHttpClients"/>: no client timeout (each call has its own),
    /// no retry handler (the caller retries durably), redirects not followed (credentials are not re-sent elsewhere),
    /// and the factory's request logging removed.
    /// </summary>
    public static IServiceCollection AddItsmHttpClients(this IServiceCollection services)
    {
        // Registering twice would configure each HttpClient twice (two User-Agent values, two primary handlers).
        if (services.Any(service => service.ServiceType == typeof(Registered))) return services;
        services.AddSingleton<Registered>();
        foreach (var name in (string[])[ItsmHttpClients.ServiceNow, ItsmHttpClients.Jira])
        {
            services.AddHttpClient(name, client =>
                {
                    client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
                    client.DefaultRequestHeaders.UserAgent.ParseAdd("OrleansOps-Itsm/1.0");
                })
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    AutomaticDecompression = DecompressionMethods.All,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                })
                .RemoveAllLoggers();
        }
        return services;
    }

    private sealed class Registered;
}

/// <summary>The names of the HttpClients the ticket clients use, for a host that wants to add a handler (a proxy, tracing).</summary>
public static class ItsmHttpClients
{
    public const string ServiceNow = "OrleansOps.Itsm.ServiceNow";
    public const string Jira = "OrleansOps.Itsm.Jira";
}
