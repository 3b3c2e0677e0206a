using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace OrleansOps.Testing;

/// <summary>A real SMTP server (the SmtpServer package) on a loopback port of its own, keeping what it receives.</summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private readonly Store _store;

    private SmtpTestServer(IEnumerable<int> answers, (string User, string Password)? credentials, EndpointListenerFactory listeners)
    {
        _store = new Store(answers);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint
                // Port 0: the system picks a free port, which the listener reports once it is bound.
                .Endpoint(new IPEndPoint(IPAddress.Loopback, 0))
                .AuthenticationRequired(credentials is not null)
                .AllowUnsecureAuthentication(credentials is not null))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_store);
        services.Add(listeners);
        if (credentials is { } expected) services.Add(new Authenticator(expected.User, expected.Password, AuthenticatedPasswords));
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    /// <summary>Starts a server and returns once it accepts connections.</summary>
    /// <param name="answers">Replies to DATA, one per message in turn (then 250): e.g. 451 to test a transient refusal.</param>
    /// <param name="credentials">When set, the server requires AUTH with exactly this user and password.</param>
    public static async Task<SmtpTestServer> StartAsync(IEnumerable<int>? answers = null, (string User, string Password)? credentials = null)
    {
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => listening.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var server = new SmtpTestServer(answers ?? [], credentials, listeners);
        server.Port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return server;
    }

    public int Port { get; private set; }
    public IReadOnlyList<MimeMessage> Messages => [.. _store.Messages];
    public int DataCommands => _store.DataCommands;
    public ConcurrentQueue<string> AuthenticatedPasswords { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private sealed class Store(IEnumerable<int> answers) : MessageStore
    {
        private readonly ConcurrentQueue<int> _answers = new(answers);
        private int _dataCommands;

        public ConcurrentQueue<MimeMessage> Messages { get; } = new();
        public int DataCommands => _dataCommands;

        public override async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _dataCommands);
            if (_answers.TryDequeue(out var code) && code != 250) return new SmtpResponse((SmtpReplyCode)code, "refused by the test");
            using var stream = new MemoryStream(buffer.ToArray());
            Messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }

    private sealed class Authenticator(string user, string password, ConcurrentQueue<string> seen) : IUserAuthenticator
    {
        public Task<bool> AuthenticateAsync(ISessionContext context, string presentedUser, string presentedPassword, CancellationToken cancellationToken)
        {
            seen.Enqueue(presentedPassword);
            return Task.FromResult(presentedUser == user && presentedPassword == password);
        }
    }
}
