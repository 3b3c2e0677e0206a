using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OrleansOps.Domain;

[GenerateSerializer, Immutable]
public sealed record ServiceDefinition
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public string? Name { get; init; }
    /// <summary>Nodes the service runs on, for per-node uptime commitments.</summary>
    [Id(2)] public IReadOnlyList<string> Nodes { get; init; } = [];
    /// <summary>Upstream services this one depends on (topology for correlation).</summary>
    [Id(3)] public IReadOnlyList<string> DependsOn { get; init; } = [];
    /// <summary>The escalation policy its incidents follow; none: the account's default policy.</summary>
    [Id(4)] public string? EscalationPolicy { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record AvailabilitySlo
{
    [Id(0)] public required string Name { get; init; }
    /// <summary>Target in percent, e.g. 99.95.</summary>
    [Id(1)] public required double Target { get; init; }
    /// <summary>A rolling window such as <c>30d</c>, or <c>calendar-month</c>.</summary>
    [Id(2)] public string Window { get; init; } = "30d";
    [Id(3)] public IReadOnlyList<string> Services { get; init; } = [];
    /// <summary>When set, uptime is committed per node (each node is its own scope).</summary>
    [Id(4)] public IReadOnlyList<string> Nodes { get; init; } = [];
    /// <summary>How much of an outage an incident of each severity is: 1 a full outage, 0.5 degraded, 0 none.</summary>
    [Id(5)] public IReadOnlyDictionary<Severity, double> Weights { get; init; } = DefaultWeights;
    /// <summary>Whether time inside the account's maintenance windows is excluded from downtime.</summary>
    [Id(6)] public bool ExcludeMaintenance { get; init; } = true;
    /// <summary>Service credits owed when the period closes below a tier's SLI.</summary>
    [Id(7)] public IReadOnlyList<CreditTier> Credits { get; init; } = [];

    public static readonly IReadOnlyDictionary<Severity, double> DefaultWeights = new Dictionary<Severity, double>
    {
        [Severity.Sev1] = 1.0,
        [Severity.Sev2] = 0.5,
        [Severity.Sev3] = 0,
        [Severity.Sev4] = 0,
    };

    public double WeightOf(Severity severity) => Weights.TryGetValue(severity, out var weight) ? weight : 0;
}

/// <summary>An SLI below <see cref="Below"/> percent owes <see cref="Credit"/> percent of the period's fee.</summary>
[GenerateSerializer, Immutable]
public sealed record CreditTier([property: Id(0)] double Below, [property: Id(1)] double Credit);

[GenerateSerializer, Immutable]
public sealed record SlaContract
{
    [Id(0)] public IReadOnlyList<AvailabilitySlo> Availability { get; init; } = [];
    /// <summary>Time to acknowledge, per severity.</summary>
    [Id(1)] public IReadOnlyDictionary<Severity, TimeSpan> Response { get; init; } = new Dictionary<Severity, TimeSpan>();
    /// <summary>Time to resolve, per severity.</summary>
    [Id(2)] public IReadOnlyDictionary<Severity, TimeSpan> Resolution { get; init; } = new Dictionary<Severity, TimeSpan>();
    /// <summary>KPI targets are the SLA windows times this (0.5: a 4 h resolution SLA gives a 2 h MTTR target).</summary>
    [Id(3)] public double KpiBuffer { get; init; } = 0.5;
    /// <summary>Who hears of SLA trouble: a burn-rate episode, an SLO turning at-risk (drift included) or breached.</summary>
    [Id(4)] public IReadOnlyList<EscalationTarget> Notify { get; init; } = [];
    /// <summary>When set, the response and resolution clocks of its severities count business time only.</summary>
    [Id(5)] public BusinessHours? BusinessHours { get; init; }

    /// <summary>
    /// When a clock started at <paramref name="start"/> with <paramref name="limit"/> for <paramref name="severity"/> runs
    /// out (or reaches <paramref name="fraction"/> of it): in business time when the contract says so, else in elapsed time.
    /// </summary>
    public DateTimeOffset Deadline(Severity severity, DateTimeOffset start, TimeSpan limit, TimeZoneInfo zone, double fraction = 1) =>
        BusinessHours is { } hours && hours.AppliesTo(severity) ? hours.Add(start, limit * fraction, zone) : start + limit * fraction;

    /// <summary>How much of a clock's time passed between two instants: business time when the contract says so.</summary>
    public TimeSpan Elapsed(Severity severity, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) =>
        BusinessHours is { } hours && hours.AppliesTo(severity) ? hours.Between(from, to, zone) : to - from;
}

[GenerateSerializer, Immutable]
public sealed record IntegrationKeyDefinition
{
    [Id(0)] public required string Name { get; init; }
    /// <summary>SHA-256 of the key, lower-case hex. The key itself is never stored.</summary>
    [Id(1)] public required string KeySha256 { get; init; }
    [Id(2)] public string? DefaultService { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record AccountConfig
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public string Tier { get; init; } = "standard";
    [Id(3)] public string TimeZone { get; init; } = "UTC";
    [Id(4)] public IReadOnlyList<ServiceDefinition> Services { get; init; } = [];
    /// <summary>Labels whose values form an alert's group within its service.</summary>
    [Id(5)] public IReadOnlyList<string> GroupBy { get; init; } = ["alertname"];
    [Id(6)] public SlaContract Sla { get; init; } = new();
    [Id(7)] public IReadOnlyList<IntegrationKeyDefinition> IntegrationKeys { get; init; } = [];
    /// <summary>Maintenance windows: alerts they match are suppressed while one is open.</summary>
    [Id(8)] public IReadOnlyList<MaintenanceWindow> Maintenance { get; init; } = [];
    /// <summary>
    /// Time grouping and topology: a new alert joins an incident where a related alert of its service (same name, or
    /// same node) or an upstream service joined within this window. Zero (the default) groups by <see cref="GroupBy"/> only.
    /// </summary>
    [Id(9)] public TimeSpan GroupWindow { get; init; }
    [Id(10)] public IReadOnlyList<InhibitionRule> Inhibit { get; init; } = [];
    [Id(11)] public FlappingPolicy Flapping { get; init; } = FlappingPolicy.Off;
    /// <summary>New alerts per minute across the account above which grouping widens to service level; zero is off.</summary>
    [Id(12)] public int StormPerMinute { get; init; }
    /// <summary>The least severe alert that counts as a failure: topology carries failures, and weaker alerts only from a failing node.</summary>
    [Id(13)] public Severity SymptomSeverity { get; init; } = Severity.Sev4;
    /// <summary>How long an alert weaker than <see cref="SymptomSeverity"/> with no relation waits for one before it opens an incident; zero is off.</summary>
    [Id(14)] public TimeSpan SymptomWait { get; init; }
    /// <summary>Users, teams, schedules, escalation policies, channels and stakeholders.</summary>
    [Id(15)] public OnCallConfig OnCall { get; init; } = OnCallConfig.None;
    /// <summary>Ticket sync with ServiceNow and Jira.</summary>
    [Id(16)] public ItsmSettings Itsm { get; init; } = ItsmSettings.None;
    /// <summary>
    /// The labels that name an alert's service, in order: the first whose value is a declared service wins (an exporter's
    /// own <c>service</c> label, such as <c>kube-state-metrics</c>, is not one), else the first present.
    /// </summary>
    [Id(17)] public IReadOnlyList<string> ServiceLabels { get; init; } = DefaultServiceLabels;
    /// <summary>The labels that name the machine an alert is about, in order (see <see cref="NodeLabel"/>).</summary>
    [Id(18)] public IReadOnlyList<string> NodeLabels { get; init; } = NodeLabel.Names;
    /// <summary>Each zone's nodes: a failure of the zone relates what fires on them.</summary>
    [Id(19)] public IReadOnlyDictionary<string, IReadOnlyList<string>> Zones { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    /// <summary>The labels that name the zone an alert is about, in order; its node's zone otherwise.</summary>
    [Id(20)] public IReadOnlyList<string> ZoneLabels { get; init; } = DefaultZoneLabels;

    public static readonly IReadOnlyList<string> DefaultZoneLabels = ["zone", "topology_kubernetes_io_zone"];

    /// <summary>The span <see cref="StormPerMinute"/> counts new alerts over: a minute, or less in a time-compressed replay.</summary>
    [Id(21)] public TimeSpan StormWindow { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>How long an inhibited alert waits before it is checked again against the account's firing sources.</summary>
    [Id(22)] public TimeSpan InhibitionRecheck { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Whether a failure of a service takes its other failures within the window, whatever their names.</summary>
    [Id(23)] public bool SameServiceRelation { get; init; }
    /// <summary>
    /// The labels that name what runs on one node (a pod): an alert that names no node is on the node an alert naming the
    /// same pod and its node was last seen on.
    /// </summary>
    [Id(24)] public IReadOnlyList<string> PodLabels { get; init; } = DefaultPodLabels;

    public static readonly IReadOnlyList<string> DefaultPodLabels = ["pod"];

    /// <summary>The account's dead man's switches: what must check in, how often, and what its silence opens.</summary>
    [Id(25)] public IReadOnlyList<HeartbeatDefinition> Heartbeats { get; init; } = [];

    /// <summary>The heartbeat that an arrival of the always-firing alert <paramref name="alertName"/> pings, if any.</summary>
    public HeartbeatDefinition? HeartbeatPingedBy(string alertName) => Heartbeats.FirstOrDefault(h => h.Alert == alertName);

    public static readonly IReadOnlyList<string> DefaultServiceLabels = ["service"];

    /// <summary>Whether correlators need the account-wide view (inhibition sources, storm rate) for each batch.</summary>
    public bool NeedsAccountSignals => Inhibit.Count > 0 || StormPerMinute > 0;

    public bool Declares(string service) => Services.Any(s => s.Id == service);

    /// <summary>
    /// The escalation policy an incident of <paramref name="service"/> whose first alert has <paramref name="labels"/>
    /// follows, if any: the first matching route's, else the service's, else the account's default. Matchers see the
    /// service as the <c>service</c> label, as silences do.
    /// </summary>
    public EscalationPolicy? PolicyFor(string service, IReadOnlyDictionary<string, string> labels)
    {
        var withService = new Dictionary<string, string>(labels) { ["service"] = service };
        var id = OnCall.Routes.FirstOrDefault(r => r.Matchers.All(m => m.Matches(withService)))?.Policy
            ?? Services.FirstOrDefault(s => s.Id == service)?.EscalationPolicy
            ?? OnCall.DefaultPolicy;
        return OnCall.Policies.FirstOrDefault(p => p.Id == id);
    }

    public bool Knows(EscalationTarget target) => target.Kind switch
    {
        TargetKind.User => OnCall.Users.Any(u => u.Id == target.Id),
        TargetKind.Team => OnCall.Teams.Any(t => t.Id == target.Id),
        TargetKind.Schedule => OnCall.Schedules.Any(s => s.Id == target.Id),
        _ => OnCall.Channels.Any(c => c.Id == target.Id),
    };

    /// <summary>Every problem with this configuration, as "field: message"; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Ids.IsAccountId(Id))
            errors.Add($"id: '{Id}' is not an account id (a lower-case slug that starts with a letter, at most 63 characters)");
        if (string.IsNullOrWhiteSpace(Name)) errors.Add("name: required");
        if (TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _) is false)
            errors.Add($"timeZone: '{TimeZone}' is not a known IANA time zone");

        if (GroupWindow < TimeSpan.Zero || GroupWindow > TimeSpan.FromDays(1))
            errors.Add("correlation.window: must be between 0 (off) and 1d");
        for (var i = 0; i < Inhibit.Count; i++) errors.AddRange(Inhibit[i].Problems($"inhibit[{i}]"));
        if (Flapping.Toggles < 0 || Flapping.Window <= TimeSpan.Zero || Flapping.Quiet <= TimeSpan.Zero)
            errors.Add("correlation.flapping: toggles must be 0 (off) or more, window and quiet must be positive");
        if (StormPerMinute < 0) errors.Add("correlation.stormPerMinute: must be 0 (off) or more");
        if (StormWindow <= TimeSpan.Zero || StormWindow > TimeSpan.FromHours(1)) errors.Add("correlation.stormWindow: must be more than 0 and at most 1h");
        if (InhibitionRecheck <= TimeSpan.Zero || InhibitionRecheck > TimeSpan.FromHours(1)) errors.Add("correlation.inhibitionRecheck: must be more than 0 and at most 1h");
        if (SymptomWait < TimeSpan.Zero || SymptomWait > TimeSpan.FromHours(1))
            errors.Add("correlation.symptomWait: must be between 0 (off) and 1h");
        else if (SymptomWait > TimeSpan.Zero && (GroupWindow == TimeSpan.Zero || SymptomSeverity == Severity.Sev4))
            errors.Add("correlation.symptomWait: needs correlation.window and a symptomSeverity above sev4, or no alert would ever wait");
        var windowNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Maintenance.Count; i++)
        {
            errors.AddRange(Maintenance[i].Problems($"maintenance[{i}]", TimeZone));
            if (!string.IsNullOrWhiteSpace(Maintenance[i].Name) && !windowNames.Add(Maintenance[i].Name))
                errors.Add($"maintenance[{i}].name: '{Maintenance[i].Name}' is used twice");
        }

        var serviceIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Services.Count; i++)
        {
            var service = Services[i];
            if (string.IsNullOrWhiteSpace(service.Id)) errors.Add($"services[{i}].id: required");
            else if (!serviceIds.Add(service.Id)) errors.Add($"services[{i}].id: '{service.Id}' is declared twice");
        }
        for (var i = 0; i < Services.Count; i++)
        {
            foreach (var upstream in Services[i].DependsOn.Where(u => !serviceIds.Contains(u)))
                errors.Add($"services[{i}].dependsOn: '{upstream}' is not a declared service");
        }
        if (GroupBy.Any(string.IsNullOrWhiteSpace)) errors.Add("correlation.groupBy: label names cannot be empty");
        if (ServiceLabels.Count == 0 || ServiceLabels.Any(string.IsNullOrWhiteSpace)) errors.Add("serviceLabels: give at least one label name, none empty");
        if (NodeLabels.Count == 0 || NodeLabels.Any(string.IsNullOrWhiteSpace)) errors.Add("correlation.nodeLabels: give at least one label name, none empty");
        if (ZoneLabels.Any(string.IsNullOrWhiteSpace)) errors.Add("correlation.zoneLabels: label names cannot be empty");
        if (PodLabels.Any(string.IsNullOrWhiteSpace)) errors.Add("correlation.podLabels: label names cannot be empty");
        var zoneOfNode = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (zone, nodes) in Zones)
        {
            if (string.IsNullOrWhiteSpace(zone)) errors.Add("zones: a zone needs a name");
            foreach (var node in nodes)
                if (string.IsNullOrWhiteSpace(node)) errors.Add($"zones.{zone}: node names cannot be empty");
                else if (!zoneOfNode.TryAdd(node, zone) && zoneOfNode[node] != zone) errors.Add($"zones.{zone}: node '{node}' is already in zone '{zoneOfNode[node]}'");
        }
        errors.AddRange(OnCall.Problems(this));
        errors.AddRange(Itsm.Problems());
        for (var i = 0; i < Services.Count; i++)
        {
            if (Services[i].EscalationPolicy is { } policy && OnCall.Policies.All(p => p.Id != policy))
                errors.Add($"services[{i}].escalationPolicy: '{policy}' is not a declared escalation policy");
        }

        for (var i = 0; i < Sla.Availability.Count; i++)
        {
            var slo = Sla.Availability[i];
            if (string.IsNullOrWhiteSpace(slo.Name)) errors.Add($"sla.availability[{i}].name: required");
            if (!(slo.Target > 0 && slo.Target < 100))
                errors.Add($"sla.availability[{i}].target: {slo.Target.ToString(CultureInfo.InvariantCulture)} must be a percentage between 0 and 100 (exclusive)");
            if (slo.Window != "calendar-month" && !Durations.TryParse(slo.Window, out _))
                errors.Add($"sla.availability[{i}].window: '{slo.Window}' is neither a duration such as 30d nor calendar-month");
            foreach (var unknown in slo.Services.Where(s => !serviceIds.Contains(s)))
                errors.Add($"sla.availability[{i}].services: '{unknown}' is not a declared service");
            foreach (var (severity, weight) in slo.Weights.Where(w => !(w.Value is >= 0 and <= 1)))
                errors.Add($"sla.availability[{i}].weights.{severity.ToWire()}: {weight.ToString(CultureInfo.InvariantCulture)} must be between 0 (no impact) and 1 (a full outage)");
            for (var c = 0; c < slo.Credits.Count; c++)
            {
                if (!(slo.Credits[c].Below is > 0 and <= 100) || !(slo.Credits[c].Credit is >= 0 and <= 100))
                    errors.Add($"sla.availability[{i}].credits[{c}]: below and credit are percentages (0–100]");
            }
            if (Sla.Availability.Take(i).Any(other => other.Name == slo.Name))
                errors.Add($"sla.availability[{i}].name: '{slo.Name}' is used twice");
            // Response and resolution SLOs are named sev1-response…; per-node ones <name>:<node>.
            if (!string.IsNullOrWhiteSpace(slo.Name) && (slo.Name.Contains(':') || System.Text.RegularExpressions.Regex.IsMatch(slo.Name, "^sev[1-4]-(response|resolution)$")))
                errors.Add($"sla.availability[{i}].name: '{slo.Name}' is reserved (no ':' and not sevN-response or sevN-resolution)");
        }
        if (!(Sla.KpiBuffer is > 0 and <= 1)) errors.Add("sla.kpiBuffer: must be more than 0 and at most 1");
        if (Sla.BusinessHours is { } businessHours) errors.AddRange(businessHours.Problems("sla.businessHours"));
        foreach (var target in Sla.Notify.Where(t => !Knows(t)))
            errors.Add($"sla.notify: '{target}' is not a declared {target.Kind.ToString().ToLowerInvariant()}");
        foreach (var (severity, limit) in Sla.Response.Concat(Sla.Resolution))
        {
            if (limit <= TimeSpan.Zero) errors.Add($"sla: the {severity.ToWire()} deadline must be positive");
        }

        for (var i = 0; i < Heartbeats.Count; i++)
        {
            var heartbeat = Heartbeats[i];
            errors.AddRange(heartbeat.Problems($"heartbeats[{i}]"));
            if (Heartbeats.Take(i).Any(h => h.Name == heartbeat.Name)) errors.Add($"heartbeats[{i}].name: '{heartbeat.Name}' is used twice");
            if (heartbeat.Alert is { } alert && Heartbeats.Take(i).Any(h => h.Alert == alert))
                errors.Add($"heartbeats[{i}].alert: '{alert}' already pings another heartbeat");
        }

        var keyNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < IntegrationKeys.Count; i++)
        {
            var key = IntegrationKeys[i];
            if (string.IsNullOrWhiteSpace(key.Name)) errors.Add($"integrationKeys[{i}].name: required");
            else if (!keyNames.Add(key.Name)) errors.Add($"integrationKeys[{i}].name: '{key.Name}' is used twice");
            if (!IntegrationKey.IsHash(key.KeySha256)) errors.Add($"integrationKeys[{i}]: a key or its SHA-256 (64 hex digits) is required");
        }
        return errors;
    }
}

public static class IntegrationKey
{
    public const int MinimumLength = 12;

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool IsHash(string? text) =>
        text is { Length: 64 } && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}

/// <summary>Durations written as a number and a unit: 500ms, 90s, 30m, 2h, 30d, 1w (and combinations such as 1h30m), as Prometheus writes them.</summary>
public static class Durations
{
    /// <summary>Nothing an operator configures is longer than ten years.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var span = text.AsSpan().Trim();
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && char.IsAsciiDigit(span[digits])) digits++;
            if (digits == 0 || digits == span.Length || !long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
                return false;
            var millis = span[digits] == 'm' && digits + 1 < span.Length && span[digits + 1] == 's';
            var unit = millis ? TimeSpan.FromMilliseconds(1) : span[digits] switch
            {
                's' => TimeSpan.FromSeconds(1),
                'm' => TimeSpan.FromMinutes(1),
                'h' => TimeSpan.FromHours(1),
                'd' => TimeSpan.FromDays(1),
                'w' => TimeSpan.FromDays(7),
                _ => (TimeSpan?)null,
            };
            if (unit is null || amount > 100_000) return false;
            duration += unit.Value * amount;
            if (duration > MaxDuration) return false;
            span = span[(digits + (millis ? 2 : 1))..];
        }
        return duration > TimeSpan.Zero;
    }

    public static string Format(TimeSpan duration)
    {
        if (duration.TotalDays >= 1 && duration.Ticks % TimeSpan.TicksPerDay == 0) return $"{(long)duration.TotalDays}d";
        if (duration.Ticks % TimeSpan.TicksPerHour == 0) return $"{(long)duration.TotalHours}h";
        if (duration.Ticks % TimeSpan.TicksPerMinute == 0) return $"{(long)duration.TotalMinutes}m";
        if (duration.Ticks % TimeSpan.TicksPerSecond == 0) return $"{(long)duration.TotalSeconds}s";
        return $"{(long)duration.TotalMilliseconds}ms";
    }
}
