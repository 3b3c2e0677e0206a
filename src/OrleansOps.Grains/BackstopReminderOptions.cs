namespace OrleansOps.Grains;

/// <summary>
/// The back-stop that brings a grain back when its precise grain timer was lost (deactivation, or a dead silo): the wake
/// index's reminder, which wakes every incident and correlator whose journal says something is due.
/// </summary>
public sealed class BackstopReminderOptions
{
    /// <summary>Orleans' minimum reminder period is one minute unless a host lowers it.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromMinutes(1);
}
