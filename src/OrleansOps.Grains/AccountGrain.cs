using Microsoft.Extensions.Logging;
using System.Text;
using Orleans.Runtime;

namespace OrleansOps.Grains;

[GenerateSerializer]
public sealed class AccountState
{
    [Id(0)] public AccountConfig? Config { get; set; }
    [Id(1)] public long ConfigVersion { get; set; }
    [Id(2)] public ConfigSource? ConfigSource { get; set; }
    [Id(3)] public DateTimeOffset? ConfiguredAt { get; set; }
    /// <summary>The latest summary of every incident of the account, by id.</summary>
    [Id(4)] public Dictionary<string, IncidentSummary> Incidents { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Lifecycle events in arrival order, kept for the SLA engine.</summary>
    [Id(5)] public List<IncidentLifecycleEvent> Lifecycle { get; set; } = [];
    [Id(6)] public Dictionary<string, long> LastEventSeq { get; set; } = new(StringComparer.Ordinal);
    [Id(7)] public SortedSet<string> UndeclaredServices { get; set; } = new(StringComparer.Ordinal);
    [Id(8)] public List<Silence> Silences { get; set; } = [];
    /// <summary>The status each SLO had at the last review, and burn-rate episodes in progress.</summary>
    [Id(9)] public Dictionary<string, SloMemory> Slos { get; set; } = new(StringComparer.Ordinal);
    /// <summary>SLA transitions and burn episodes, newest last (the latest <see cref="MaxSlaEvents"/>).</summary>
    [Id(10)] public List<SlaEvent> SlaEvents { get; set; } = [];
    /// <summary>The content hash of the configuration file last applied at start-up, whatever was applied since.</summary>
    [Id(11)] public string? LastFileHash { get; set; }
    /// <summary>
    /// Summaries were taken into the index before they were written (<see cref="AccountGrain.IndexSaveDelay"/>), and the
    /// activation that took them has not closed cleanly: the next activation asks the open incidents again.
    /// </summary>
    [Id(12)] public bool IndexMayLag { get; set; }

    public const int MaxSlaEvents = 1000;

    /// <summary>Applies the events not seen before and the incident's current summary; says what changed.</summary>
    public Recorded Record(IncidentSummary current, IEnumerable<IncidentLifecycleEvent> events)
    {
        var recorded = Recorded.Nothing;
        foreach (var e in events.OrderBy(e => e.Seq))
        {
            if (LastEventSeq.GetValueOrDefault(e.IncidentId) >= e.Seq) continue;
            LastEventSeq[e.IncidentId] = e.Seq;
            Lifecycle.Add(e);
            recorded |= Recorded.Events;
        }
        if (!Incidents.TryGetValue(current.Id, out var known) || known != current)
        {
            Incidents[current.Id] = current;
            if (!current.ServiceDeclared) UndeclaredServices.Add(current.Service);
            recorded |= Recorded.Summary;
        }
        return recorded;
    }
}

/// <summary>What an incident's report changed in the account.</summary>
[Flags]
public enum Recorded
{
    Nothing = 0,
    /// <summary>Lifecycle events the ledger did not have: written before the incident hears they are held.</summary>
    Events = 1,
    /// <summary>Only the summary in the index (alert counts, nodes, services spanned): written within <see cref="AccountGrain.IndexSaveDelay"/>.</summary>
    Summary = 2,
}

public sealed partial class AccountGrain : Grain, IAccountGrain
{
    private readonly IPersistentState<AccountState> _state;
    private readonly TimeProvider _time;
    private readonly CoalescedWriter _writer;
    private readonly ILogger<AccountGrain> _logger;

    public AccountGrain([PersistentState("account", StorageNames.Grains)] IPersistentState<AccountState> state, TimeProvider time, ILogger<AccountGrain> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
        // Every incident reports here: concurrent reports share one write instead of queueing one write each.
        _writer = new CoalescedWriter(WriteAsync);
        _slaReview = new EarliestTimer(this, time, ReviewSlaAsync);
        _pendingSave = new EarliestTimer(this, time, SaveTakenAsync, keepAlive: true);
    }

    private string AccountId => this.GetPrimaryKeyString();

    /// <summary>A new activation's stamps never repeat an old one's.</summary>
    private readonly long _activation = Random.Shared.NextInt64();
    /// <summary>Changes to the account's state since activation.</summary>
    private long _changes;

    public Task<string> ChangeStamp() => Task.FromResult($"{_activation:x}.{_changes}");

    public async Task<ConfigResult> ApplyConfig(AccountConfig config, ConfigSource source, ConfigPrecondition? precondition = null)
    {
        var current = _state.State;
        var created = current.Config is null;
        // Judged before the first await of this turn: a second writer holding the same version sees this write's version.
        if (precondition is not null && !precondition.HoldsFor(!created, current.ConfigVersion))
            return new ConfigResult { Applied = false, Version = current.ConfigVersion, PreconditionFailed = true, Existed = !created };

        var errors = config.Validate().ToList();
        if (config.Id != AccountId) errors.Add($"id: '{config.Id}' does not match the account '{AccountId}'");
        if (errors.Count > 0) return new ConfigResult { Applied = false, Version = current.ConfigVersion, Errors = errors, Existed = !created };

        // A file that has not changed since it was last applied does not override edits made since over the API or
        // opsctl. (State from before LastFileHash was kept knows the file's hash only while the file was the last source.)
        var lastFile = current.LastFileHash ?? (current.ConfigSource is { Kind: "file" } previous ? previous.ContentHash : null);
        if (source.Kind == "file" && lastFile is not null && lastFile == source.ContentHash)
            return new ConfigResult { Applied = false, Version = current.ConfigVersion, Existed = true };
        if (source.Kind == "file") current.LastFileHash = source.ContentHash;

        var removedKeys = current.Config?.IntegrationKeys
            .Where(old => config.IntegrationKeys.All(k => k.KeySha256 != old.KeySha256))
            .ToList() ?? [];

        current.Config = config;
        current.ConfigVersion++;
        current.ConfigSource = source;
        current.ConfiguredAt = _time.GetUtcNow();
        await _writer.SaveAsync();

        // Key bindings and the directory follow the configuration; applying it again repairs them after a crash.
        await Task.WhenAll(config.IntegrationKeys.Select(key =>
            GrainFactory.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(key.KeySha256))
                .Bind(new KeyBinding { AccountId = AccountId, KeyName = key.Name, DefaultService = key.DefaultService })));
        await Task.WhenAll(removedKeys.Select(key =>
            GrainFactory.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(key.KeySha256)).Unbind(AccountId)));
        await GrainFactory.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).Register(AccountId);
        ScheduleSlaReview(SlaReviewDebounce); // a new contract is judged at once, not at the next incident

        return new ConfigResult { Applied = true, Version = current.ConfigVersion, Created = created, Existed = !created };
    }

    public Task<AccountView?> Describe()
    {
        var current = _state.State;
        if (current.Config is not { } config) return Task.FromResult<AccountView?>(null);
        return Task.FromResult<AccountView?>(new AccountView
        {
            Id = config.Id,
            Name = config.Name,
            Tier = config.Tier,
            TimeZone = config.TimeZone,
            Services = config.Services,
            UndeclaredServices = current.UndeclaredServices.Where(s => !config.Declares(s)).ToList(),
            OpenIncidents = current.Incidents.Values.Count(i => i.Status != IncidentStatus.Resolved),
            TotalIncidents = current.Incidents.Count,
            ConfigVersion = current.ConfigVersion,
            ConfigSource = current.ConfigSource?.Kind ?? "none",
            ConfiguredAt = current.ConfiguredAt,
        });
    }

    public Task<AccountConfig?> GetConfig() => Task.FromResult(_state.State.Config);

    public Task<Routing?> GetRouting(string keySha256) => Task.FromResult(
        _state.State.Config is { } config && config.IntegrationKeys.FirstOrDefault(k => k.KeySha256 == keySha256) is { } key
            ? new Routing
            {
                KeyDefaultService = key.DefaultService,
                GroupBy = config.GroupBy,
                DeclaredServices = config.Services.Select(s => s.Id).ToList(),
                Suppression = SuppressionRules(config),
                Window = config.GroupWindow,
                Upstream = Topology.Upstreams(config.Services),
                Inhibit = config.Inhibit,
                Flapping = config.Flapping,
                StormPerMinute = config.StormPerMinute,
                SymptomSeverity = config.SymptomSeverity,
                SymptomWait = config.SymptomWait,
            }
            : null);

    /// <summary>Every open incident's part in each of <paramref name="services"/> it spans.</summary>
    public Task<IReadOnlyList<UpstreamIncident>> OpenIncidents(IReadOnlyList<string> services) =>
        Task.FromResult<IReadOnlyList<UpstreamIncident>>(_state.State.Incidents.Values
            .Where(i => i.Status != IncidentStatus.Resolved)
            .SelectMany(i => (i.Services.Items.Count > 0 ? i.Services.Items : [new ServiceSpan(i.Service, i.OpenedAt, i.Severity)])
                .Where(span => services.Contains(span.Service))
                .Select(span => new UpstreamIncident(i.Id, span.Service, span.Since, span.Severity)))
            .ToList());

    /// <summary>Windows from the configuration and the silences that have not ended.</summary>
    private SuppressionRules SuppressionRules(AccountConfig config)
    {
        var now = _time.GetUtcNow();
        return new SuppressionRules
        {
            Silences = _state.State.Silences.Where(s => s.Until > now).ToList(),
            Maintenance = config.Maintenance,
            TimeZone = config.TimeZone,
        };
    }

    public async Task<Silence?> AddSilence(Silence silence)
    {
        if (_state.State.Config is null) return null;
        var now = _time.GetUtcNow();
        // Ended silences stay listed for a week, then go: the state does not grow with history.
        _state.State.Silences.RemoveAll(s => s.Until < now - TimeSpan.FromDays(7));
        _state.State.Silences.Add(silence);
        await _writer.SaveAsync();
        return silence;
    }

    public Task<IReadOnlyList<Silence>> ListSilences()
    {
        var cutoff = _time.GetUtcNow() - TimeSpan.FromDays(7);
        return Task.FromResult<IReadOnlyList<Silence>>(_state.State.Silences
            .Where(s => s.Until >= cutoff)
            .OrderByDescending(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)
            .ToList());
    }

    public async Task<Silence?> ExpireSilence(string silenceId, string actor)
    {
        var index = _state.State.Silences.FindIndex(s => s.Id == silenceId);
        if (index < 0 || _state.State.Config is not { } config) return null;
        var now = _time.GetUtcNow();
        var silence = _state.State.Silences[index];
        if (silence.Until <= now) return silence;
        silence = silence with { ExpiredAt = now, ExpiredBy = actor };
        _state.State.Silences[index] = silence;
        await _writer.SaveAsync();
        var rules = SuppressionRules(config);
        foreach (var service in AllServices(config))
            await GrainFactory.GetGrain<ICorrelatorGrain>(GrainKeys.Correlator(AccountId, service)).Reconsider(rules);
        return silence;
    }

    public Task<IReadOnlyList<string>> Services() => Task.FromResult<IReadOnlyList<string>>(
        _state.State.Config is { } config ? AllServices(config) : []);

    private List<string> AllServices(AccountConfig config) =>
        config.Services.Select(s => s.Id).Concat(_state.State.UndeclaredServices).Distinct(StringComparer.Ordinal).ToList();

    public Task<IncidentPage> ListIncidents(IncidentStatusFilter filter, string? cursor, int limit)
    {
        var after = IncidentCursor.Decode(cursor);
        var matching = _state.State.Incidents.Values
            .Where(i => Matches(i, filter))
            .OrderByDescending(i => i.OpenedAt).ThenBy(i => i.Id, StringComparer.Ordinal)
            .SkipWhile(i => after is { } a && !IncidentCursor.IsAfter(i, a))
            .Take(limit + 1)
            .ToList();
        var next = matching.Count > limit ? IncidentCursor.Encode(matching[limit - 1]) : null;
        return Task.FromResult(new IncidentPage(matching.Take(limit).ToList(), next));
    }

    public Task<IReadOnlyList<IncidentLifecycleEvent>> GetLifecycle() =>
        Task.FromResult<IReadOnlyList<IncidentLifecycleEvent>>(_state.State.Lifecycle.ToList());

    private static bool Matches(IncidentSummary incident, IncidentStatusFilter filter) => filter switch
    {
        IncidentStatusFilter.All => true,
        IncidentStatusFilter.Open => incident.Status != IncidentStatus.Resolved,
        IncidentStatusFilter.Triggered => incident.Status == IncidentStatus.Triggered,
        IncidentStatusFilter.Acknowledged => incident.Status == IncidentStatus.Acknowledged,
        IncidentStatusFilter.Resolved => incident.Status == IncidentStatus.Resolved,
        _ => false,
    };
}

/// <summary>A page position: the last item's open time and id (newest first), opaque to clients.</summary>
public static class IncidentCursor
{
    public static string Encode(IncidentSummary last) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{last.OpenedAt.UtcTicks}:{last.Id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static (long Ticks, string Id)? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        if (!TryDecode(cursor, out var position)) throw new ArgumentException("cursor: not a cursor this server issued");
        return position;
    }

    public static bool TryDecode(string cursor, out (long Ticks, string Id) position)
    {
        position = default;
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            var colon = text.IndexOf(':');
            if (colon <= 0 || !long.TryParse(text[..colon], out var ticks)) return false;
            position = (ticks, text[(colon + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="incident"/> comes after the position in newest-first order.</summary>
    public static bool IsAfter(IncidentSummary incident, (long Ticks, string Id) position) =>
        incident.OpenedAt.UtcTicks < position.Ticks
        || (incident.OpenedAt.UtcTicks == position.Ticks && string.CompareOrdinal(incident.Id, position.Id) > 0);
}
