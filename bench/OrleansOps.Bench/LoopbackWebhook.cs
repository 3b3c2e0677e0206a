using System.Collections.Specialized;
using System.Net;
using System.Text;

namespace OrleansOps.Bench;

/// <summary>One POST that reached a <see cref="LoopbackWebhook"/>: its raw body (signatures are over these bytes), headers and arrival time.</summary>
public sealed record WebhookDelivery(byte[] Body, NameValueCollection Headers, DateTimeOffset At)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A webhook receiver the bench serves itself on a free loopback port (HttpListener, no web framework to reference):
/// every request is handed to the callback and answered 200 at once, so the server's notifier never has a reason to
/// retry. Stops listening on dispose.
/// </summary>
public sealed class LoopbackWebhook : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Action<WebhookDelivery> _onDelivery;

    private LoopbackWebhook(HttpListener listener, string url, Action<WebhookDelivery> onDelivery)
    {
        _listener = listener;
        _onDelivery = onDelivery;
        Url = url;
    }

    /// <summary>The URL to configure as the channel's destination.</summary>
    public string Url { get; }

    public static LoopbackWebhook Start(Action<WebhookDelivery> onDelivery)
    {
        var url = $"http://127.0.0.1:{Loopback.FreePort()}/hook/";
        var listener = new HttpListener();
        listener.Prefixes.Add(url);
        listener.Start();
        var webhook = new LoopbackWebhook(listener, url, onDelivery);
        _ = Task.Run(webhook.ServeAsync);
        return webhook;
    }

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            var at = DateTimeOffset.UtcNow;
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                _onDelivery(new WebhookDelivery(body.ToArray(), context.Request.Headers, at));
                context.Response.StatusCode = 200;
            }
            catch (Exception e) when (e is IOException or HttpListenerException)
            {
                // The sender went away mid-request (its silo was killed): it never saw an answer, so nothing was delivered.
                context.Response.StatusCode = 400;
            }
            try { context.Response.Close(); }
            catch (Exception e) when (e is IOException or HttpListenerException or ObjectDisposedException) { /* the sender is gone */ }
        }
    }
}
