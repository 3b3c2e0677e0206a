namespace OrleansOps.Abstractions;

/// <summary>Keyed by <see cref="GrainKeys.IntegrationKey"/>: which account an integration key belongs to.</summary>
public interface IIntegrationKeyGrain : IGrainWithStringKey
{
    Task<KeyBinding?> Resolve();
    Task Bind(KeyBinding binding);
    /// <summary>Removes the binding if it still belongs to <paramref name="accountId"/>.</summary>
    Task Unbind(string accountId);
}

/// <summary>Keyed by account id: configuration, the index of its incidents, and their lifecycle events.</summary>
public interface IAccountGrain : IGrainWithStringKey
{
    /// <summary>Validates and stores <paramref name="config"/> when <paramref name="precondition"/> (if any) holds; the check and the write are one turn.</summary>
    Task<ConfigResult> ApplyConfig(AccountConfig config, ConfigSource source, ConfigPrecondition? precondition = null);
    Task<AccountView?> Describe();
    Task<AccountConfig?> GetConfig();
    /// <summary>
    /// The account's configuration as correlation uses it, with its version and the silences that have not ended; null
    /// when the account does not exist. The correlator asks once per activation, then the account tells it of changes.
    /// </summary>
    Task<CorrelationSettings?> GetCorrelationSettings();
    /// <summary>
    /// Takes the incidents' new summaries into the index and the SLA ledger (copies of what is durable in each
    /// incident's journal; of two summaries of one incident the higher version wins).
    /// </summary>
    Task Record(IReadOnlyList<IncidentSummary> summaries);
    Task<IncidentPage> ListIncidents(IncidentStatusFilter filter, string? cursor, int limit);
    /// <summary>Stores a silence (already validated); null when the account does not exist.</summary>
    Task<Silence?> AddSilence(Silence silence);
    /// <summary>Silences that are pending, active, or expired within the last week, newest first.</summary>
    Task<IReadOnlyList<Silence>> ListSilences();
    /// <summary>Ends a silence now; null when there is no such silence. Held alerts it covered are evaluated again.</summary>
    Task<Silence?> ExpireSilence(string silenceId, string actor);
    /// <summary>The services alerts have been correlated under: declared ones and any seen undeclared.</summary>
    Task<IReadOnlyList<string>> Services();
    /// <summary>Every commitment evaluated now; null when the account does not exist.</summary>
    Task<SlaSnapshot?> GetSla();
    /// <summary>
    /// The commitments over one calendar month (<paramref name="period"/>, in the account's zone): every availability SLO
    /// as a calendar-month window, seen from the month's last instant, or from now while it runs; null without the account.
    /// </summary>
    Task<SlaSnapshot?> GetSlaForPeriod(TimeRange period);
    /// <summary>SLA status transitions and burn-rate episodes, oldest first.</summary>
    Task<IReadOnlyList<SlaEvent>> GetSlaEvents();
    /// <summary>Each incident's times, for KPIs.</summary>
    Task<IReadOnlyList<IncidentTimes>> GetIncidentTimes();
    /// <summary>The account's standing for the fleet index (rebuilt from the accounts when the index restarts).</summary>
    Task<FleetEntry?> FleetStanding();
    /// <summary>Its incidents by status, tickets that cannot be written and budget left, for /metrics; null without the account.</summary>
    Task<AccountGauges?> Gauges();
    /// <summary>Each availability commitment's budget burn-down over its current window, <paramref name="points"/> instants each; null without the account.</summary>
    Task<IReadOnlyList<BurnDownSeries>?> GetBurnDown(int points);
    /// <summary>Differs from the last answer whenever the account has changed since (incidents, configuration, silences, SLA events); for live views.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string> ChangeStamp();
}

/// <summary>Keyed by <see cref="GrainKeys.Fleet"/>: every account's SLA standing, ordered by risk.</summary>
public interface IFleetGrain : IGrainWithStringKey
{
    /// <summary>An account's standing changed (status, or whole minutes of budget left).</summary>
    Task Update(FleetEntry entry);
    /// <summary>
    /// The accounts most at risk first: breached, at-risk, then by the least budget left; the <paramref name="limit"/>
    /// entries that follow <paramref name="after"/> in that order (from the start when null), as a cursor would.
    /// </summary>
    Task<FleetPage> List(int limit, FleetEntry? after);
    /// <summary>Differs from the last answer whenever a standing has changed since; for live views.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string> ChangeStamp();
}

/// <summary>The one directory of accounts (key <see cref="GrainKeys.Directory"/>).</summary>
public interface IAccountDirectoryGrain : IGrainWithStringKey
{
    Task Register(string accountId);
    Task<IReadOnlyList<string>> List();
}

/// <summary>
/// Keyed by account id: suppression, dedup and grouping for every service of one account. It is the one grain an
/// ingest request calls: the services of a batch are correlated in dependency waves (upstream first) within it.
/// </summary>
public interface ICorrelatorGrain : IGrainWithStringKey
{
    /// <summary>Correlates a batch sent with an integration key and normalized under <see cref="IngestBatch.RoutingVersion"/>.</summary>
    Task<IngestResult> Ingest(IngestBatch batch);
    /// <summary>How alerts sent with the key whose SHA-256 is given are normalized; null when the account does not hold that key.</summary>
    Task<Routing?> GetRouting(string keySha256);
    /// <summary>The counters of each service alerts have been correlated under.</summary>
    Task<IReadOnlyList<ServiceCorrelation>> GetCounters();
    /// <summary>Firing alerts held back by a silence, maintenance window, inhibition, flapping or a symptom wait, oldest first.</summary>
    Task<IReadOnlyList<SuppressedAlert>> ListSuppressed();
    /// <summary>The account's configuration or silences changed: correlation follows them from now on, and held alerts a silence no longer covers go through it again.</summary>
    Task Configure(CorrelationSettings settings);

    /// <summary>
    /// A reopened incident claims its group and its still-firing alerts again. One-way: the incident never
    /// waits on its correlator, which may itself be waiting on the incident.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task Adopt(string incidentId, string service, string groupKey, IReadOnlyList<string> firingFingerprints);

    /// <summary>
    /// Merges <paramref name="absorbed"/> into <paramref name="survivor"/> (both of this account): the survivor takes its
    /// alerts, and what correlation would have sent to it goes to the survivor. Asked again, it completes a merge cut short.
    /// </summary>
    Task<CommandResult> Merge(string absorbed, string survivor, string actor, string reason);

    /// <summary>
    /// Splits alerts out of <paramref name="incidentId"/> into a new incident of their own: those named, or (with
    /// <paramref name="mergedFrom"/>) those that came with a merged incident. The result shows the new incident.
    /// </summary>
    Task<CommandResult> Split(string incidentId, IReadOnlyList<string> fingerprints, string? mergedFrom, string actor, string reason);

    /// <summary>
    /// Correlates alerts the account raises itself (a heartbeat missed, or its resolve), which no integration key sends;
    /// empty when the account has no configuration.
    /// </summary>
    Task<IReadOnlyList<AlertReceipt>> Raise(IReadOnlyList<NormalizedAlert> alerts);

    /// <summary>Held alerts may be due for release (the wake index found the correlator inactive).</summary>
    [Orleans.Concurrency.OneWay]
    Task Wake();
}

/// <summary>Keyed by incident id.</summary>
public interface IIncidentGrain : IGrainWithStringKey
{
    Task<DeliveryResult> Deliver(AlertDelivery delivery);
    Task<IncidentView?> Describe();
    /// <summary>The incident's alerts in the order they joined, <paramref name="limit"/> from <paramref name="offset"/>; null when there is no such incident.</summary>
    Task<IReadOnlyList<IncidentAlert>?> GetAlerts(int offset, int limit);
    /// <summary>Up to <paramref name="limit"/> chronicle entries after <paramref name="afterSeq"/>, oldest first; null when there is no such incident.</summary>
    Task<IReadOnlyList<ChronicleEntry>?> GetChronicle(long afterSeq, int limit);
    Task<ChronicleVerification?> VerifyChronicle();
    Task<CommandResult> Acknowledge(string actor);
    Task<CommandResult> Resolve(string actor, string? note);
    Task<CommandResult> Reopen(string actor, string? reason);
    Task<CommandResult> AddNote(string actor, string text);
    /// <summary>Corrects how the incident counts against its account's SLOs (null withdraws the correction in force); chronicled with the reason.</summary>
    Task<CommandResult> CorrectSla(string actor, string reason, SlaCorrection? correction);
    /// <summary>
    /// A note from the incident's ServiceNow ticket, unless that note is among its recent steps already (Unchanged): the
    /// business rule sends the ticket's latest work note with every update of the ticket.
    /// </summary>
    Task<CommandResult> AddTicketNote(string actor, string text);
    /// <summary>Pages the next level of the escalation policy now.</summary>
    Task<CommandResult> Escalate(string actor);
    /// <summary>Hands the incident to a user, schedule, team or channel and pages it now.</summary>
    Task<CommandResult> Reassign(string actor, EscalationTarget target);
    /// <summary>Records a past incident (backfill); false when it was imported before.</summary>
    Task<bool> Import(ImportedIncident past);
    /// <summary>Ends the incident as part of <paramref name="survivor"/> and hands over its alerts (see <see cref="ICorrelatorGrain.Merge"/>).</summary>
    Task<IncidentHandOver> MergeInto(string survivor, string actor, string reason);
    /// <summary>Takes the alerts of an incident merged into this one.</summary>
    Task<CommandResult> Absorb(string absorbed, IReadOnlyList<IncidentAlert> alerts, string actor, string reason);
    /// <summary>The alerts a split would take out, without taking them (a conflict says why none can go).</summary>
    Task<IncidentHandOver> AlertsToSplit(IReadOnlyList<string> fingerprints, string? mergedFrom);
    /// <summary>Lets alerts go that were split out into <paramref name="into"/>.</summary>
    Task<CommandResult> SplitOut(IReadOnlyList<string> fingerprints, string? mergedFrom, string into, string actor, string reason);
    /// <summary>Opens the incident with alerts split out of <paramref name="from"/>; Unchanged when it is open already.</summary>
    Task<CommandResult> OpenSplit(IncidentOrigin origin, IReadOnlyList<IncidentAlert> alerts, string from, string actor, string reason);
    /// <summary>The next ticket write per system, for the sync worker holding the lease; empty when in step (the lease ends).</summary>
    Task<TicketBatch> NextTicketWork(string holder);
    /// <summary>How a ticket write went.</summary>
    Task RecordTicketOutcome(TicketOutcome outcome);
    /// <summary>How a notification the incident handed to the notifier went.</summary>
    Task RecordDelivery(DeliveryReport report);
    /// <summary>Differs from the last answer whenever the incident has changed since (status, alerts, chronicle); for live views.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string> ChangeStamp();
    /// <summary>The account the incident belongs to; null when there is no such incident. For access checks.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string?> Owner();
    /// <summary>Something may be due (the wake index found the incident inactive): it acts on it now.</summary>
    [Orleans.Concurrency.OneWay]
    Task Wake();
}

/// <summary>Keyed by token id (<c>tok-…</c>): one API token, holding only its secrets' hashes.</summary>
public interface IAccessTokenGrain : IGrainWithStringKey
{
    /// <summary>Stores a new token; false when the id is taken.</summary>
    Task<bool> Issue(AccessToken token);
    /// <summary>The grant when the secret (SHA-256) is one of the token's working ones; null otherwise, also when revoked or expired.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<TokenGrant?> Admit(string secretSha256);
    [Orleans.Concurrency.ReadOnly]
    Task<AccessToken?> Describe();
    /// <summary>Adds a secret; the working ones retire after <paramref name="overlap"/>. Null when there is no such token or it no longer works.</summary>
    Task<AccessToken?> Rotate(string newSecretSha256, TimeSpan overlap);
    /// <summary>Stops the token now, all its secrets; null when there is no such token.</summary>
    Task<AccessToken?> Revoke(string actor);
}

/// <summary>The one list of API token ids (key <see cref="GrainKeys.Tokens"/>), for listing them.</summary>
public interface ITokenDirectoryGrain : IGrainWithStringKey
{
    Task Register(string tokenId);
    Task<IReadOnlyList<string>> List();
}

/// <summary>
/// Sends notifications for incidents and reports back to each incident. A stateless worker on the caller's silo, so
/// that slow receivers and retries never hold an incident's turn.
/// </summary>
public interface INotifierGrain : IGrainWithIntegerKey
{
    [Orleans.Concurrency.OneWay]
    Task Send(Notification notification);
}

/// <summary>
/// Keyed by <see cref="GrainKeys.Wakes"/>: wakes the incidents and correlators whose journal says something is due, a
/// back-stop for the grain timers lost with a deactivation or a silo.
/// </summary>
public interface IWakeIndexGrain : IGrainWithStringKey
{
    /// <summary>Registers the back-stop reminder (once per cluster start; idempotent) and wakes what is due now.</summary>
    Task Start();
}

/// <summary>Keyed by account id: the account's heartbeats, each missed when its allowance runs out without a ping.</summary>
public interface IHeartbeatGrain : IGrainWithStringKey
{
    /// <summary>A ping of the heartbeat <paramref name="name"/>: it is up again (its incident's alert resolves); null when the account has no such heartbeat.</summary>
    Task<HeartbeatView?> Ping(string name);
    /// <summary>Every configured heartbeat and where it stands, by name.</summary>
    Task<IReadOnlyList<HeartbeatView>> List();
    /// <summary>The account's configuration changed: new heartbeats start counting, dropped ones go (resolving their alert).</summary>
    Task Configure();
    /// <summary>A deadline may have passed (the wake index found the grain inactive).</summary>
    [Orleans.Concurrency.OneWay]
    Task Wake();
}

/// <summary>Keyed by <see cref="GrainKeys.ActionLink"/>: whether a one-click link of an e-mail page has been used (each works once).</summary>
public interface IActionLinkGrain : IGrainWithStringKey
{
    /// <summary>Uses the link now, durably, unless it was used before: null on this first use, else when it was used.</summary>
    Task<DateTimeOffset?> Use(string accountId);
    /// <summary>When the link was used; null while it has not been.</summary>
    Task<DateTimeOffset?> UsedAt();
}

public static class GrainKeys
{
    public const string Directory = "directory";
    public const string Wakes = "wakes";
    public const string Fleet = "fleet";
    public const string Tokens = "tokens";

    /// <summary>"key-" and the key's SHA-256: never all digits, and the key itself never becomes an identifier.</summary>
    public static string IntegrationKey(string keySha256) => "key-" + keySha256;

    /// <summary>"link-" and the link's nonce (Base64url): never all digits.</summary>
    public static string ActionLink(string nonce) => "link-" + nonce;
}

