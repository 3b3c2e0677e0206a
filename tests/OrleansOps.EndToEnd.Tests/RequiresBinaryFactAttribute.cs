namespace OrleansOps.EndToEnd.Tests;

/// <summary>A test that needs a program from a Debian package; it is skipped, with the reason, when the program is absent (CI installs it and fails on skips).</summary>
public sealed class RequiresAlertmanagerFactAttribute : FactAttribute
{
    public RequiresAlertmanagerFactAttribute()
    {
        if (AlertmanagerProcess.Binary is null)
            Skip = "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager); .ci/run installs it.";
    }
}
