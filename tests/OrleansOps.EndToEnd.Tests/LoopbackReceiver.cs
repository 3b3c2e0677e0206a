using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// A loopback HTTP receiver that keeps every request: a webhook channel's target, and a stand-in for Twilio's REST API
/// (messages succeed, calls fail with 500). While <see cref="Holding"/>, a request is kept but never answered, as by a
/// receiver that hangs.
/// </summary>
public sealed class LoopbackReceiver : IDisposable
{
    private readonly HttpListener _listener = new();

    public sealed record Request(string Path, IReadOnlyDictionary<string, string?> Headers, string Body);

    public ConcurrentQueue<Request> Requests { get; } = new();
    public string Url { get; private init; } = "";
    public bool Holding { get; set; }

    public static LoopbackReceiver Start()
    {
        var receiver = new LoopbackReceiver { Url = $"http://127.0.0.1:{FreePorts.Next()}/" };
        receiver._listener.Prefixes.Add(receiver.Url);
        receiver._listener.Start();
        _ = Task.Run(receiver.ServeAsync);
        return receiver;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k], StringComparer.OrdinalIgnoreCase);
            var path = context.Request.Url!.AbsolutePath;
            Requests.Enqueue(new Request(path, headers, body));
            if (Holding) continue; // closed with the listener
            context.Response.StatusCode = path.EndsWith("/Calls.json") ? 500 : path.EndsWith("/Messages.json") ? 201 : 200;
            context.Response.ContentType = "application/json";
            var answer = Encoding.UTF8.GetBytes(path.EndsWith("/Messages.json") ? """{"sid":"SM00000000000000000000000000000000","status":"queued"}""" : "{}");
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
