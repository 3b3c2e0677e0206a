using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansOps.Abstractions;
using OrleansOps.Integrations.Notifications;
using WireMock.Server;

namespace OrleansOps.Integrations.Tests.Notifications;

/// <summary>
/// A sender wired the way a host wires it (AddNotificationSender over configuration), with delays small enough for a
/// fast suite and every log line captured.
/// </summary>
internal sealed class NotificationHarness : IDisposable
{
    /// <summary>Small, deterministic retry settings; a test overrides what it is about.</summary>
    public static readonly IReadOnlyDictionary<string, string?> FastRetries = new Dictionary<string, string?>
    {
        ["OrleansOps:Notifications:MaxAttempts"] = "3",
        ["OrleansOps:Notifications:BaseDelay"] = "00:00:00.010",
        ["OrleansOps:Notifications:MaxDelay"] = "00:00:00.100",
        ["OrleansOps:Notifications:UseJitter"] = "false",
        // Generous: a loaded CI machine must not turn a slow first answer into a retry the test did not ask for.
        ["OrleansOps:Notifications:AttemptTimeout"] = "00:00:30",
        ["OrleansOps:Notifications:MaxRetryAfter"] = "00:00:05",
    };

    private readonly ServiceProvider _services;

    public NotificationHarness(IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var values = new Dictionary<string, string?>(FastRetries);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        if (time is not null) services.AddSingleton(time);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        services.AddNotificationSender(configuration);
        _services = services.BuildServiceProvider();
        Sender = _services.GetRequiredService<INotificationSender>();
    }

    public INotificationSender Sender { get; }
    public CapturedLogs Logs { get; } = new();
    public IServiceProvider Services => _services;

    public Task<DeliveryReport> SendAsync(Notification notification) => Sender.SendAsync(notification, CancellationToken.None);

    public void Dispose() => _services.Dispose();
}

internal static class Notifications
{
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    public static Notification For(ChannelKind channel, string? destination = null) => new()
    {
        Key = "inc-7f3a:step-1:user-ana",
        IncidentId = "inc-7f3a",
        AccountId = "acme",
        Channel = channel,
        Recipient = "user-ana",
        Destination = destination,
        RateKey = $"acme:{channel.ToWire()}",
        Title = "ehr-api down",
        Text = "p99 above 2s on ehr-api",
        Severity = Severity.Sev1,
        Status = IncidentStatus.Triggered,
        Service = "ehr-api",
        IncidentUrl = "https://ops.example.com/incidents/inc-7f3a",
        CreatedAt = CreatedAt,
    };
}

/// <summary>An HTTP stub on a loopback port of its own.</summary>
internal sealed class HttpStub : IDisposable
{
    public HttpStub() => Server = WireMockServer.Start($"http://127.0.0.1:{FreePorts.Next()}");

    public WireMockServer Server { get; }
    public string Url => Server.Url!;

    public IReadOnlyList<WireMock.IRequestMessage> Requests => [.. Server.LogEntries.Select(entry => entry.RequestMessage!)];

    public WireMock.IRequestMessage SingleRequest() => Assert.Single(Requests);

    public void Dispose() => Server.Stop();
}

internal static class RequestMessages
{
    /// <summary>The first value of a request header as the stub received it.</summary>
    public static string Header(this WireMock.IRequestMessage request, string name) => request.Headers![name]![0];
}

/// <summary>Every log line written through any logger, formatted, with its exception, for "no secret in the logs" checks.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception} {state}");
    }
}
