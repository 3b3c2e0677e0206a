using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OrleansOps.Integrations.Notifications;

/// <summary>Sends one HTTP request of a channel and turns the receiver's answer into a <see cref="ChannelResult"/>.</summary>
internal static class HttpDelivery
{
    /// <summary>How much of an error answer is read to describe it; receivers' error pages can be large.</summary>
    private const int ErrorSnippetBytes = 1024;

    /// <param name="describeError">Turns the start of an error body into a short, secret-free detail (Slack's error word, Twilio's code), or null.</param>
    public static async Task<ChannelResult> SendAsync(
        HttpClient client, HttpRequestMessage request, TimeProvider time, Func<string, string?>? describeError, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return ChannelResult.Delivered();
            var detail = describeError is null ? null : describeError(await ReadSnippetAsync(response.Content, cancellationToken).ConfigureAwait(false));
            return Classify(response, time.GetUtcNow(), detail);
        }
        catch (HttpRequestException exception)
        {
            // The exception's message can carry the host and port, which for a DestinationRef URL is part of a secret;
            // the error category is enough to tell a refused connection from a DNS failure.
            return ChannelResult.Transient($"network error ({exception.HttpRequestError})");
        }
    }

    internal static ChannelResult Classify(HttpResponseMessage response, DateTimeOffset now, string? detail)
    {
        var code = (int)response.StatusCode;
        var outcome = detail is null ? $"HTTP {code}" : $"HTTP {code} ({detail})";
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            return ChannelResult.Transient(outcome, RetryAfter.From(response.Headers.RetryAfter, now));
        if (code >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout) return ChannelResult.Transient(outcome);
        // Other 4xx (and 3xx: redirects are not followed, a moved webhook is a configuration error) will not heal by retrying.
        return ChannelResult.Permanent(outcome);
    }

    private static async Task<string> ReadSnippetAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[ErrorSnippetBytes];
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
            filled += read;
        return Encoding.UTF8.GetString(buffer, 0, filled);
    }

    public static AuthenticationHeaderValue BasicAuth(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    /// <summary>True for an absolute http or https URL, the only kind a webhook channel posts to.</summary>
    public static bool IsHttpUrl(string? value, out Uri uri)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
        {
            uri = parsed;
            return true;
        }
        uri = null!;
        return false;
    }
}

/// <summary>The receiver's <c>Retry-After</c>: a number of seconds or an HTTP date.</summary>
internal static class RetryAfter
{
    public static TimeSpan? From(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        // A date in the past means "now"; a clock skew between us and the receiver cannot make the wait negative.
        if (header?.Date is { } date) return date > now ? date - now : TimeSpan.Zero;
        return null;
    }
}

/// <summary>Durations as attempt outcomes print them: "200ms", "10s", "1.5s", "5m".</summary>
internal static class ShortDuration
{
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1)) return $"{(long)duration.TotalMilliseconds}ms";
        if (duration >= TimeSpan.FromHours(1) && duration.Ticks % TimeSpan.TicksPerHour == 0) return $"{(long)duration.TotalHours}h";
        if (duration >= TimeSpan.FromMinutes(1) && duration.Ticks % TimeSpan.TicksPerMinute == 0) return $"{(long)duration.TotalMinutes}m";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Math.Round(duration.TotalSeconds, 3)}s");
    }
}
