namespace OrleansOps.Domain;

[GenerateSerializer]
public enum TicketSystem
{
    ServiceNow = 0,
    Jira = 1,
}

/// <summary>
/// A ServiceNow instance: incidents are created in its Table API with <c>correlation_id</c> = our incident id.
/// Credentials are named by the configuration keys that hold them, never written here.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ServiceNowSettings
{
    /// <summary>e.g. <c>https://acme.service-now.com</c>.</summary>
    [Id(0)] public required string InstanceUrl { get; init; }
    [Id(1)] public required string UsernameRef { get; init; }
    [Id(2)] public required string PasswordRef { get; init; }
    /// <summary>The sys_id of the assignment group new incidents go to; none: ServiceNow's default.</summary>
    [Id(3)] public string? AssignmentGroup { get; init; }
    /// <summary>Severity → urgency and impact (1 High, 2 Medium, 3 Low); defaults sev1 1/1, sev2 2/2, sev3 3/2, sev4 3/3.</summary>
    [Id(4)] public IReadOnlyDictionary<Severity, int> Urgency { get; init; } = DefaultUrgency;
    [Id(5)] public IReadOnlyDictionary<Severity, int> Impact { get; init; } = DefaultImpact;

    public static readonly IReadOnlyDictionary<Severity, int> DefaultUrgency = new Dictionary<Severity, int>
    {
        [Severity.Sev1] = 1, [Severity.Sev2] = 2, [Severity.Sev3] = 3, [Severity.Sev4] = 3,
    };

    public static readonly IReadOnlyDictionary<Severity, int> DefaultImpact = new Dictionary<Severity, int>
    {
        [Severity.Sev1] = 1, [Severity.Sev2] = 2, [Severity.Sev3] = 2, [Severity.Sev4] = 3,
    };
}

/// <summary>A Jira Cloud site: issues are created in <see cref="ProjectKey"/> with the label <c>orleansops-&lt;incident id&gt;</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record JiraSettings
{
    /// <summary>e.g. <c>https://acme.atlassian.net</c>.</summary>
    [Id(0)] public required string SiteUrl { get; init; }
    /// <summary>The configuration key holding the account email of the API token (basic auth user).</summary>
    [Id(1)] public required string EmailRef { get; init; }
    [Id(2)] public required string ApiTokenRef { get; init; }
    [Id(3)] public required string ProjectKey { get; init; }
    [Id(4)] public string IssueType { get; init; } = "Incident";
    /// <summary>Severity → Jira priority name; defaults Highest, High, Medium, Low.</summary>
    [Id(5)] public IReadOnlyDictionary<Severity, string> Priority { get; init; } = DefaultPriority;
    /// <summary>The transition ids that move an issue to acknowledged (in progress) and to resolved (done).</summary>
    [Id(6)] public string? AcknowledgedTransition { get; init; }
    [Id(7)] public string? ResolvedTransition { get; init; }

    public static readonly IReadOnlyDictionary<Severity, string> DefaultPriority = new Dictionary<Severity, string>
    {
        [Severity.Sev1] = "Highest", [Severity.Sev2] = "High", [Severity.Sev3] = "Medium", [Severity.Sev4] = "Low",
    };
}

/// <summary>The account's ticketing: ServiceNow and/or Jira, and the shared secret inbound webhooks must carry.</summary>
[GenerateSerializer, Immutable]
public sealed record ItsmSettings
{
    public static readonly ItsmSettings None = new();

    [Id(0)] public ServiceNowSettings? ServiceNow { get; init; }
    [Id(1)] public JiraSettings? Jira { get; init; }
    /// <summary>The configuration key holding the secret that inbound ServiceNow and Jira webhooks are signed or authenticated with.</summary>
    [Id(2)] public string? InboundSecretRef { get; init; }

    public bool Any => ServiceNow is not null || Jira is not null;

    public IEnumerable<string> Problems()
    {
        if (ServiceNow is { } sn)
        {
            if (!IsHttps(sn.InstanceUrl)) yield return $"itsm.serviceNow.instanceUrl: '{sn.InstanceUrl}' is not an http(s) URL";
            if (string.IsNullOrWhiteSpace(sn.UsernameRef) || string.IsNullOrWhiteSpace(sn.PasswordRef))
                yield return "itsm.serviceNow: usernameRef and passwordRef name the configuration keys of the credentials";
            foreach (var (severity, value) in sn.Urgency.Concat(sn.Impact).Where(p => p.Value is < 1 or > 3))
                yield return $"itsm.serviceNow: urgency and impact are 1, 2 or 3 ({severity.ToWire()}: {value})";
        }
        if (Jira is { } jira)
        {
            if (!IsHttps(jira.SiteUrl)) yield return $"itsm.jira.siteUrl: '{jira.SiteUrl}' is not an http(s) URL";
            if (string.IsNullOrWhiteSpace(jira.EmailRef) || string.IsNullOrWhiteSpace(jira.ApiTokenRef))
                yield return "itsm.jira: emailRef and apiTokenRef name the configuration keys of the credentials";
            if (string.IsNullOrWhiteSpace(jira.ProjectKey) || !jira.ProjectKey.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_'))
                yield return $"itsm.jira.projectKey: '{jira.ProjectKey}' is not a project key (upper-case letters and digits)";
        }
        if (Any && string.IsNullOrWhiteSpace(InboundSecretRef))
            yield return "itsm.inboundSecretRef: name the configuration key of the secret inbound webhooks carry";
    }

    private static bool IsHttps(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.PathAndQuery == "/";
}
