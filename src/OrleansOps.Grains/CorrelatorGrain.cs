using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Serialization;

namespace OrleansOps.Grains;

/// <summary>The correlation state of one account: each service's, the firing sources of its inhibition rules, and what its open incidents span.</summary>
[GenerateSerializer]
public sealed class AccountCorrelation
{
    [Id(0)] public Dictionary<string, CorrelatorState> Services { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public InhibitionSources Sources { get; set; } = new();
    /// <summary>
    /// The services each open incident spans (as correlation placed its alerts): the most severe alert of each and when
    /// the first alert that severe joined, for topology.
    /// </summary>
    [Id(2)] public TrackedMap<List<ServiceSpan>> Spans { get; set; } = new();

    /// <summary>
    /// The services changed since the last <see cref="TakeTouched"/>: a commit looks at these only, since a request
    /// touches a few of an account's hundreds of services. Null once something changed them all.
    /// </summary>
    [NonSerialized] private Dictionary<string, CorrelatorState>? _touched = new(StringComparer.Ordinal);

    /// <summary>The state of <paramref name="service"/>, to read or change (it counts as touched).</summary>
    public CorrelatorState Service(string service)
    {
        if (!Services.TryGetValue(service, out var state)) Services[service] = state = new CorrelatorState();
        _touched?.TryAdd(service, state);
        return state;
    }

    /// <summary>Every service, to change them all (they all count as touched).</summary>
    public IEnumerable<CorrelatorState> TouchAll()
    {
        _touched = null;
        return Services.Values;
    }

    /// <summary>The services that may have changed since the last call, by name.</summary>
    public IReadOnlyDictionary<string, CorrelatorState> Touched => _touched ?? Services;

    /// <summary>Starts a new round of touches, once what the last round changed has been taken.</summary>
    public void TakeTouched()
    {
        NextRelease(); // the release times of this round's services, before the round is forgotten
        _touched = new(StringComparer.Ordinal);
    }

    /// <summary>Each service's first suppression end, and the same ordered by time; null until first asked.</summary>
    [NonSerialized] private Dictionary<string, DateTimeOffset>? _endByService;
    [NonSerialized] private SortedSet<(DateTimeOffset At, string Service)>? _ends;

    /// <summary>
    /// The first end of a suppression in any service. Asked on every commit, so it looks again only at the services
    /// touched since it was last asked (a request touches a few of hundreds), and at them all after a change to all.
    /// </summary>
    public DateTimeOffset? NextRelease()
    {
        if (_ends is null || _endByService is null || _touched is null)
        {
            _endByService = new(StringComparer.Ordinal);
            _ends = new SortedSet<(DateTimeOffset At, string Service)>(EndOrder.Instance);
            foreach (var (name, service) in Services) Track(name, service);
        }
        else foreach (var (name, service) in _touched) Track(name, service);
        return _ends.Count == 0 ? null : _ends.Min.At;
    }

    private void Track(string name, CorrelatorState service)
    {
        var end = service.NextSuppressionEnd;
        if (_endByService!.TryGetValue(name, out var known))
        {
            if (end == known) return;
            _ends!.Remove((known, name));
            _endByService.Remove(name);
        }
        if (end is not { } at) return;
        _endByService[name] = at;
        _ends!.Add((at, name));
    }

    private sealed class EndOrder : IComparer<(DateTimeOffset At, string Service)>
    {
        public static readonly EndOrder Instance = new();

        public int Compare((DateTimeOffset At, string Service) x, (DateTimeOffset At, string Service) y)
        {
            var byTime = x.At.CompareTo(y.At);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Service, y.Service);
        }
    }
}

/// <summary>What one decision changed in an account's correlation state.</summary>
[GenerateSerializer, Alias("orleansops.account-correlation-change.v1")]
public sealed class AccountCorrelationChange
{
    [Id(0)] public Dictionary<string, CorrelatorChange>? Services { get; init; }
    [Id(1)] public MapChange<InhibitionSources.Source>? Sources { get; init; }
    [Id(2)] public MapChange<List<ServiceSpan>>? Spans { get; init; }
}

/// <summary>
/// Suppression, dedup and grouping for every service of one account: the one grain an ingest request calls. The
/// services of a batch are planned in dependency waves (upstream first, so a cause and its symptom sent together land
/// in one incident) in one synchronous stretch, and the decisions are journaled before any incident hears of them, so
/// a retried request after a crash lands in the same incidents; incidents apply alerts as upserts. Alerts held back by
/// a silence, a maintenance window or a wait go through correlation again when it ends: a grain timer on time, the
/// journal's wake index after a deactivation or a crash.
/// </summary>
[Reentrant]
public sealed class CorrelatorGrain(IJournal journal, Serializer serializer, TimeProvider time, ILogger<CorrelatorGrain> logger)
    : Grain, ICorrelatorGrain
{
    public const string StreamPrefix = "correlator/";
    /// <summary>Each round forgets at least one resolved incident, so rounds are few; this only guards against a bug.</summary>
    private const int MaxRounds = 16;
    /// <summary>Orleans timers cannot wait longer than about 49 days; a far-off end re-arms daily.</summary>
    private static readonly TimeSpan MaxTimerWait = TimeSpan.FromDays(1);

    private AccountCorrelation _state = new();
    private JournalStream _stream = null!;
    private CorrelationSettings? _settings;
    private readonly StormDetector _storm = new();
    private SharedFailures _shared = new();
    private OpenSpans _spans = null!;
    private IGrainTimer? _releaseTimer;
    private DateTimeOffset? _releaseDueAt;
    private DateTimeOffset? _wakeJournaled;

    private string AccountId => this.GetPrimaryKeyString();
    /// <summary>Kept: the grain factory reads the interface's attributes on every call, a cost per request.</summary>
    private IAccountGrain Account => _account ??= GrainFactory.GetGrain<IAccountGrain>(AccountId);
    private IAccountGrain? _account;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = new JournalStream(journal, serializer, StreamPrefix + AccountId);
        var (snapshot, entries) = await _stream.LoadAsync<AccountCorrelation>(cancellationToken);
        _state = snapshot ?? new AccountCorrelation();
        _stream.Replay<AccountCorrelationChange>(entries, Apply);
        _shared = SharedFailures.Of(_state.Services);
        _spans = OpenSpans.Of(_state.Spans);
        _settings = await Account.GetCorrelationSettings();
        _wakeJournaled = NextRelease;
        ScheduleRelease();
    }

    public async Task<IngestResult> Ingest(IngestBatch batch)
    {
        var settings = await SettingsAsync();
        if (settings is null || !settings.Holds(batch.KeySha256)) return new IngestResult { UnknownKey = true };
        if (settings.Version != batch.RoutingVersion) return new IngestResult { Stale = settings.RoutingFor(batch.KeySha256) };
        if (settings.Config.Heartbeats.Any(h => h.Alert is not null)) return new IngestResult { Receipts = await PingOrCorrelateAsync(batch.Alerts, settings) };
        return new IngestResult { Receipts = await CorrelateAsync(batch.Alerts, settings, alreadyCounted: false) };
    }

    public async Task<IReadOnlyList<AlertReceipt>> Raise(IReadOnlyList<NormalizedAlert> alerts) =>
        await SettingsAsync() is { } settings ? await CorrelateAsync(alerts, settings, alreadyCounted: false) : [];

    /// <summary>
    /// An always-firing alert that a heartbeat names (Prometheus' <c>Watchdog</c>) is that heartbeat's ping, and opens no
    /// incident of its own; the batch's other alerts are correlated as ever.
    /// </summary>
    private async Task<IReadOnlyList<AlertReceipt>> PingOrCorrelateAsync(IReadOnlyList<NormalizedAlert> alerts, CorrelationSettings settings)
    {
        var pings = new List<int>();
        var others = new List<int>();
        for (var i = 0; i < alerts.Count; i++)
            (settings.Config.HeartbeatPingedBy(alerts[i].Name) is not null ? pings : others).Add(i);
        if (pings.Count == 0) return await CorrelateAsync(alerts, settings, alreadyCounted: false);
        var heartbeats = GrainFactory.GetGrain<IHeartbeatGrain>(AccountId);
        foreach (var name in pings.Where(i => alerts[i].Status == AlertStatus.Firing).Select(i => settings.Config.HeartbeatPingedBy(alerts[i].Name)!.Name).Distinct())
            await heartbeats.Ping(name);
        var receipts = new AlertReceipt[alerts.Count];
        foreach (var i in pings) receipts[i] = new AlertReceipt { Fingerprint = alerts[i].Fingerprint, Outcome = AlertOutcome.Heartbeat };
        if (others.Count > 0)
            foreach (var (i, receipt) in others.Zip(await CorrelateAsync(others.Select(i => alerts[i]).ToList(), settings, alreadyCounted: false)))
                receipts[i] = receipt;
        return receipts;
    }

    public async Task<Routing?> GetRouting(string keySha256) => (await SettingsAsync())?.RoutingFor(keySha256);

    public Task<IReadOnlyList<ServiceCorrelation>> GetCounters() => Task.FromResult<IReadOnlyList<ServiceCorrelation>>(
        _state.Services.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new ServiceCorrelation(s.Key, s.Value.Counters.Copy())).ToList());

    public Task<IReadOnlyList<SuppressedAlert>> ListSuppressed() => Task.FromResult<IReadOnlyList<SuppressedAlert>>(
        _state.Services.Values.SelectMany(s => s.Suppressed.Values).OrderBy(s => s.Since).ToList());

    public async Task Configure(CorrelationSettings settings)
    {
        _settings = settings;
        // A silence expired early: what it held goes through correlation again now.
        var rules = Suppression(settings, time.GetUtcNow());
        foreach (var service in _state.TouchAll()) service.LiftEnded(rules, time.GetUtcNow());
        await ReleaseDueAsync();
    }

    public async Task Adopt(string incidentId, string service, string groupKey, IReadOnlyList<string> firingFingerprints)
    {
        if (!_state.Service(service).Adopt(incidentId, groupKey, firingFingerprints)) return;
        await JournalStream.WhenDurableAsync(Commit());
    }

    public Task Wake() => ReleaseDueAsync();

    public async Task<CommandResult> Merge(string absorbed, string survivor, string actor, string reason)
    {
        // The survivor must be able to take the alerts before the absorbed incident lets them go.
        var into = await Incident(survivor).Describe();
        if (into is null || into.Summary.AccountId != AccountId)
            return new CommandResult { Outcome = CommandOutcome.NotFound, Message = Missing.Incident(survivor) };
        if (into.Summary.MergedInto is { } further)
            return new CommandResult { Outcome = CommandOutcome.Conflict, Message = $"Incident {survivor} was merged into {further}; merge into {further} instead.", Incident = into };
        if (into.Summary.Status == IncidentStatus.Resolved)
            return new CommandResult { Outcome = CommandOutcome.Conflict, Message = $"Incident {survivor} is resolved; reopen it before merging into it.", Incident = into };
        var handOver = await Incident(absorbed).MergeInto(survivor, actor, reason);
        if (handOver.Result.Outcome is CommandOutcome.NotFound or CommandOutcome.Conflict) return handOver.Result;
        var taken = await Incident(survivor).Absorb(absorbed, handOver.Alerts, actor, reason);
        Merged(absorbed, survivor);
        await JournalStream.WhenDurableAsync(Commit());
        return taken.Outcome == CommandOutcome.Unchanged && handOver.Result.Outcome == CommandOutcome.Applied ? taken with { Outcome = CommandOutcome.Applied } : taken;
    }

    /// <summary>
    /// A late cause joined the incident a dependant opened just before: the incidents its other direct dependants opened
    /// with a failure within the window merge into that one, so that one failure is one incident however its symptoms
    /// came in.
    /// </summary>
    private async Task MergeExplainedAsync(Route cause, AccountConfig config)
    {
        var since = cause.Alert.ReceivedAt - config.GroupWindow;
        var upstreams = Upstreams(config);
        // Only direct dependants: a failure further down has causes of its own closer to it.
        var explained = DownstreamIncidents(cause.Alert.Service, config, since)
            .Where(d => d.IncidentId != cause.IncidentId && d.Since >= since && d.Severity <= config.SymptomSeverity
                && upstreams.GetValueOrDefault(d.Service)?.Contains(cause.Alert.Service) == true)
            .Select(d => d.IncidentId).Distinct().ToList();
        foreach (var incidentId in explained)
        {
            var merged = await Merge(incidentId, cause.IncidentId, "correlation", $"{cause.Alert.Service}'s failure explains it too ({cause.Rule})");
            if (merged.Outcome is CommandOutcome.NotFound or CommandOutcome.Conflict)
                logger.LogInformation("Account {AccountId}: {IncidentId} stays apart from {Cause}: {Reason}", AccountId, incidentId, cause.IncidentId, merged.Message);
        }
    }

    /// <summary>What led to <paramref name="absorbed"/> leads to <paramref name="survivor"/>: its alerts, groups, placements and spans.</summary>
    private void Merged(string absorbed, string survivor)
    {
        var window = _settings?.Config.GroupWindow ?? TimeSpan.Zero;
        foreach (var service in _state.TouchAll()) service.Redirect(absorbed, survivor, window);
        if (_state.Spans.TryGetValue(absorbed, out var spans))
        {
            if (!_state.Spans.TryGetValue(survivor, out var into)) _state.Spans[survivor] = into = [];
            foreach (var span in spans)
            {
                var index = into.FindIndex(s => s.Service == span.Service);
                if (index < 0) into.Add(span);
                else if (span.Severity < into[index].Severity || span.Severity == into[index].Severity && span.Since < into[index].Since) into[index] = span;
            }
            _state.Spans.Touch(survivor);
            _state.Spans.Remove(absorbed);
            _spans.Added(survivor);
        }
        _shared = SharedFailures.Of(_state.Services);
        _incidents.Remove(absorbed);
    }

    public async Task<CommandResult> Split(string incidentId, IReadOnlyList<string> fingerprints, string? mergedFrom, string actor, string reason)
    {
        if (await SettingsAsync() is not { } settings) return new CommandResult { Outcome = CommandOutcome.NotFound, Message = $"No account {AccountId}." };
        var leaving = await Incident(incidentId).AlertsToSplit(fingerprints, mergedFrom);
        if (leaving.Result.Outcome is CommandOutcome.NotFound or CommandOutcome.Conflict) return leaving.Result;
        var alerts = leaving.Alerts;
        // The same split asked again (one cut short) finds the incident it opened.
        var into = Ids.Derived("split", incidentId, string.Join(",", alerts.Select(a => a.Fingerprint).Order(StringComparer.Ordinal)));
        var first = alerts[0];
        var config = settings.Config;
        var service = first.Service ?? "";
        var origin = new IncidentOrigin
        {
            AccountId = AccountId,
            Service = service,
            ServiceDeclared = config.Services.Any(s => s.Id == service),
            GroupKey = GroupKey.Of(first.Labels, config.GroupBy),
        };
        // Opened before the alerts leave: a split cut short leaves them in both, never in neither.
        var opened = await Incident(into).OpenSplit(origin, alerts, incidentId, actor, reason);
        if (opened.Outcome is CommandOutcome.NotFound or CommandOutcome.Conflict) return opened;
        foreach (var group in alerts.GroupBy(a => a.Service ?? service, StringComparer.Ordinal))
            _state.Service(group.Key).MoveSplit(incidentId, into, group.Select(a => (a.Fingerprint, GroupKey.Of(a.Labels, config.GroupBy))));
        foreach (var alert in alerts)
            Spanned(into, alert.Service ?? service, alert.FirstSeen, alert.Severity);
        await JournalStream.WhenDurableAsync(Commit());
        var left = await Incident(incidentId).SplitOut(alerts.Select(a => a.Fingerprint).ToList(), null, into, actor, reason);
        if (left.Outcome == CommandOutcome.Conflict)
            logger.LogWarning("Account {AccountId}: the alerts split out into {Into} could not leave {IncidentId}: {Reason}", AccountId, into, incidentId, left.Message);
        return opened with { Outcome = CommandOutcome.Applied };
    }

    private async Task<CorrelationSettings?> SettingsAsync() =>
        _settings ??= await Account.GetCorrelationSettings();

    /// <summary>
    /// Plans every alert, journals the decisions, delivers each incident its alerts (incidents that share this grain's
    /// journal answer once they have appended their change, the others once it is durable), settles what the answers
    /// teach (a resolved incident rejects: its alerts are planned again as a new occurrence), tells the account the
    /// incidents' new summaries, and answers once its own entries and the incidents' are durable.
    /// </summary>
    private async Task<IReadOnlyList<AlertReceipt>> CorrelateAsync(IReadOnlyList<NormalizedAlert> alerts, CorrelationSettings settings, bool alreadyCounted)
    {
        var receipts = new AlertReceipt?[alerts.Count];
        // Only the services of these alerts count them: the metrics take the difference over those.
        var counting = alerts.Select(a => a.Service).Distinct(StringComparer.Ordinal).Select(_state.Service).ToList();
        var countedBefore = Totals(counting);
        var pending = Enumerable.Range(0, alerts.Count).ToList();
        var summaries = new Dictionary<string, IncidentSummary>(StringComparer.Ordinal);
        var decided = _stream.Durable;
        long incidentsFlush = 0;
        var lateCauses = new List<Route>();
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == MaxRounds) throw new InvalidOperationException($"Alerts for {AccountId} kept landing on resolved incidents.");
            var routes = Plan(pending.Select(i => alerts[i]).ToList(), settings, replanning: alreadyCounted || round > 0);
            // Decisions first: the incidents' entries, which the answer waits for, come after them in the journal.
            decided = Commit();

            foreach (var (index, held) in routes.Where(r => r.Route.Kind == RouteKind.Suppressed))
                receipts[pending[index]] = new AlertReceipt { Fingerprint = held.Alert.Fingerprint, Outcome = AlertOutcome.Suppressed, SuppressedBy = held.SuppressedBy };
            var answers = await Task.WhenAll(routes
                .Where(r => r.Route.Kind != RouteKind.Suppressed)
                .GroupBy(r => r.Route.IncidentId)
                .Select(incident => DeliverAsync(incident.ToList())));

            var rejected = new List<int>();
            foreach (var (routed, result) in answers)
            {
                incidentsFlush = Math.Max(incidentsFlush, result.Flush);
                foreach (var ((index, route), outcome) in routed.Zip(result.Outcomes))
                {
                    _state.Service(route.Alert.Service).Settle(route, outcome);
                    if (outcome == AlertOutcome.Applied && CorrelationRelation.Of(route.Rule) == CorrelationRelation.Cause) lateCauses.Add(route);
                    if (outcome == AlertOutcome.Rejected) rejected.Add(pending[index]);
                    else receipts[pending[index]] = new AlertReceipt
                    {
                        Fingerprint = route.Alert.Fingerprint,
                        IncidentId = route.IncidentId,
                        Outcome = outcome,
                        OpenedIncident = route.Opens is not null,
                    };
                }
                if (result.Summary is { } summary) summaries[summary.Id] = summary;
                if (result.Status == IncidentStatus.Resolved) Forget(routed[0].Route.IncidentId);
            }
            pending = rejected.Order().ToList();
        }
        // What the answers taught, if they taught anything; else the answer relies on the decisions alone. The stream's
        // last entry would by now often be the next request's decisions: one more sync to wait for.
        var settled = Commit(unchanged: decided);
        OpsMetrics.Correlated(AccountId, countedBefore, Totals(counting));
        ScheduleRelease();
        // The account takes the summaries while the journal syncs: both before the answer, neither waiting for the other.
        var recorded = summaries.Count > 0 ? Account.Record(summaries.Values.ToList()) : Task.CompletedTask;
        await JournalStream.WhenDurableAsync(settled);
        // The incidents answered once they had appended their changes: those are durable with this flush (and flushes
        // are durable in order), which this request waits for once rather than each incident for its own.
        if (incidentsFlush > 0) await JournalStream.WhenDurableAsync(journal.WhenFlushed(incidentsFlush));
        await recorded;
        foreach (var cause in lateCauses.DistinctBy(c => c.IncidentId)) await MergeExplainedAsync(cause, settings.Config);

        return receipts.Select((receipt, i) => receipt ?? new AlertReceipt
        {
            Fingerprint = alerts[i].Fingerprint,
            Outcome = AlertOutcome.Ignored,
        }).ToList();
    }

    /// <summary>
    /// Decides where each alert goes, service by service in dependency waves: a service sees the incidents its upstream
    /// services opened or joined in the same batch. Returns each route with the alert's index in <paramref name="alerts"/>.
    /// </summary>
    private List<(int Index, Route Route)> Plan(IReadOnlyList<NormalizedAlert> alerts, CorrelationSettings settings, bool replanning)
    {
        var config = settings.Config;
        var now = time.GetUtcNow();
        var suppression = Suppression(settings, now);
        var upstreams = Upstreams(config);
        _shared.Configure(config);
        alerts = _shared.Locate(alerts);
        _spans.Window = config.GroupWindow;
        // Relations look back a window from each alert's time; a released alert's time is its wait's end, before now.
        var since = alerts.Count == 0 ? now : alerts.Min(a => a.ReceivedAt) - config.GroupWindow;
        var signals = Signals(alerts, config, replanning);
        var byService = alerts.Select((alert, index) => (alert, index)).GroupBy(a => a.alert.Service, StringComparer.Ordinal).ToDictionary(g => g.Key, StringComparer.Ordinal);
        var routes = new List<(int, Route)>(alerts.Count);
        foreach (var wave in Topology.Waves(byService.Keys, upstreams))
            foreach (var service in wave)
            {
                var entries = byService[service].ToList();
                var upstream = upstreams.GetValueOrDefault(service) ?? [];
                var (planned, _) = _state.Service(service).Plan(
                    AccountId, service, entries.Select(e => e.alert).ToList(), config.GroupBy, () => Ids.NewIncidentId(now), replanning, suppression,
                    config.GroupWindow, UpstreamIncidents(upstream, config, since), signals, config.Flapping, config.SymptomSeverity, config.SymptomWait, _shared,
                    DownstreamIncidents(service, config, since));
                foreach (var route in planned)
                {
                    routes.Add((entries[route.Index].index, route));
                    // A replica lost with its machine is no failure of its service for topology to follow to its dependants.
                    if (route.Kind is RouteKind.Opened or RouteKind.Grouped && !route.OnDeadMachine) Spanned(route.IncidentId, route.Alert);
                }
            }
        return routes;
    }

    /// <summary>Each service's upstreams, worked out once per configuration rather than per batch.</summary>
    private IReadOnlyDictionary<string, IReadOnlyList<string>> Upstreams(AccountConfig config)
    {
        if (!ReferenceEquals(_upstreamsOf, config)) (_upstreamsOf, _upstreams) = (config, Topology.Upstreams(config.Services));
        return _upstreams!;
    }

    private AccountConfig? _upstreamsOf;
    private IReadOnlyDictionary<string, IReadOnlyList<string>>? _upstreams;
    private IReadOnlyDictionary<string, IReadOnlySet<string>>? _dependants;

    /// <summary>
    /// The open incidents that a dependant of <paramref name="service"/> opened, as their first span says: a failure of
    /// the service heard after its symptoms belongs with them. A dependant further away counts only when the incident
    /// also holds a failure of a direct one: its errors reach it through the services between, which fail too, and
    /// without them its incident is more likely its own failure (a bad rollout) than this one's cascade.
    /// </summary>
    private IReadOnlyList<UpstreamIncident> DownstreamIncidents(string service, AccountConfig config, DateTimeOffset since)
    {
        if (config.GroupWindow <= TimeSpan.Zero) return [];
        if (!ReferenceEquals(_dependantsOf, config)) (_dependantsOf, _dependants) = (config, Topology.Dependants(Upstreams(config)));
        if (_dependants!.GetValueOrDefault(service) is not { } dependants) return [];
        var opened = _spans.OpenedBy(dependants, config.SymptomSeverity, since);
        return opened.Where(symptom => DependsDirectly(symptom.Service) || ThroughFailingDependant(symptom.IncidentId)).ToList();

        bool DependsDirectly(string dependant) => Upstreams(config).GetValueOrDefault(dependant)?.Contains(service) == true;
        bool ThroughFailingDependant(string incidentId) =>
            _state.Spans.TryGetValue(incidentId, out var spans)
            && spans.Any(s => s.Since >= since && s.Severity <= config.SymptomSeverity && DependsDirectly(s.Service));
    }

    private AccountConfig? _dependantsOf;

    /// <summary>Inhibition and storm mode, from the whole batch: sources learned first, then which alerts they hold back.</summary>
    private AccountSignals Signals(IReadOnlyList<NormalizedAlert> alerts, AccountConfig config, bool replanning)
    {
        if (config.Inhibit.Count == 0 && config.StormPerMinute <= 0) return AccountSignals.None;
        var now = time.GetUtcNow();
        foreach (var alert in alerts) _state.Sources.Observe(alert, config.Inhibit);
        var inhibited = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.Inhibit.Count > 0)
            foreach (var alert in alerts.Where(a => a is { Action: AlertAction.Signal, Status: AlertStatus.Firing }))
                if (_state.Sources.InhibitedBy(alert, config.Inhibit, now) is { } reason) inhibited[alert.Fingerprint] = reason;
        var newAlerts = replanning ? 0 : alerts.Count(IsNew);
        bool IsNew(NormalizedAlert a) => a is { Action: AlertAction.Signal, Status: AlertStatus.Firing }
            && (!_state.Services.TryGetValue(a.Service, out var s) || !s.FiringAlerts.ContainsKey(a.Fingerprint) && !s.Suppressed.ContainsKey(a.Fingerprint));
        var storming = _storm.Observe(newAlerts, now, config.StormPerMinute, config.StormWindow);
        return new AccountSignals
        {
            Inhibited = inhibited,
            StormRate = storming ? _storm.Rate : null,
            StormWindow = config.StormWindow,
            InhibitionRecheck = config.InhibitionRecheck,
        };
    }

    /// <summary>The latest failure since <paramref name="since"/> of each service in <paramref name="upstream"/> in an open incident, as topology sees them.</summary>
    private IReadOnlyList<UpstreamIncident> UpstreamIncidents(IReadOnlyList<string> upstream, AccountConfig config, DateTimeOffset since) =>
        config.GroupWindow <= TimeSpan.Zero || upstream.Count == 0 ? [] : _spans.Spanning(upstream, config.SymptomSeverity, since);

    /// <summary>An alert joined an incident: the incident spans its service, at its most severe since the first alert that severe.</summary>
    private void Spanned(string incidentId, NormalizedAlert alert) => Spanned(incidentId, alert.Service, alert.ReceivedAt, alert.Severity);

    private void Spanned(string incidentId, string service, DateTimeOffset at, Severity severity)
    {
        if (!_state.Spans.TryGetValue(incidentId, out var spans)) _state.Spans[incidentId] = spans = [];
        var index = spans.FindIndex(s => s.Service == service);
        if (index < 0) spans.Add(new ServiceSpan(service, at, severity));
        else if (severity < spans[index].Severity) spans[index] = new ServiceSpan(service, at, severity);
        else return;
        _state.Spans.Touch(incidentId);
        if (index < 0) index = spans.Count - 1;
        _spans.Added(incidentId, spans[index], first: index == 0);
    }

    /// <summary>The incident is resolved: none of the account's services relates anything to it any more.</summary>
    private void Forget(string incidentId)
    {
        foreach (var service in _state.TouchAll()) service.Forget(incidentId);
        _state.Spans.Remove(incidentId);
        _shared.Forget(incidentId);
        _incidents.Remove(incidentId);
    }

    /// <summary>
    /// The open incidents' references, made once: a storm delivers to the same incidents batch after batch, and making a
    /// reference parses its id anew.
    /// </summary>
    private readonly Dictionary<string, IIncidentGrain> _incidents = new(StringComparer.Ordinal);
    private const int MaxIncidentReferences = 10_000;

    private IIncidentGrain Incident(string incidentId)
    {
        if (_incidents.TryGetValue(incidentId, out var incident)) return incident;
        if (_incidents.Count >= MaxIncidentReferences) _incidents.Clear();
        return _incidents[incidentId] = GrainFactory.GetGrain<IIncidentGrain>(incidentId);
    }

    private static SuppressionRules Suppression(CorrelationSettings settings, DateTimeOffset now) => new()
    {
        Silences = settings.Silences.Where(s => s.Until > now).ToList(),
        Maintenance = settings.Config.Maintenance,
        TimeZone = settings.Config.TimeZone,
    };

    private async Task<(List<(int Index, Route Route)> Routed, DeliveryResult Result)> DeliverAsync(List<(int Index, Route Route)> routes)
    {
        var first = routes[0].Route;
        var origin = first.Opens ?? new IncidentOrigin
        {
            AccountId = AccountId,
            Service = first.Alert.Service,
            ServiceDeclared = first.Alert.ServiceDeclared,
            GroupKey = GroupKey.Of(first.Alert.Labels, _settings?.Config.GroupBy ?? ["alertname"]),
        };
        var result = await Incident(first.IncidentId).Deliver(new AlertDelivery
        {
            Origin = origin,
            Alerts = routes.Select(r => r.Route.Alert).ToList(),
            Rules = routes.Select(r => r.Route.Rule).ToList(),
            Considered = routes.Any(r => r.Route.Considered is not null) ? routes.Select(r => r.Route.Considered).ToList() : [],
            Reopens = routes.Any(r => r.Route.Reopens) ? routes.Select(r => r.Route.Reopens).ToList() : [],
            Journal = journal.Instance,
        });
        return (routes, result);
    }

    /// <summary>
    /// Journals what changed since the last commit, with the earliest release of a held alert for the wake index; returns
    /// the task to wait on. Counters alone (a batch of repeats) wait up to <see cref="CountersSaveDelay"/> for the next
    /// entry rather than cost a sync to disk each, unless <paramref name="countersToo"/>. With nothing to journal it returns
    /// <paramref name="unchanged"/> (what the caller relies on), or else the stream's last entry.
    /// </summary>
    private Task Commit(bool countersToo = false, Task? unchanged = null)
    {
        var next = NextRelease;
        var touched = _state.Touched;
        var decided = next != _wakeJournaled || _state.Sources.Firing.HasChanges || _state.Spans.HasChanges || touched.Values.Any(s => s.HasDecisions);
        if (!decided && !countersToo)
        {
            if (touched.Values.Any(s => s.CountersChanged)) SaveCountersSoon();
            return unchanged ?? _stream.Durable;
        }
        if (!decided && !touched.Values.Any(s => s.CountersChanged)) return unchanged ?? _stream.Durable;
        Dictionary<string, CorrelatorChange>? services = null;
        foreach (var (name, service) in touched)
            if (service.TakeChange() is { } change) (services ??= new(StringComparer.Ordinal))[name] = change;
        _state.TakeTouched();
        var wake = next != _wakeJournaled ? new StreamWake(_stream.Name, AccountId, next) : null;
        _wakeJournaled = next;
        _countersSave?.Dispose();
        _countersSave = null;
        return _stream.Append(AccountId,
            _stream.Write(new AccountCorrelationChange { Services = services, Sources = _state.Sources.Firing.TakeChanges(), Spans = _state.Spans.TakeChanges() }),
            snapshot: () => _stream.Write(_state), wake: wake);
    }

    /// <summary>The longest counters wait for their entry when nothing else changed.</summary>
    public static readonly TimeSpan CountersSaveDelay = TimeSpan.FromSeconds(5);
    private IGrainTimer? _countersSave;

    private void SaveCountersSoon() => _countersSave ??= this.RegisterGrainTimer(() =>
    {
        _countersSave = null;
        _ = Commit(countersToo: true);
        return Task.CompletedTask;
    }, new GrainTimerCreationOptions { DueTime = CountersSaveDelay, Period = Timeout.InfiniteTimeSpan });

    private void Apply(AccountCorrelationChange change)
    {
        foreach (var (name, service) in change.Services ?? []) _state.Service(name).Apply(service);
        _state.Sources.Firing.Apply(change.Sources);
        _state.Spans.Apply(change.Spans);
    }

    private DateTimeOffset? NextRelease => _state.NextRelease();

    private static CorrelationCounters Totals(List<CorrelatorState> services)
    {
        var total = new CorrelationCounters();
        foreach (var service in services)
        {
            var c = service.Counters;
            total.Received += c.Received;
            total.Deduplicated += c.Deduplicated;
            total.Grouped += c.Grouped;
            total.IncidentsOpened += c.IncidentsOpened;
            total.Resolved += c.Resolved;
            total.Unmatched += c.Unmatched;
            total.FiringEvents += c.FiringEvents;
            total.Suppressed += c.Suppressed;
        }
        return total;
    }

    /// <summary>Held alerts whose silence, window or wait has ended and that still fire go through correlation again.</summary>
    private async Task ReleaseDueAsync()
    {
        _releaseDueAt = null;
        var now = time.GetUtcNow();
        var due = _state.TouchAll().SelectMany(s => s.ReleaseDue(now)).ToList();
        if (due.Count > 0 && await SettingsAsync() is { } settings) await CorrelateAsync(due, settings, alreadyCounted: true);
        else await JournalStream.WhenDurableAsync(Commit());
        ScheduleRelease();
    }

    /// <summary>Arms the timer for the earliest end of a suppression (the wake index holds it too, for after a deactivation).</summary>
    private void ScheduleRelease()
    {
        var next = NextRelease;
        if (next == _releaseDueAt) return;
        _releaseTimer?.Dispose();
        _releaseTimer = next is { } due
            ? this.RegisterGrainTimer(async () =>
            {
                try
                {
                    await ReleaseDueAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Account {AccountId} could not release its held alerts; the wake index brings them back", AccountId);
                }
            }, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.FromTicks(Math.Clamp((due - time.GetUtcNow()).Ticks, 0, MaxTimerWait.Ticks)),
                Period = Timeout.InfiniteTimeSpan,
            })
            : null;
        _releaseDueAt = next;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_countersSave is not null) _ = Commit(countersToo: true); // counters waiting for their entry go as the activation ends, and are waited for below
        try
        {
            await _stream.Durable.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Correlation of account {AccountId} deactivated before its last entry was durable", AccountId);
        }
    }
}
