namespace OrleansOps.Abstractions;

// The shapes readers get, over HTTP and from opsctl --json alike.

public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);

public sealed record IncidentResponse(
    string Id, string Account, string Service, bool ServiceDeclared, string Title, Severity Severity, IncidentStatus Status,
    DateTimeOffset OpenedAt, DateTimeOffset StartedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt, string? ResolvedBy, string GroupKey, int ChronicleEntries, IReadOnlyList<IncidentAlert> Alerts,
    EscalationView Escalation, IReadOnlyList<NotificationOutcome> Notifications, int PendingNotifications, IReadOnlyList<TicketView> Tickets)
{
    public static IncidentResponse Of(IncidentView view) => new(
        view.Summary.Id, view.Summary.AccountId, view.Summary.Service, view.Summary.ServiceDeclared, view.Summary.Title,
        view.Summary.Severity, view.Summary.Status, view.Summary.OpenedAt, view.Summary.StartedAt,
        view.Summary.AcknowledgedAt, view.AcknowledgedBy, view.Summary.ResolvedAt, view.ResolvedBy, view.GroupKey,
        view.ChronicleEntries, view.Alerts, view.Escalation, view.Notifications, view.PendingNotifications, view.Tickets);
}

public sealed record IncidentListItem(
    string Id, string Account, string Service, bool ServiceDeclared, string Title, Severity Severity, IncidentStatus Status,
    DateTimeOffset OpenedAt, DateTimeOffset StartedAt, DateTimeOffset? AcknowledgedAt, DateTimeOffset? ResolvedAt,
    int AlertCount, int FiringAlertCount)
{
    public static IncidentListItem Of(IncidentSummary s) => new(
        s.Id, s.AccountId, s.Service, s.ServiceDeclared, s.Title, s.Severity, s.Status, s.OpenedAt, s.StartedAt,
        s.AcknowledgedAt, s.ResolvedAt, s.AlertCount, s.FiringAlertCount);
}
