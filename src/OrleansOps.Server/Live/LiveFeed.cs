using System.Collections.Concurrent;
using System.Threading.Channels;

namespace OrleansOps.Server.Live;

/// <summary>What a live view watches: the fleet, one account, or one incident.</summary>
public sealed record LiveTopic(string Kind, string? Id)
{
    public static readonly LiveTopic Fleet = new("fleet", null);

    public override string ToString() => Id is null ? Kind : $"{Kind}:{Id}";

    /// <summary><c>fleet</c>, <c>account:&lt;id&gt;</c> or <c>incident:&lt;id&gt;</c>; null for anything else.</summary>
    public static LiveTopic? Parse(string? text) => text switch
    {
        "fleet" => Fleet,
        ['a', 'c', 'c', 'o', 'u', 'n', 't', ':', .. var id] when Ids.IsAccountId(id) => new("account", id),
        ['i', 'n', 'c', 'i', 'd', 'e', 'n', 't', ':', .. var id] when Ids.IsIncidentId(id) => new("incident", id),
        _ => null,
    };
}

/// <summary>A change of a watched topic: the view reads the topic again.</summary>
public sealed record LiveChange(string Topic, string Stamp);

/// <summary>
/// Tells live views when what they show has changed. Each watched topic is asked for its change stamp once per
/// <see cref="PollInterval"/>, however many views watch it, and every watcher hears of a new stamp. Polling a grain's
/// in-memory stamp is one cheap call per topic, and it works the same on every silo of a cluster.
/// </summary>
public sealed class LiveFeed(IGrainFactory grains, TimeProvider time, ILogger<LiveFeed> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StampTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Watched> _topics = new(StringComparer.Ordinal);

    /// <summary>
    /// Watches <paramref name="topic"/> until the subscription is disposed; changes arrive on its reader. A topic newly
    /// watched is read before this returns, so that a view which reads the topic after subscribing misses no change.
    /// </summary>
    public async Task<Subscription> WatchAsync(LiveTopic topic, CancellationToken cancellationToken)
    {
        // Only the latest change matters: a view that is behind reads the topic once, not once per change it missed.
        var channel = Channel.CreateBounded<LiveChange>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var watched = _topics.GetOrAdd(topic.ToString(), _ => new Watched(topic));
        lock (watched) watched.Watchers.Add(channel.Writer);
        if (watched.Stamp is null) await PollAsync(watched, cancellationToken);
        return new Subscription(channel.Reader, () =>
        {
            lock (watched)
            {
                watched.Watchers.Remove(channel.Writer);
                if (watched.Watchers.Count == 0) _topics.TryRemove(new KeyValuePair<string, Watched>(topic.ToString(), watched));
            }
        });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            await Task.WhenAll(_topics.Values.Select(watched => PollAsync(watched, stoppingToken)));
    }

    private async Task PollAsync(Watched watched, CancellationToken cancellationToken)
    {
        string stamp;
        try
        {
            stamp = await StampAsync(watched.Topic).WaitAsync(StampTimeout, time, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogDebug("Live topic {Topic} could not be read ({Exception})", watched.Topic, e.GetType().Name);
            return;
        }
        lock (watched)
        {
            if (stamp == watched.Stamp) return;
            // A topic read for the first time has nothing to compare with: its watchers read it after subscribing.
            var first = watched.Stamp is null;
            watched.Stamp = stamp;
            if (first) return;
        }
        var change = new LiveChange(watched.Topic.ToString(), stamp);
        lock (watched)
            foreach (var watcher in watched.Watchers) watcher.TryWrite(change);
    }

    private Task<string> StampAsync(LiveTopic topic) => topic.Kind switch
    {
        "fleet" => grains.GetGrain<IFleetGrain>(GrainKeys.Fleet).ChangeStamp(),
        "account" => grains.GetGrain<IAccountGrain>(topic.Id!).ChangeStamp(),
        _ => grains.GetGrain<IIncidentGrain>(topic.Id!).ChangeStamp(),
    };

    private sealed class Watched(LiveTopic topic)
    {
        public LiveTopic Topic { get; } = topic;
        public string? Stamp { get; set; }
        public List<ChannelWriter<LiveChange>> Watchers { get; } = [];
    }

    public sealed class Subscription(ChannelReader<LiveChange> changes, Action unsubscribe) : IDisposable
    {
        public ChannelReader<LiveChange> Changes { get; } = changes;

        public void Dispose() => unsubscribe();
    }
}
