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
    /// <summary>How to route alerts sent with the key whose SHA-256 is given; null when the account does not (or no longer) hold that key.</summary>
    Task<Routing?> GetRouting(string keySha256);
    /// <summary>
    /// Records an incident's lifecycle events idempotently (by sequence) and its current summary for the index;
    /// returns the highest sequence the account holds for that incident. Interleaves, so that the reports of
    /// many incidents share one write.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<long> Record(IncidentSummary current, IReadOnlyList<IncidentLifecycleEvent> events);
    Task<IncidentPage> ListIncidents(IncidentStatusFilter filter, string? cursor, int limit);
    Task<IReadOnlyList<IncidentLifecycleEvent>> GetLifecycle();
    /// <summary>Stores a silence (already validated); null when the account does not exist.</summary>
    Task<Silence?> AddSilence(Silence silence);
    /// <summary>Silences that are pending, active, or expired within the last week, newest first.</summary>
    Task<IReadOnlyList<Silence>> ListSilences();
    /// <summary>Ends a silence now; null when there is no such silence. Held alerts it covered are evaluated again.</summary>
    Task<Silence?> ExpireSilence(string silenceId, string actor);
    /// <summary>The open incidents of <paramref name="services"/>, for topology.</summary>
    Task<IReadOnlyList<UpstreamIncident>> OpenIncidents(IReadOnlyList<string> services);
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

/// <summary>Keyed by <see cref="GrainKeys.Correlator"/>: dedup and grouping for one account and service.</summary>
public interface ICorrelatorGrain : IGrainWithStringKey
{
    Task<IReadOnlyList<AlertReceipt>> Ingest(CorrelationBatch batch);
    Task<CorrelationCounters> GetCounters();
    /// <summary>Firing alerts held back by a silence or maintenance window, oldest first.</summary>
    Task<IReadOnlyList<SuppressedAlert>> ListSuppressed();

    /// <summary>
    /// A reopened incident claims its group and its still-firing alerts again. One-way: the incident never
    /// waits on its correlator, which may itself be waiting on the incident.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task Adopt(string incidentId, string groupKey, IReadOnlyList<string> firingFingerprints);

    /// <summary>
    /// The account's suppression rules changed (a silence was expired): held alerts are evaluated again now under
    /// <paramref name="rules"/>. One-way, so the account never waits on a correlator.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    Task Reconsider(SuppressionRules rules);
}

/// <summary>Keyed by incident id.</summary>
public interface IIncidentGrain : IGrainWithStringKey
{
    Task<DeliveryResult> Deliver(AlertDelivery delivery);
    Task<IncidentView?> Describe();
    Task<IReadOnlyList<ChronicleEntry>?> GetChronicle();
    Task<ChronicleVerification?> VerifyChronicle();
    Task<CommandResult> Acknowledge(string actor);
    Task<CommandResult> Resolve(string actor, string? note);
    Task<CommandResult> Reopen(string actor, string? reason);
    Task<CommandResult> AddNote(string actor, string text);
    /// <summary>Pages the next level of the escalation policy now.</summary>
    Task<CommandResult> Escalate(string actor);
    /// <summary>Hands the incident to a user, schedule, team or channel and pages it now.</summary>
    Task<CommandResult> Reassign(string actor, EscalationTarget target);
    /// <summary>Records a past incident (backfill); false when it was imported before.</summary>
    Task<bool> Import(ImportedIncident past);
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
    /// <summary>Sends the account the incident's summary and unconfirmed events again (its index may have lost them).</summary>
    [Orleans.Concurrency.OneWay]
    Task ReportToAccount();
    /// <summary>The account has written the incident's lifecycle events up to <paramref name="seq"/>.</summary>
    [Orleans.Concurrency.OneWay]
    Task Held(long seq);
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

public static class GrainKeys
{
    public const string Directory = "directory";
    public const string Fleet = "fleet";
    public const string Tokens = "tokens";

    /// <summary>"key-" and the key's SHA-256: never all digits, and the key itself never becomes an identifier.</summary>
    public static string IntegrationKey(string keySha256) => "key-" + keySha256;

    public static string Correlator(string accountId, string service) => accountId + "/" + service;
}

/// <summary>
/// Keyed by account id: the account-wide view correlators share — the firing sources of its inhibition rules and its
/// rate of new alerts (storm mode). Only accounts with inhibition rules or a storm threshold use it.
/// </summary>
public interface IAccountSignalsGrain : IGrainWithStringKey
{
    /// <summary>Learns the sources among <paramref name="alerts"/> and counts <paramref name="newAlerts"/>; answers which alerts are inhibited and whether a storm is on.</summary>
    Task<AccountSignals> Observe(IReadOnlyList<InhibitionRule> rules, int stormPerMinute, IReadOnlyList<NormalizedAlert> alerts, int newAlerts);
}
