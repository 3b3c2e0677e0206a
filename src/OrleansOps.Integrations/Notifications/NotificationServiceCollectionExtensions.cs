using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrleansOps.Integrations.Notifications;

/// <summary>Refuses unusable settings with every problem named, at host start (or at first use outside a host).</summary>
internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options) =>
        options.Problems() is { Count: > 0 } problems
            ? ValidateOptionsResult.Fail(problems.Select(problem => $"{NotificationServiceCollectionExtensions.Section}: {problem}"))
            : ValidateOptionsResult.Success;
}

/// <summary>The names of the HttpClients the HTTP channels use, for a host that wants to add a handler (a proxy, tracing).</summary>
public static class NotificationHttpClients
{
    public const string Slack = "OrleansOps.Notifications.Slack";
    public const string Teams = "OrleansOps.Notifications.Teams";
    public const string Webhook = "OrleansOps.Notifications.Webhook";
    public const string Twilio = "OrleansOps.Notifications.Twilio";

    public static IReadOnlyList<string> All { get; } = [Slack, Teams, Webhook, Twilio];
}

public static class NotificationServiceCollectionExtensions
{
    /// <summary>The configuration section of <see cref="NotificationOptions"/>.</summary>
    public const string Section = "OrleansOps:Notifications";

    /// <summary>
    /// Registers <see cref="INotificationSender"/> (a singleton <see cref="NotificationSender"/>), its options bound from
    /// <c>OrleansOps:Notifications</c> (see <see cref="NotificationOptions"/> for every key) and validated at host start
    /// (or at first use without a host), <see cref="TimeProvider.System"/> unless a TimeProvider is already registered,
    /// and one named HttpClient per HTTP channel (<see cref="NotificationHttpClients"/>).
    /// <para>
    /// The HttpClients have no timeout and no retry handler of their own: the sender's one Polly pipeline owns retries
    /// and the per-attempt timeout for every channel, SMTP included, and records each attempt. A resilience handler
    /// on the clients would multiply retries and hide them from the report. Redirects are not followed, so a moved
    /// webhook fails visibly instead of re-posting a signed body elsewhere. The factory's request logging is removed
    /// from these clients, as it prints request URIs and a Slack or Teams webhook URL is a secret.
    /// </para>
    /// </summary>
    /// <param name="configuration">
    /// The application's configuration: options come from its <c>OrleansOps:Notifications</c> section, and DestinationRef,
    /// SecretRef, <c>Smtp:PasswordRef</c> and <c>Twilio:AuthTokenRef</c> are keys looked up in the whole of it.
    /// </param>
    public static IServiceCollection AddNotificationSender(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // Registering twice would configure each HttpClient twice (two User-Agent values, two primary handlers).
        if (services.Any(service => service.ImplementationType == typeof(NotificationOptionsValidator))) return services;
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>());

        foreach (var name in NotificationHttpClients.All)
        {
            services.AddHttpClient(name, client =>
                {
                    client.Timeout = Timeout.InfiniteTimeSpan;
                    client.DefaultRequestHeaders.UserAgent.ParseAdd("OrleansOps-Notifications/1.0");
                })
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    AutomaticDecompression = DecompressionMethods.All,
                    // Webhook hosts move behind DNS; pooled connections are renewed so a move is noticed.
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                })
                // The factory's own request logging prints each request URI, and for Slack and Teams the path is the secret.
                .RemoveAllLoggers();
        }

        services.TryAddSingleton<INotificationSender>(provider => new NotificationSender(
            provider.GetRequiredService<IOptions<NotificationOptions>>(),
            configuration,
            provider.GetRequiredService<IHttpClientFactory>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILoggerFactory>()));
        return services;
    }
}
