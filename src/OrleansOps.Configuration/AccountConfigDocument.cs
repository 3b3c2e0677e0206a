using System.Globalization;

namespace OrleansOps.Configuration;

/// <summary>
/// An account's configuration as people write it, in YAML files or as JSON over the admin API (same shape,
/// camelCase). Integration keys may be given in clear (<c>key</c>, hashed on load) or as <c>keySha256</c>.
/// </summary>
public sealed partial class AccountConfigDocument
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Tier { get; set; }
    public string? TimeZone { get; set; }
    public List<ServiceDocument>? Services { get; set; }
    public CorrelationDocument? Correlation { get; set; }
    public SlaDocument? Sla { get; set; }
    public List<IntegrationKeyDocument>? IntegrationKeys { get; set; }
    public List<MaintenanceDocument>? Maintenance { get; set; }
    public List<InhibitDocument>? Inhibit { get; set; }
    /// <summary>The labels that name an alert's service, in order, e.g. <c>[service, app_kubernetes_io_name, app, job]</c>; default <c>[service]</c>.</summary>
    public List<string>? ServiceLabels { get; set; }
    /// <summary>Each zone's nodes, e.g. <c>{zone-a: [worker-a-1, worker-a-2]}</c>: a zone's failure relates what fires on its nodes.</summary>
    public Dictionary<string, List<string>>? Zones { get; set; }
    /// <summary>Dead man's switches: what must check in, how often, and what its silence opens.</summary>
    public List<HeartbeatDocument>? Heartbeats { get; set; }

    /// <summary>
    /// A heartbeat: <c>interval</c> (required) and <c>grace</c> (default 1m) as durations, <c>severity</c> (default
    /// sev2), <c>service</c> (default: the heartbeat's name), and <c>alert</c>, an always-firing alert that pings it.
    /// </summary>
    public sealed class HeartbeatDocument
    {
        public string? Name { get; set; }
        public string? Interval { get; set; }
        public string? Grace { get; set; }
        public string? Severity { get; set; }
        public string? Service { get; set; }
        public string? Alert { get; set; }
    }

    /// <summary>
    /// A maintenance window: <c>start</c> and <c>end</c> (one-off), or <c>cron</c> or <c>rrule</c> with a
    /// <c>duration</c> (recurring, in <c>timeZone</c> or the account's); <c>matchers</c> like <c>service="ehr-api"</c>.
    /// </summary>
    public sealed class MaintenanceDocument
    {
        public string? Name { get; set; }
        public List<string>? Matchers { get; set; }
        public string? Start { get; set; }
        public string? End { get; set; }
        public string? Cron { get; set; }
        public string? Rrule { get; set; }
        public string? Duration { get; set; }
        public string? TimeZone { get; set; }
    }

    public sealed class ServiceDocument
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public List<string>? Nodes { get; set; }
        public List<string>? DependsOn { get; set; }
        /// <summary>The escalation policy its incidents follow; absent: <c>escalation.defaultPolicy</c>.</summary>
        public string? EscalationPolicy { get; set; }
    }

    public sealed class CorrelationDocument
    {
        public List<string>? GroupBy { get; set; }
        /// <summary>Time grouping and topology window, e.g. <c>5m</c>; absent or <c>0s</c> turns them off.</summary>
        public string? Window { get; set; }
        public FlappingDocument? Flapping { get; set; }
        /// <summary>New alerts per minute across the account above which grouping widens to the service.</summary>
        public int? StormPerMinute { get; set; }
        /// <summary>The least severe alert (sev1–sev4) topology attaches to an upstream incident; default sev4, every alert.</summary>
        public string? SymptomSeverity { get; set; }
        /// <summary>How long a weaker alert with nothing to relate to waits for a related failure, e.g. <c>30s</c>; default off.</summary>
        public string? SymptomWait { get; set; }
        /// <summary>The labels that name an alert's machine, in order; default <c>[node, instance, host]</c>.</summary>
        public List<string>? NodeLabels { get; set; }
        /// <summary>The labels that name an alert's zone, in order; default <c>[zone, topology_kubernetes_io_zone]</c>.</summary>
        public List<string>? ZoneLabels { get; set; }
        /// <summary>The labels that name what runs on one node, to place an alert naming no node; default <c>[pod]</c>.</summary>
        public List<string>? PodLabels { get; set; }
        /// <summary>The span <c>stormPerMinute</c> counts over; default <c>1m</c> (shorter only to replay recorded alerts faster than real time).</summary>
        public string? StormWindow { get; set; }
        /// <summary>How often an inhibited alert is checked again; default <c>1m</c>.</summary>
        public string? InhibitionRecheck { get; set; }
        /// <summary>Whether a failure of a service takes its other failures within the window, whatever their names; default false.</summary>
        public bool? SameService { get; set; }
    }

    public sealed class FlappingDocument
    {
        public int? Toggles { get; set; }
        public string? Window { get; set; }
        public string? Quiet { get; set; }
    }

    /// <summary>An inhibition rule: while a source alert fires, matching targets with equal labels are held back.</summary>
    public sealed class InhibitDocument
    {
        public string? Name { get; set; }
        public List<string>? Source { get; set; }
        public List<string>? Target { get; set; }
        public List<string>? Equal { get; set; }
    }

    public sealed class SlaDocument
    {
        public List<AvailabilityDocument>? Availability { get; set; }
        public Dictionary<string, string>? Response { get; set; }
        public Dictionary<string, string>? Resolution { get; set; }
        /// <summary>KPI targets as a fraction of the SLA windows (default 0.5).</summary>
        public double? KpiBuffer { get; set; }
        /// <summary>Who hears of SLA trouble, e.g. <c>["channel:ops-slack", "user:ana"]</c>.</summary>
        public List<string>? Notify { get; set; }
        /// <summary><c>{days: [monday, …, friday], from: "09:00", to: "17:00", severities: [sev3, sev4]}</c>: clocks of those severities count business time.</summary>
        public BusinessHoursDocument? BusinessHours { get; set; }
    }

    public sealed class BusinessHoursDocument
    {
        public List<string>? Days { get; set; }
        public string? From { get; set; }
        public string? To { get; set; }
        public List<string>? Severities { get; set; }
    }

    public sealed class AvailabilityDocument
    {
        public string? Name { get; set; }
        public double? Target { get; set; }
        public string? Window { get; set; }
        public List<string>? Services { get; set; }
        public List<string>? Nodes { get; set; }
        /// <summary>Impact weight per severity (0–1), e.g. <c>{sev1: 1.0, sev2: 0.5}</c>; absent: sev1 1, sev2 0.5, sev3 and sev4 0.</summary>
        public Dictionary<string, double>? Weights { get; set; }
        /// <summary>Whether maintenance windows are excluded from downtime (default true).</summary>
        public bool? ExcludeMaintenance { get; set; }
        /// <summary><c>[{below: 99.95, credit: 10}, {below: 99.0, credit: 25}]</c>: percent of the fee owed below each SLI.</summary>
        public List<CreditDocument>? Credits { get; set; }
    }

    public sealed class CreditDocument
    {
        public double? Below { get; set; }
        public double? Credit { get; set; }
    }

    public sealed class IntegrationKeyDocument
    {
        public string? Name { get; set; }
        public string? Key { get; set; }
        public string? KeySha256 { get; set; }
        public string? DefaultService { get; set; }
    }

    /// <summary>The domain configuration, or the list of problems ("field: message") that prevent it.</summary>
    public (AccountConfig? Config, List<string> Errors) ToDomain()
    {
        var errors = new List<string>();
        NoNullItems(Services, "services", errors);
        NoNullItems(IntegrationKeys, "integrationKeys", errors);
        NoNullItems(Sla?.Availability, "sla.availability", errors);
        NoNullItems(Correlation?.GroupBy, "correlation.groupBy", errors);
        NoNullItems(Correlation?.NodeLabels, "correlation.nodeLabels", errors);
        NoNullItems(ServiceLabels, "serviceLabels", errors);
        NoNullItems(Correlation?.ZoneLabels, "correlation.zoneLabels", errors);
        NoNullItems(Correlation?.PodLabels, "correlation.podLabels", errors);
        foreach (var (zone, nodes) in Zones ?? [])
        {
            if (nodes is null) errors.Add($"zones.{zone}: give the zone's nodes as a list");
            else NoNullItems(nodes, $"zones.{zone}", errors);
        }
        foreach (var (service, i) in (Services ?? []).Select((s, i) => (s, i)).Where(p => p.s is not null))
        {
            NoNullItems(service.Nodes, $"services[{i}].nodes", errors);
            NoNullItems(service.DependsOn, $"services[{i}].dependsOn", errors);
        }
        foreach (var (slo, i) in (Sla?.Availability ?? []).Select((s, i) => (s, i)).Where(p => p.s is not null))
        {
            NoNullItems(slo.Services, $"sla.availability[{i}].services", errors);
            NoNullItems(slo.Nodes, $"sla.availability[{i}].nodes", errors);
        }
        if (errors.Count > 0) return (null, errors);
        var sla = new SlaContract
        {
            Availability = (Sla?.Availability ?? []).Select((slo, i) =>
            {
                if (slo.Target is null) errors.Add($"sla.availability[{i}].target: required");
                return new AvailabilitySlo
                {
                    Name = slo.Name ?? "",
                    Target = slo.Target ?? 0,
                    Window = slo.Window ?? "30d",
                    Services = slo.Services ?? [],
                    Nodes = slo.Nodes ?? [],
                    Weights = Weights(slo.Weights, $"sla.availability[{i}].weights", errors),
                    ExcludeMaintenance = slo.ExcludeMaintenance ?? true,
                    Credits = (slo.Credits ?? []).Where(c => c is not null).Select((c, k) =>
                    {
                        if (c.Below is null || c.Credit is null) errors.Add($"sla.availability[{i}].credits[{k}]: below and credit are both required");
                        return new CreditTier(c.Below ?? 0, c.Credit ?? 0);
                    }).ToList(),
                };
            }).ToList(),
            Response = Deadlines(Sla?.Response, "sla.response", errors),
            Resolution = Deadlines(Sla?.Resolution, "sla.resolution", errors),
            KpiBuffer = Sla?.KpiBuffer ?? 0.5,
            Notify = Targets(Sla?.Notify, "sla.notify", errors),
            BusinessHours = Sla?.BusinessHours is { } hours ? BusinessHours(hours, errors) : null,
        };
        var keys = (IntegrationKeys ?? []).Select((key, i) =>
        {
            if (key.Key is not null && key.KeySha256 is not null)
                errors.Add($"integrationKeys[{i}]: give either key or keySha256, not both");
            if (key.Key is { Length: < IntegrationKey.MinimumLength })
                errors.Add($"integrationKeys[{i}].key: must be at least {IntegrationKey.MinimumLength} characters");
            return new IntegrationKeyDefinition
            {
                Name = key.Name ?? $"key-{i + 1}",
                KeySha256 = key.Key is { } clear ? IntegrationKey.Hash(clear) : key.KeySha256?.ToLowerInvariant() ?? "",
                DefaultService = key.DefaultService,
            };
        }).ToList();
        NoNullItems(Maintenance, "maintenance", errors);
        var maintenance = (Maintenance ?? []).Where(m => m is not null).Select((m, i) => MaintenanceWindow(m, $"maintenance[{i}]", errors)).ToList();
        NoNullItems(Heartbeats, "heartbeats", errors);
        var heartbeats = (Heartbeats ?? []).Where(h => h is not null).Select((h, i) => Heartbeat(h, $"heartbeats[{i}]", errors)).ToList();
        NoNullItems(Inhibit, "inhibit", errors);
        var inhibit = (Inhibit ?? []).Where(r => r is not null).Select((r, i) => new InhibitionRule
        {
            Name = r.Name ?? $"inhibit-{i + 1}",
            Source = Matchers(r.Source, $"inhibit[{i}].source", errors),
            Target = Matchers(r.Target, $"inhibit[{i}].target", errors),
            Equal = r.Equal ?? [],
        }).ToList();
        var flapping = Correlation?.Flapping is not { } flap ? FlappingPolicy.Off : new FlappingPolicy
        {
            Toggles = flap.Toggles ?? 0,
            Window = Duration(flap.Window, "correlation.flapping.window", errors) ?? FlappingPolicy.Off.Window,
            Quiet = Duration(flap.Quiet, "correlation.flapping.quiet", errors) ?? FlappingPolicy.Off.Quiet,
        };
        var config = new AccountConfig
        {
            Id = Id ?? "",
            Name = Name ?? Id ?? "",
            Tier = Tier ?? "standard",
            TimeZone = TimeZone ?? "UTC",
            Services = (Services ?? []).Select(s => new ServiceDefinition
            {
                Id = s.Id ?? "",
                Name = s.Name,
                Nodes = s.Nodes ?? [],
                DependsOn = s.DependsOn ?? [],
                EscalationPolicy = s.EscalationPolicy,
            }).ToList(),
            GroupBy = Correlation?.GroupBy ?? ["alertname"],
            GroupWindow = Duration(Correlation?.Window, "correlation.window", errors) ?? TimeSpan.Zero,
            Sla = sla,
            IntegrationKeys = keys,
            Maintenance = maintenance,
            Inhibit = inhibit,
            Flapping = flapping,
            StormPerMinute = Correlation?.StormPerMinute ?? 0,
            SymptomSeverity = SymptomSeverity(Correlation?.SymptomSeverity, errors),
            SymptomWait = Duration(Correlation?.SymptomWait, "correlation.symptomWait", errors) ?? TimeSpan.Zero,
            OnCall = OnCallToDomain(TimeZone ?? "UTC", errors),
            Itsm = ItsmToDomain(errors),
            ServiceLabels = ServiceLabels ?? AccountConfig.DefaultServiceLabels,
            NodeLabels = Correlation?.NodeLabels ?? NodeLabel.Names,
            ZoneLabels = Correlation?.ZoneLabels ?? AccountConfig.DefaultZoneLabels,
            PodLabels = Correlation?.PodLabels ?? AccountConfig.DefaultPodLabels,
            StormWindow = Duration(Correlation?.StormWindow, "correlation.stormWindow", errors) ?? TimeSpan.FromMinutes(1),
            InhibitionRecheck = Duration(Correlation?.InhibitionRecheck, "correlation.inhibitionRecheck", errors) ?? TimeSpan.FromMinutes(1),
            SameServiceRelation = Correlation?.SameService ?? false,
            Zones = (Zones ?? []).ToDictionary(z => z.Key, z => (IReadOnlyList<string>)z.Value, StringComparer.Ordinal),
            Heartbeats = heartbeats,
        };
        if (Id is null) errors.Add("id: required");
        errors.AddRange(config.Validate().Where(e => !(Id is null && e.StartsWith("id:", StringComparison.Ordinal))));
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            if (key.DefaultService is { } service && !config.Declares(service))
                errors.Add($"integrationKeys[{i}].defaultService: '{service}' is not a declared service");
        }
        return (errors.Count == 0 ? config : null, errors);
    }

    public static AccountConfigDocument FromDomain(AccountConfig config) => new AccountConfigDocument()
    {
        Id = config.Id,
        Name = config.Name,
        Tier = config.Tier,
        TimeZone = config.TimeZone,
        Services = config.Services.Select(s => new ServiceDocument
        {
            Id = s.Id,
            Name = s.Name,
            Nodes = s.Nodes.ToList(),
            DependsOn = s.DependsOn.ToList(),
            EscalationPolicy = s.EscalationPolicy,
        }).ToList(),
        Correlation = new CorrelationDocument
        {
            GroupBy = config.GroupBy.ToList(),
            Window = config.GroupWindow > TimeSpan.Zero ? Durations.Format(config.GroupWindow) : null,
            Flapping = config.Flapping.Toggles > 0
                ? new FlappingDocument { Toggles = config.Flapping.Toggles, Window = Durations.Format(config.Flapping.Window), Quiet = Durations.Format(config.Flapping.Quiet) }
                : null,
            StormPerMinute = config.StormPerMinute > 0 ? config.StormPerMinute : null,
            SymptomSeverity = config.SymptomSeverity != Severity.Sev4 ? config.SymptomSeverity.ToWire() : null,
            SymptomWait = config.SymptomWait > TimeSpan.Zero ? Durations.Format(config.SymptomWait) : null,
            NodeLabels = config.NodeLabels.SequenceEqual(NodeLabel.Names) ? null : config.NodeLabels.ToList(),
            ZoneLabels = config.ZoneLabels.SequenceEqual(AccountConfig.DefaultZoneLabels) ? null : config.ZoneLabels.ToList(),
            PodLabels = config.PodLabels.SequenceEqual(AccountConfig.DefaultPodLabels) ? null : config.PodLabels.ToList(),
            StormWindow = config.StormWindow != TimeSpan.FromMinutes(1) ? Durations.Format(config.StormWindow) : null,
            InhibitionRecheck = config.InhibitionRecheck != TimeSpan.FromMinutes(1) ? Durations.Format(config.InhibitionRecheck) : null,
            SameService = config.SameServiceRelation ? true : null,
        },
        Zones = config.Zones.Count == 0 ? null : config.Zones.ToDictionary(z => z.Key, z => z.Value.ToList()),
        ServiceLabels = config.ServiceLabels.SequenceEqual(AccountConfig.DefaultServiceLabels) ? null : config.ServiceLabels.ToList(),
        Inhibit = config.Inhibit.Select(r => new InhibitDocument
        {
            Name = r.Name,
            Source = r.Source.Select(m => m.ToString()).ToList(),
            Target = r.Target.Select(m => m.ToString()).ToList(),
            Equal = r.Equal.ToList(),
        }).ToList(),
        Sla = new SlaDocument
        {
            Availability = config.Sla.Availability.Select(slo => new AvailabilityDocument
            {
                Name = slo.Name,
                Target = slo.Target,
                Window = slo.Window,
                Services = slo.Services.ToList(),
                Nodes = slo.Nodes.ToList(),
                Weights = slo.Weights.OrderBy(w => w.Key).ToDictionary(w => w.Key.ToWire(), w => w.Value),
                ExcludeMaintenance = slo.ExcludeMaintenance ? null : false,
                Credits = slo.Credits.Count == 0 ? null : slo.Credits.Select(c => new CreditDocument { Below = c.Below, Credit = c.Credit }).ToList(),
            }).ToList(),
            Response = config.Sla.Response.ToDictionary(p => p.Key.ToWire(), p => Durations.Format(p.Value)),
            Resolution = config.Sla.Resolution.ToDictionary(p => p.Key.ToWire(), p => Durations.Format(p.Value)),
            KpiBuffer = config.Sla.KpiBuffer != 0.5 ? config.Sla.KpiBuffer : null,
            Notify = config.Sla.Notify.Count == 0 ? null : config.Sla.Notify.Select(t => t.ToString()).ToList(),
            BusinessHours = config.Sla.BusinessHours is not { } hours ? null : new BusinessHoursDocument
            {
                Days = hours.Days.Select(d => d.ToString().ToLowerInvariant()).ToList(),
                From = hours.From.ToString("HH:mm", CultureInfo.InvariantCulture),
                To = hours.To.ToString("HH:mm", CultureInfo.InvariantCulture),
                Severities = hours.Severities.Count == 0 ? null : hours.Severities.Select(v => v.ToWire()).ToList(),
            },
        },
        IntegrationKeys = config.IntegrationKeys.Select(k => new IntegrationKeyDocument
        {
            Name = k.Name,
            KeySha256 = k.KeySha256,
            DefaultService = k.DefaultService,
        }).ToList(),
        Maintenance = config.Maintenance.Select(m => new MaintenanceDocument
        {
            Name = m.Name,
            Matchers = m.Matchers.Select(x => x.ToString()).ToList(),
            Start = m.Start?.ToString("O", CultureInfo.InvariantCulture),
            End = m.End?.ToString("O", CultureInfo.InvariantCulture),
            Cron = m.Cron,
            Rrule = m.RRule,
            Duration = m.Duration is { } d ? Durations.Format(d) : null,
            TimeZone = m.TimeZone,
        }).ToList(),
        Heartbeats = config.Heartbeats.Count == 0 ? null : config.Heartbeats.Select(h => new HeartbeatDocument
        {
            Name = h.Name,
            Interval = Durations.Format(h.Interval),
            Grace = Durations.Format(h.Grace),
            Severity = h.Severity.ToWire(),
            Service = h.Service,
            Alert = h.Alert,
        }).ToList(),
    }.WithOnCall(config.OnCall).WithItsm(config.Itsm);

    private static HeartbeatDefinition Heartbeat(HeartbeatDocument document, string path, List<string> errors)
    {
        if (document.Interval is null) errors.Add($"{path}.interval: required, a duration like 5m or 1d");
        var severity = Severity.Sev2;
        if (document.Severity is { } word)
        {
            if (SeverityMapping.FromWord(word) is { } named) severity = named;
            else errors.Add($"{path}.severity: '{word}' is not a severity (sev1–sev4, or critical, error, warning, info)");
        }
        return new HeartbeatDefinition
        {
            Name = document.Name ?? "",
            Interval = Duration(document.Interval, $"{path}.interval", errors) ?? HeartbeatDefinition.ShortestInterval,
            Grace = Duration(document.Grace, $"{path}.grace", errors) ?? HeartbeatDefinition.DefaultGrace,
            Severity = severity,
            Service = document.Service,
            Alert = document.Alert,
        };
    }

    private static List<LabelMatcher> Matchers(List<string>? texts, string path, List<string> errors)
    {
        var matchers = new List<LabelMatcher>();
        foreach (var (text, i) in (texts ?? []).Select((t, i) => (t, i)))
        {
            if (LabelMatcher.Parse(text, out var problem) is { } matcher) matchers.Add(matcher);
            else errors.Add($"{path}[{i}]: {problem}");
        }
        return matchers;
    }

    private static TimeSpan? Duration(string? text, string path, List<string> errors) =>
        text is null ? null
        : Durations.TryParse(text, out var duration) ? duration
        : Fail<TimeSpan?>(errors, $"{path}: '{text}' is not a duration like 90m, 2h or 1d");

    private static MaintenanceWindow MaintenanceWindow(MaintenanceDocument document, string path, List<string> errors)
    {
        return new MaintenanceWindow
        {
            Name = document.Name ?? "",
            Matchers = Matchers(document.Matchers, $"{path}.matchers", errors),
            Start = Instant(document.Start, $"{path}.start", errors),
            End = Instant(document.End, $"{path}.end", errors),
            Cron = document.Cron,
            RRule = document.Rrule,
            Duration = Duration(document.Duration, $"{path}.duration", errors),
            TimeZone = document.TimeZone,
        };
    }

    private static DateTimeOffset? Instant(string? text, string path, List<string> errors) =>
        text is null ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant) ? instant
        : Fail<DateTimeOffset?>(errors, $"{path}: '{text}' is not a timestamp like 2026-12-01T02:00:00Z");

    private static T? Fail<T>(List<string> errors, string error)
    {
        errors.Add(error);
        return default;
    }

    private static void NoNullItems<T>(List<T>? items, string path, List<string> errors)
    {
        for (var i = 0; i < (items?.Count ?? 0); i++)
        {
            if (items![i] is null) errors.Add($"{path}[{i}]: must not be null");
        }
    }

    /// <summary>A severity by any name the ingest knows (sev2, error, P2…); absent means every alert (sev4).</summary>
    private static Severity SymptomSeverity(string? word, List<string> errors)
    {
        if (word is null) return Severity.Sev4;
        if (SeverityMapping.FromWord(word) is { } severity) return severity;
        errors.Add($"correlation.symptomSeverity: '{word}' is not a severity (sev1–sev4, or critical, error, warning, info)");
        return Severity.Sev4;
    }

    private static BusinessHours BusinessHours(BusinessHoursDocument hours, List<string> errors)
    {
        var days = new List<DayOfWeek>();
        foreach (var word in hours.Days ?? [])
        {
            if (Enum.TryParse<DayOfWeek>(word, ignoreCase: true, out var day) && !int.TryParse(word, out _)) days.Add(day);
            else errors.Add($"sla.businessHours.days: '{word}' is not a day of the week");
        }
        TimeOnly Time(string? text, string name)
        {
            if (text is not null && TimeOnly.TryParseExact(text, ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)) return time;
            errors.Add($"sla.businessHours.{name}: '{text}' is not a time of day like 09:00");
            return default;
        }
        var severities = new List<Severity>();
        foreach (var word in hours.Severities ?? [])
        {
            if (SeverityMapping.TryParseWire(word, out var severity)) severities.Add(severity);
            else errors.Add($"sla.businessHours.severities: '{word}' is not a severity (sev1, sev2, sev3, sev4)");
        }
        return new BusinessHours { Days = days, From = Time(hours.From, "from"), To = Time(hours.To, "to"), Severities = severities };
    }

    /// <summary>Weights given override the defaults severity by severity.</summary>
    private static IReadOnlyDictionary<Severity, double> Weights(Dictionary<string, double>? given, string path, List<string> errors) =>
        BySeverity(given, AvailabilitySlo.DefaultWeights, path, errors);

    private static Dictionary<Severity, TimeSpan> Deadlines(Dictionary<string, string>? text, string path, List<string> errors)
    {
        var deadlines = new Dictionary<Severity, TimeSpan>();
        foreach (var (word, duration) in text ?? [])
        {
            if (duration is null) errors.Add($"{path}.{word}: must not be null");
            else if (!SeverityMapping.TryParseWire(word, out var severity))
                errors.Add($"{path}.{word}: not a severity (sev1, sev2, sev3, sev4)");
            else if (!Durations.TryParse(duration, out var limit))
                errors.Add($"{path}.{word}: '{duration}' is not a duration such as 30m, 2h or 1d");
            else deadlines[severity] = limit;
        }
        return deadlines;
    }
}

public static class ConfigText
{
    public static string Hash(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
}
