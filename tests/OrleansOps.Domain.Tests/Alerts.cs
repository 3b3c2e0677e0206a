namespace OrleansOps.Domain.Tests;

internal static class Alerts
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    public static NormalizedAlert Firing(string name, Severity severity = Severity.Sev3, DateTimeOffset? startsAt = null, string? instance = null)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = name };
        if (instance is not null) labels["instance"] = instance;
        return new NormalizedAlert
        {
            Source = "test",
            Service = "api",
            Labels = labels,
            Severity = severity,
            Status = AlertStatus.Firing,
            StartsAt = startsAt ?? T0,
            Fingerprint = AlertFingerprint.Of(labels),
            ReceivedAt = T0,
        };
    }

    public static NormalizedAlert Resolved(this NormalizedAlert alert, DateTimeOffset endsAt) =>
        alert with { Status = AlertStatus.Resolved, EndsAt = endsAt };

    public static NormalizedAlert Acknowledging(this NormalizedAlert alert) => alert with { Action = AlertAction.Acknowledge };
}
