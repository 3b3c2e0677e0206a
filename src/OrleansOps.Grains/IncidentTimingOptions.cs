namespace OrleansOps.Grains;

public sealed class IncidentTimingOptions
{
    /// <summary>
    /// How often the durable back-stop reminder checks for expired alerts when the precise grain timer was lost
    /// (deactivation, or a dead silo). Orleans' minimum reminder period is one minute unless a host lowers it.
    /// </summary>
    public TimeSpan ExpiryReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);
}
