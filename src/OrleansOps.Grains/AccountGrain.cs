using Microsoft.Extensions.Logging;
using System.Text;
using Orleans.Concurrency;
using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>
/// What the account itself holds (its incidents' summaries are their own, in the journal's index): its configuration,
/// silences, and SLA memory. Small, and changed rarely.
/// </summary>
[GenerateSerializer]
public sealed class AccountState
{
    [Id(0)] public AccountConfig? Config { get; set; }
    [Id(1)] public long ConfigVersion { get; set; }
    [Id(2)] public ConfigSource? ConfigSource { get; set; }
    [Id(3)] public DateTimeOffset? ConfiguredAt { get; set; }
    [Id(8)] public List<Silence> Silences { get; set; } = [];
    /// <summary>The status each SLO had at the last review, and burn-rate episodes in progress.</summary>
    [Id(9)] public Dictionary<string, SloMemory> Slos { get; set; } = new(StringComparer.Ordinal);
    /// <summary>SLA transitions and burn episodes, newest last (the latest <see cref="MaxSlaEvents"/>).</summary>
    [Id(10)] public List<SlaEvent> SlaEvents { get; set; } = [];
    /// <summary>The content hash of the configuration file last applied at start-up, whatever was applied since.</summary>
    [Id(11)] public string? LastFileHash { get; set; }

    public const int MaxSlaEvents = 1000;

    public void Apply(AccountChange change)
    {
        if (change.Configured is { } configured)
            (Config, ConfigVersion, ConfigSource, ConfiguredAt, LastFileHash) =
                (configured.Config, configured.Version, configured.Source, configured.At, configured.LastFileHash);
        if (change.Silences is { } silences) Silences = silences;
        if (change.Slos is { } slos) Slos = slos;
        foreach (var e in change.SlaEvents ?? []) AddSlaEvent(e);
    }

    public void AddSlaEvent(SlaEvent e)
    {
        SlaEvents.Add(e);
        if (SlaEvents.Count > MaxSlaEvents) SlaEvents.RemoveRange(0, SlaEvents.Count - MaxSlaEvents);
    }
}

/// <summary>What one change did to the account's own state: each part whole when it changed, SLA events as they were added.</summary>
[GenerateSerializer, Alias("orleansops.account-change.v1")]
public sealed class AccountChange
{
    [Id(0)] public Configured? Configured { get; init; }
    [Id(1)] public List<Silence>? Silences { get; init; }
    [Id(2)] public Dictionary<string, SloMemory>? Slos { get; init; }
    [Id(3)] public List<SlaEvent>? SlaEvents { get; init; }
}

[GenerateSerializer, Immutable, Alias("orleansops.configured.v1")]
public sealed record Configured(
    [property: Id(0)] AccountConfig Config, [property: Id(1)] long Version, [property: Id(2)] ConfigSource Source,
    [property: Id(3)] DateTimeOffset At, [property: Id(4)] string? LastFileHash);

/// <summary>
/// Keyed by account id: the configuration, silences and the live SLA. Its incident index and SLA ledger are the
/// incidents' summaries: loaded from the journal's index when it activates, and kept current by the incidents (and
/// their correlator) as they change; a summary is durable in its incident's entry before the account hears of it.
/// </summary>
[Reentrant]
public sealed partial class AccountGrain : Grain, IAccountGrain
{
    public const string StreamPrefix = "account/";

    private readonly IJournal _journal;
    private readonly Serializer _serializer;
    private readonly TimeProvider _time;
    private readonly ILogger<AccountGrain> _logger;
    private JournalStream _stream = null!;
    private AccountState _own = new();
    /// <summary>The latest summary of every incident of the account, by id.</summary>
    private readonly Dictionary<string, IncidentSummary> _incidents = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _undeclared = new(StringComparer.Ordinal);

    public AccountGrain(IJournal journal, Serializer serializer, TimeProvider time, ILogger<AccountGrain> logger)
    {
        _journal = journal;
        _serializer = serializer;
        _time = time;
        _logger = logger;
        _slaReview = new EarliestTimer(this, time, ReviewSlaAsync);
    }

    private string AccountId => this.GetPrimaryKeyString();

    /// <summary>A new activation's stamps never repeat an old one's.</summary>
    private readonly long _activation = Random.Shared.NextInt64();
    /// <summary>Changes to the account's state since activation.</summary>
    private long _changes;

    public Task<string> ChangeStamp() => Task.FromResult($"{_activation:x}.{_changes}");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = new JournalStream(_journal, _serializer, StreamPrefix + AccountId);
        var (snapshot, entries) = await _stream.LoadAsync<AccountState>(cancellationToken);
        _own = snapshot ?? new AccountState();
        _stream.Replay<AccountChange>(entries, _own.Apply);
        foreach (var row in await _journal.ReadIndexAsync(AccountId, cancellationToken))
            Take(_stream.Read<IncidentSummary>(row.Summary) with { Version = row.Version, AlertCount = row.Alerts, FiringAlertCount = row.Firing, NodeCount = row.Nodes });
        if (_own.Config is { } config && HasSla(config)) ScheduleSlaReview(TimeSpan.Zero);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.Durable.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "Account {AccountId} deactivated before its last entry was durable", AccountId);
        }
    }

    /// <summary>Journals a change of the account's own state; returns the task to wait on.</summary>
    private Task Commit(AccountChange change)
    {
        _changes++;
        return _stream.Append(AccountId, _stream.Write(change), snapshot: () => _stream.Write(_own));
    }

    public async Task<ConfigResult> ApplyConfig(AccountConfig config, ConfigSource source, ConfigPrecondition? precondition = null)
    {
        var current = _own;
        var created = current.Config is null;
        // Judged in the same synchronous stretch as the change: a second writer holding the same version sees this write's version.
        if (precondition is not null && !precondition.HoldsFor(!created, current.ConfigVersion))
            return new ConfigResult { Applied = false, Version = current.ConfigVersion, PreconditionFailed = true, Existed = !created };

        var errors = config.Validate().ToList();
        if (config.Id != AccountId) errors.Add($"id: '{config.Id}' does not match the account '{AccountId}'");
        if (errors.Count > 0) return new ConfigResult { Applied = false, Version = current.ConfigVersion, Errors = errors, Existed = !created };

        // A file that has not changed since it was last applied does not override edits made since over the API or opsctl.
        var lastFile = current.LastFileHash ?? (current.ConfigSource is { Kind: "file" } previous ? previous.ContentHash : null);
        if (source.Kind == "file" && lastFile is not null && lastFile == source.ContentHash)
            return new ConfigResult { Applied = false, Version = current.ConfigVersion, Existed = true };

        var hadHeartbeats = current.Config?.Heartbeats.Count > 0;
        var removedKeys = current.Config?.IntegrationKeys
            .Where(old => config.IntegrationKeys.All(k => k.KeySha256 != old.KeySha256))
            .ToList() ?? [];

        // The configuration applied already (a retried PUT, a file applied again with opsctl) keeps its version: a new
        // one would tell readers holding the ETag that something changed. What follows it is still repaired below. (A
        // start-up file goes by its hash above, which an applied copy must record even when the text changed nothing.)
        var unchanged = source.Kind != "file" && current.Config is { } applied && Same(applied, config);
        var version = current.ConfigVersion;
        // Alike to a write still on its way to disk: answered once that write is durable, as its own caller is.
        if (unchanged) await JournalStream.WhenDurableAsync(_stream.Durable);
        else
        {
            var configured = new Configured(config, ++version, source, _time.GetUtcNow(), source.Kind == "file" ? source.ContentHash : current.LastFileHash);
            var change = new AccountChange { Configured = configured };
            current.Apply(change);
            await JournalStream.WhenDurableAsync(Commit(change));
        }

        // Key bindings, the directory and the correlator follow the configuration; applying it again repairs them after a crash.
        await Task.WhenAll(config.IntegrationKeys.Select(key =>
            GrainFactory.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(key.KeySha256))
                .Bind(new KeyBinding { AccountId = AccountId, KeyName = key.Name, DefaultService = key.DefaultService })));
        await Task.WhenAll(removedKeys.Select(key =>
            GrainFactory.GetGrain<IIntegrationKeyGrain>(GrainKeys.IntegrationKey(key.KeySha256)).Unbind(AccountId)));
        await GrainFactory.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).Register(AccountId);
        await TellCorrelatorAsync();
        // New heartbeats start counting now, not at their first ping; dropped ones resolve what they had raised.
        if (hadHeartbeats || config.Heartbeats.Count > 0) await GrainFactory.GetGrain<IHeartbeatGrain>(AccountId).Configure();
        ScheduleSlaReview(SlaReviewDebounce); // a new contract is judged at once, not at the next incident

        return new ConfigResult { Applied = !unchanged, Unchanged = unchanged, Version = version, Created = created, Existed = !created };
    }

    /// <summary>Whether a summary brings another SLA correction (by content: a copy read back is another instance).</summary>
    private static bool SameCorrection(SlaCorrection? a, SlaCorrection? b) =>
        a is null ? b is null : b is not null && a.SameEffect(b) && a.At == b.At && a.Actor == b.Actor && a.Reason == b.Reason;

    /// <summary>Whether two configurations say the same, as their serialized forms do (the order of lists and maps included).</summary>
    private bool Same(AccountConfig a, AccountConfig b) => _serializer.SerializeToArray(a).AsSpan().SequenceEqual(_serializer.SerializeToArray(b));

    public Task<CorrelationSettings?> GetCorrelationSettings() => Task.FromResult(CorrelationSettings());

    private CorrelationSettings? CorrelationSettings()
    {
        if (_own.Config is not { } config) return null;
        var now = _time.GetUtcNow();
        return new CorrelationSettings(_own.ConfigVersion, config, _own.Silences.Where(s => s.Until > now).ToList());
    }

    private async Task TellCorrelatorAsync()
    {
        if (CorrelationSettings() is { } settings) await GrainFactory.GetGrain<ICorrelatorGrain>(AccountId).Configure(settings);
    }

    public Task Record(IReadOnlyList<IncidentSummary> summaries)
    {
        var lifecycle = false;
        foreach (var summary in summaries)
        {
            var known = _incidents.GetValueOrDefault(summary.Id);
            if (known is not null && known.Version > summary.Version) continue;
            lifecycle |= known is null || known.Status != summary.Status || known.Severity != summary.Severity
                || known.AcknowledgedAt != summary.AcknowledgedAt || known.ResolvedAt != summary.ResolvedAt || known.Services != summary.Services
                || !SameCorrection(known.SlaCorrection, summary.SlaCorrection);
            Take(summary);
        }
        _changes++;
        if (lifecycle) ScheduleSlaReview(SlaReviewDebounce);
        return Task.CompletedTask;
    }

    private void Take(IncidentSummary summary)
    {
        _incidents[summary.Id] = summary;
        if (!summary.ServiceDeclared) _undeclared.Add(summary.Service);
    }

    public Task<AccountView?> Describe()
    {
        var current = _own;
        if (current.Config is not { } config) return Task.FromResult<AccountView?>(null);
        return Task.FromResult<AccountView?>(new AccountView
        {
            Id = config.Id,
            Name = config.Name,
            Tier = config.Tier,
            TimeZone = config.TimeZone,
            Services = config.Services,
            UndeclaredServices = _undeclared.Where(s => !config.Declares(s)).ToList(),
            OpenIncidents = _incidents.Values.Count(i => i.Status != IncidentStatus.Resolved),
            TotalIncidents = _incidents.Count,
            ConfigVersion = current.ConfigVersion,
            ConfigSource = current.ConfigSource?.Kind ?? "none",
            ConfiguredAt = current.ConfiguredAt,
        });
    }

    public Task<AccountConfig?> GetConfig() => Task.FromResult(_own.Config);

    public async Task<Silence?> AddSilence(Silence silence)
    {
        if (_own.Config is null) return null;
        var now = _time.GetUtcNow();
        // Ended silences stay listed for a week, then go: the state does not grow with history.
        var silences = _own.Silences.Where(s => s.Until >= now - TimeSpan.FromDays(7)).Append(silence).ToList();
        var change = new AccountChange { Silences = silences };
        _own.Apply(change);
        await JournalStream.WhenDurableAsync(Commit(change));
        await TellCorrelatorAsync();
        return silence;
    }

    public Task<IReadOnlyList<Silence>> ListSilences()
    {
        var cutoff = _time.GetUtcNow() - TimeSpan.FromDays(7);
        return Task.FromResult<IReadOnlyList<Silence>>(_own.Silences
            .Where(s => s.Until >= cutoff)
            .OrderByDescending(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)
            .ToList());
    }

    public async Task<Silence?> ExpireSilence(string silenceId, string actor)
    {
        var index = _own.Silences.FindIndex(s => s.Id == silenceId);
        if (index < 0 || _own.Config is null) return null;
        var now = _time.GetUtcNow();
        var silence = _own.Silences[index];
        if (silence.Until <= now) return silence;
        silence = silence with { ExpiredAt = now, ExpiredBy = actor };
        var silences = _own.Silences.ToList();
        silences[index] = silence;
        var change = new AccountChange { Silences = silences };
        _own.Apply(change);
        await JournalStream.WhenDurableAsync(Commit(change));
        await TellCorrelatorAsync(); // the alerts it held are evaluated again there
        return silence;
    }

    public Task<IReadOnlyList<string>> Services() => Task.FromResult<IReadOnlyList<string>>(
        _own.Config is { } config ? config.Services.Select(s => s.Id).Concat(_undeclared).Distinct(StringComparer.Ordinal).ToList() : []);

    public Task<IncidentPage> ListIncidents(IncidentStatusFilter filter, string? cursor, int limit)
    {
        var after = IncidentCursor.Decode(cursor);
        var matching = _incidents.Values
            .Where(i => Matches(i, filter))
            .OrderByDescending(i => i.OpenedAt).ThenBy(i => i.Id, StringComparer.Ordinal)
            .SkipWhile(i => after is { } a && !IncidentCursor.IsAfter(i, a))
            .Take(limit + 1)
            .ToList();
        var next = matching.Count > limit ? IncidentCursor.Encode(matching[limit - 1]) : null;
        return Task.FromResult(new IncidentPage(matching.Take(limit).ToList(), next));
    }

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
