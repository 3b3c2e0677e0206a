namespace OrleansOps.Configuration;

/// <summary>Ticket sync settings as people write them: <c>itsm: {serviceNow: {…}, jira: {…}, inboundSecretRef: …}</c>.</summary>
public sealed partial class AccountConfigDocument
{
    public ItsmDocument? Itsm { get; set; }

    public sealed class ItsmDocument
    {
        public ServiceNowDocument? ServiceNow { get; set; }
        public JiraDocument? Jira { get; set; }
        public string? InboundSecretRef { get; set; }
    }

    /// <summary><c>{instanceUrl, usernameRef, passwordRef, assignmentGroup, urgency: {sev1: 1}, impact: {sev1: 1}}</c>.</summary>
    public sealed class ServiceNowDocument
    {
        public string? InstanceUrl { get; set; }
        public string? UsernameRef { get; set; }
        public string? PasswordRef { get; set; }
        public string? AssignmentGroup { get; set; }
        public Dictionary<string, int>? Urgency { get; set; }
        public Dictionary<string, int>? Impact { get; set; }
    }

    /// <summary><c>{siteUrl, emailRef, apiTokenRef, projectKey, issueType, priority: {sev1: Highest}, acknowledgedTransition, resolvedTransition}</c>.</summary>
    public sealed class JiraDocument
    {
        public string? SiteUrl { get; set; }
        public string? EmailRef { get; set; }
        public string? ApiTokenRef { get; set; }
        public string? ProjectKey { get; set; }
        public string? IssueType { get; set; }
        public Dictionary<string, string>? Priority { get; set; }
        public string? AcknowledgedTransition { get; set; }
        public string? ResolvedTransition { get; set; }
    }

    private ItsmSettings ItsmToDomain(List<string> errors)
    {
        if (Itsm is not { } itsm) return ItsmSettings.None;
        return new ItsmSettings
        {
            ServiceNow = itsm.ServiceNow is not { } sn ? null : new ServiceNowSettings
            {
                InstanceUrl = sn.InstanceUrl ?? "",
                UsernameRef = sn.UsernameRef ?? "",
                PasswordRef = sn.PasswordRef ?? "",
                AssignmentGroup = sn.AssignmentGroup,
                Urgency = BySeverity(sn.Urgency, ServiceNowSettings.DefaultUrgency, "itsm.serviceNow.urgency", errors),
                Impact = BySeverity(sn.Impact, ServiceNowSettings.DefaultImpact, "itsm.serviceNow.impact", errors),
            },
            Jira = itsm.Jira is not { } jira ? null : new JiraSettings
            {
                SiteUrl = jira.SiteUrl ?? "",
                EmailRef = jira.EmailRef ?? "",
                ApiTokenRef = jira.ApiTokenRef ?? "",
                ProjectKey = jira.ProjectKey ?? "",
                IssueType = jira.IssueType ?? "Incident",
                Priority = BySeverity(jira.Priority, JiraSettings.DefaultPriority, "itsm.jira.priority", errors),
                AcknowledgedTransition = jira.AcknowledgedTransition,
                ResolvedTransition = jira.ResolvedTransition,
            },
            InboundSecretRef = itsm.InboundSecretRef,
        };
    }

    /// <summary>Values given override the defaults severity by severity.</summary>
    private static IReadOnlyDictionary<Severity, T> BySeverity<T>(Dictionary<string, T>? given, IReadOnlyDictionary<Severity, T> defaults, string path, List<string> errors)
    {
        if (given is null) return defaults;
        var values = new Dictionary<Severity, T>(defaults);
        foreach (var (word, value) in given)
        {
            if (SeverityMapping.TryParseWire(word, out var severity)) values[severity] = value;
            else errors.Add($"{path}.{word}: not a severity (sev1, sev2, sev3, sev4)");
        }
        return values;
    }

    private AccountConfigDocument WithItsm(ItsmSettings itsm)
    {
        if (!itsm.Any && itsm.InboundSecretRef is null) return this;
        Itsm = new ItsmDocument
        {
            ServiceNow = itsm.ServiceNow is not { } sn ? null : new ServiceNowDocument
            {
                InstanceUrl = sn.InstanceUrl,
                UsernameRef = sn.UsernameRef,
                PasswordRef = sn.PasswordRef,
                AssignmentGroup = sn.AssignmentGroup,
                Urgency = sn.Urgency.OrderBy(p => p.Key).ToDictionary(p => p.Key.ToWire(), p => p.Value),
                Impact = sn.Impact.OrderBy(p => p.Key).ToDictionary(p => p.Key.ToWire(), p => p.Value),
            },
            Jira = itsm.Jira is not { } jira ? null : new JiraDocument
            {
                SiteUrl = jira.SiteUrl,
                EmailRef = jira.EmailRef,
                ApiTokenRef = jira.ApiTokenRef,
                ProjectKey = jira.ProjectKey,
                IssueType = jira.IssueType,
                Priority = jira.Priority.OrderBy(p => p.Key).ToDictionary(p => p.Key.ToWire(), p => p.Value),
                AcknowledgedTransition = jira.AcknowledgedTransition,
                ResolvedTransition = jira.ResolvedTransition,
            },
            InboundSecretRef = itsm.InboundSecretRef,
        };
        return this;
    }
}
