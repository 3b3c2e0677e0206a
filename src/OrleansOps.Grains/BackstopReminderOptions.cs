namespace OrleansOps.Grains;

/// <summary>
/// Reminders that bring a grain back when its precise grain timer was lost (deactivation, or a dead silo): an
/// incident's alert expiry, a correlator's end of suppression.
/// </summary>
public sealed class BackstopReminderOptions
{
    /// <summary>Orleans' minimum reminder period is one minute unless a host lowers it.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromMinutes(1);
}
