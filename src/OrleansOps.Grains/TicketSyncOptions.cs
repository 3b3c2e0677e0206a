namespace OrleansOps.Grains;

/// <summary>How incidents keep their tickets (configuration section <c>OrleansOps:Itsm</c>).</summary>
public sealed class TicketSyncOptions
{
    public const string Section = "OrleansOps:Itsm";

    /// <summary>
    /// How long Jira's search may take to list an issue just created. A creation whose answer was lost (a timeout, a
    /// 5xx, a restart) is looked for only after this, so that an issue it did make is found rather than made twice.
    /// </summary>
    public TimeSpan JiraSearchLag { get; set; } = TimeSpan.FromSeconds(60);
}
