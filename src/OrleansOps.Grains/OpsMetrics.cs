using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OrleansOps.Grains;

/// <summary>
/// The counters the grains keep as they work, on the <c>OrleansOps</c> meter, exported by the server on /metrics.
/// Each silo counts what it did; Prometheus sums the silos. Gauges of state (incidents, budgets) are the server's.
/// </summary>
public static class OpsMetrics
{
    public const string MeterName = "OrleansOps";

    public static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> AlertsReceived = Meter.CreateCounter<long>(
        "orleansops.alerts.received", "{event}", "Alert events received (firing, resolved, acknowledged), before dedup");
    private static readonly Counter<long> AlertsDeduplicated = Meter.CreateCounter<long>(
        "orleansops.alerts.deduplicated", "{event}", "Firing events for an alert already firing in its incident");
    private static readonly Counter<long> AlertsSuppressed = Meter.CreateCounter<long>(
        "orleansops.alerts.suppressed", "{event}", "Firing events held back by a silence, maintenance, inhibition, flapping or a symptom wait");
    private static readonly Counter<long> AlertsGrouped = Meter.CreateCounter<long>(
        "orleansops.alerts.grouped", "{event}", "Firing events that joined an open incident");
    private static readonly Counter<long> AlertsFiring = Meter.CreateCounter<long>(
        "orleansops.alerts.firing", "{event}", "Firing alert events (the denominator of noise reduction)");
    private static readonly Counter<long> IncidentsOpened = Meter.CreateCounter<long>(
        "orleansops.incidents.opened", "{incident}", "Incidents opened by correlation");
    private static readonly Counter<long> Notifications = Meter.CreateCounter<long>(
        "orleansops.notifications", "{notification}", "Notifications by channel and outcome (delivered or failed, after retries)");
    private static readonly Counter<long> TicketWrites = Meter.CreateCounter<long>(
        "orleansops.ticket.writes", "{write}", "Writes to ITSM tickets by system, kind (create, note, transition) and outcome (succeeded, failed, stuck)");

    /// <summary>What one correlation pass did, as the difference of the correlator's counters before and after it.</summary>
    public static void Correlated(string accountId, CorrelationCounters before, CorrelationCounters after)
    {
        var account = new KeyValuePair<string, object?>("account", accountId);
        Add(AlertsReceived, after.Received - before.Received, account);
        Add(AlertsDeduplicated, after.Deduplicated - before.Deduplicated, account);
        Add(AlertsSuppressed, after.Suppressed - before.Suppressed, account);
        Add(AlertsGrouped, after.Grouped - before.Grouped, account);
        Add(AlertsFiring, after.FiringEvents - before.FiringEvents, account);
        Add(IncidentsOpened, after.IncidentsOpened - before.IncidentsOpened, account);
    }

    public static void Notified(Notification notification, DeliveryReport report) =>
        Notifications.Add(1, new TagList
        {
            { "account", notification.AccountId },
            { "channel", notification.Channel.ToWire() },
            { "outcome", report.Delivered ? "delivered" : "failed" },
        });

    public static void TicketWrite(string accountId, TicketOutcome outcome) =>
        TicketWrites.Add(1, new TagList
        {
            { "account", accountId },
            { "system", outcome.System == TicketSystem.Jira ? "jira" : "servicenow" },
            { "kind", outcome.Kind.ToString().ToLowerInvariant() },
            { "outcome", outcome.Succeeded ? "succeeded" : outcome.Retryable ? "failed" : "stuck" },
        });

    private static void Add(Counter<long> counter, long delta, KeyValuePair<string, object?> tag)
    {
        if (delta > 0) counter.Add(delta, tag);
    }
}
