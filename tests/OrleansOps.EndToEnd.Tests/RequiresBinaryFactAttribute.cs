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

/// <inheritdoc cref="RequiresAlertmanagerFactAttribute"/>
public sealed class RequiresPrometheusFactAttribute : FactAttribute
{
    public RequiresPrometheusFactAttribute()
    {
        if (PrometheusProcess.Binary is null)
            Skip = "prometheus is not installed (apt-get install prometheus); .ci/run installs it.";
    }
}

/// <inheritdoc cref="RequiresAlertmanagerFactAttribute"/>
public sealed class RequiresChromiumFactAttribute : FactAttribute
{
    public RequiresChromiumFactAttribute()
    {
        if (ChromiumBrowser.Binary is null)
            Skip = "chromium is not installed (apt-get install chromium); .ci/run installs it.";
    }
}
