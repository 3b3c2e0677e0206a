using System.Globalization;

namespace OrleansOps.Configuration;

/// <summary>Users, teams, schedules, channels, escalation policies and stakeholders, as people write them.</summary>
public sealed partial class AccountConfigDocument
{
    public List<UserDocument>? Users { get; set; }
    public List<TeamDocument>? Teams { get; set; }
    public List<ScheduleDocument>? Schedules { get; set; }
    public List<ChannelDocument>? Channels { get; set; }
    public List<PolicyDocument>? EscalationPolicies { get; set; }
    public EscalationDocument? Escalation { get; set; }
    public List<StakeholderDocument>? Stakeholders { get; set; }
    public List<StakeholderRuleDocument>? StakeholderRules { get; set; }

    public sealed class UserDocument
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public List<ContactDocument>? Contacts { get; set; }
        /// <summary>Absent: every contact at once, whatever the severity.</summary>
        public List<RuleDocument>? Rules { get; set; }
        /// <summary>The person's Slack member id (<c>U024BE7LH</c>): pressing a Slack page's buttons acts as them.</summary>
        public string? Slack { get; set; }
    }

    /// <summary><c>{id: mobile, kind: sms, address: "+15551230001"}</c>; kind is email, sms or voice.</summary>
    public sealed class ContactDocument
    {
        public string? Id { get; set; }
        public string? Kind { get; set; }
        public string? Address { get; set; }
    }

    /// <summary><c>{severities: [sev1], contact: phone, delay: 2m}</c>.</summary>
    public sealed class RuleDocument
    {
        public List<string>? Severities { get; set; }
        public string? Contact { get; set; }
        public string? Delay { get; set; }
    }

    public sealed class TeamDocument
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public List<string>? Members { get; set; }
    }

    public sealed class ScheduleDocument
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        /// <summary>IANA zone of hand-offs and restrictions; absent: the account's.</summary>
        public string? TimeZone { get; set; }
        public List<LayerDocument>? Layers { get; set; }
        public List<OverrideDocument>? Overrides { get; set; }
    }

    /// <summary><c>{start: "2026-11-02T09:00", turn: 1w, users: [ana, ben], restrictions: [...]}</c>; start is local time in the schedule's zone, and sets the hand-off time.</summary>
    public sealed class LayerDocument
    {
        public string? Name { get; set; }
        public string? Start { get; set; }
        public string? Turn { get; set; }
        public List<string>? Users { get; set; }
        public List<RestrictionDocument>? Restrictions { get; set; }
    }

    /// <summary><c>{daily: "09:00", duration: 8h}</c>, or <c>{weekly: monday, at: "09:00", duration: 4d8h}</c>.</summary>
    public sealed class RestrictionDocument
    {
        public string? Daily { get; set; }
        public string? Weekly { get; set; }
        public string? At { get; set; }
        public string? Duration { get; set; }
    }

    public sealed class OverrideDocument
    {
        public string? User { get; set; }
        public string? Start { get; set; }
        public string? End { get; set; }
    }

    /// <summary><c>{id: ops-slack, kind: slack, urlRef: OPS_SLACK_WEBHOOK}</c>; kind is slack, teams, webhook (with secretRef) or log.</summary>
    public sealed class ChannelDocument
    {
        public string? Id { get; set; }
        public string? Kind { get; set; }
        public string? Url { get; set; }
        public string? UrlRef { get; set; }
        public string? SecretRef { get; set; }
        public int? RatePerMinute { get; set; }
    }

    public sealed class PolicyDocument
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public List<LevelDocument>? Levels { get; set; }
        public int? Repeat { get; set; }
        public string? RepeatAfter { get; set; }
        public string? AckTimeout { get; set; }
    }

    /// <summary><c>{delay: 15m, targets: ["schedule:primary", "channel:ops-slack"]}</c>.</summary>
    public sealed class LevelDocument
    {
        public string? Delay { get; set; }
        public List<string>? Targets { get; set; }
    }

    public sealed class EscalationDocument
    {
        public string? DefaultPolicy { get; set; }
        /// <summary><c>[{matchers: ['team="dba"'], policy: dba}]</c>: tried in order before the service's policy.</summary>
        public List<RouteDocument>? Routes { get; set; }
    }

    public sealed class RouteDocument
    {
        public List<string>? Matchers { get; set; }
        public string? Policy { get; set; }
    }

    /// <summary><c>{id: cio, kind: email, address: cio@example.com}</c>; for slack, teams, webhook or log, address is a channel id.</summary>
    public sealed class StakeholderDocument
    {
        public string? Id { get; set; }
        public string? Name { get; set; }
        public string? Kind { get; set; }
        public string? Address { get; set; }
    }

    /// <summary><c>{severities: [sev1], first: 15m, every: 30m}</c>.</summary>
    public sealed class StakeholderRuleDocument
    {
        public List<string>? Severities { get; set; }
        public string? First { get; set; }
        public string? Every { get; set; }
    }

    private OnCallConfig OnCallToDomain(string accountTimeZone, List<string> errors)
    {
        NoNullItems(Users, "users", errors);
        NoNullItems(Teams, "teams", errors);
        NoNullItems(Schedules, "schedules", errors);
        NoNullItems(Channels, "channels", errors);
        NoNullItems(EscalationPolicies, "escalationPolicies", errors);
        NoNullItems(Stakeholders, "stakeholders", errors);
        NoNullItems(StakeholderRules, "stakeholderRules", errors);
        return new OnCallConfig
        {
            Users = Present(Users).Select((u, i) => new UserDefinition
            {
                Id = u.Id ?? "",
                Name = u.Name,
                Contacts = Present(u.Contacts).Select((c, j) => new ContactMethod
                {
                    Id = c.Id ?? c.Kind ?? $"contact-{j + 1}",
                    Kind = Kind(c.Kind, $"users[{i}].contacts[{j}].kind", errors),
                    Address = c.Address ?? "",
                }).ToList(),
                Rules = Present(u.Rules).Select((r, j) => new NotificationRule
                {
                    Severities = Severities(r.Severities, $"users[{i}].rules[{j}].severities", errors),
                    Contact = r.Contact ?? "",
                    Delay = DurationOrZero(r.Delay, $"users[{i}].rules[{j}].delay", errors),
                }).ToList(),
                Slack = u.Slack,
            }).ToList(),
            Teams = Present(Teams).Select(t => new TeamDefinition { Id = t.Id ?? "", Name = t.Name, Members = t.Members ?? [] }).ToList(),
            Schedules = Present(Schedules).Select((s, i) => new OnCallSchedule
            {
                Id = s.Id ?? "",
                Name = s.Name,
                TimeZone = s.TimeZone ?? accountTimeZone,
                Layers = Present(s.Layers).Select((l, j) => Layer(l, $"schedules[{i}].layers[{j}]", errors)).ToList(),
                Overrides = Present(s.Overrides).Select((o, j) => new ScheduleOverride
                {
                    User = o.User ?? "",
                    Start = Instant(o.Start, $"schedules[{i}].overrides[{j}].start", errors) ?? default,
                    End = Instant(o.End, $"schedules[{i}].overrides[{j}].end", errors) ?? default,
                }).ToList(),
            }).ToList(),
            Channels = Present(Channels).Select((c, i) => new ChannelDefinition
            {
                Id = c.Id ?? "",
                Kind = Kind(c.Kind, $"channels[{i}].kind", errors),
                Url = c.Url,
                UrlRef = c.UrlRef,
                SecretRef = c.SecretRef,
                RatePerMinute = c.RatePerMinute ?? 0,
            }).ToList(),
            Policies = Present(EscalationPolicies).Select((p, i) => new EscalationPolicy
            {
                Id = p.Id ?? "",
                Name = p.Name,
                Levels = Present(p.Levels).Select((l, j) => new EscalationLevel
                {
                    Delay = DurationOrZero(l.Delay, $"escalationPolicies[{i}].levels[{j}].delay", errors),
                    Targets = Targets(l.Targets, $"escalationPolicies[{i}].levels[{j}].targets", errors),
                }).ToList(),
                Repeat = p.Repeat ?? 0,
                RepeatAfter = Duration(p.RepeatAfter, $"escalationPolicies[{i}].repeatAfter", errors) ?? EscalationPolicy.DefaultRepeatAfter,
                AckTimeout = DurationOrZero(p.AckTimeout, $"escalationPolicies[{i}].ackTimeout", errors),
            }).ToList(),
            DefaultPolicy = Escalation?.DefaultPolicy,
            Routes = Present(Escalation?.Routes).Select((r, i) => new EscalationRoute
            {
                Matchers = Matchers(r.Matchers, $"escalation.routes[{i}].matchers", errors),
                Policy = r.Policy ?? "",
            }).ToList(),
            Stakeholders = Present(Stakeholders).Select((s, i) => new Stakeholder
            {
                Id = s.Id ?? "",
                Name = s.Name,
                Kind = Kind(s.Kind, $"stakeholders[{i}].kind", errors),
                Address = s.Address ?? "",
            }).ToList(),
            StakeholderRules = Present(StakeholderRules).Select((r, i) => new StakeholderRule
            {
                Severities = Severities(r.Severities, $"stakeholderRules[{i}].severities", errors),
                First = DurationOrZero(r.First, $"stakeholderRules[{i}].first", errors),
                Every = DurationOrZero(r.Every, $"stakeholderRules[{i}].every", errors),
            }).ToList(),
        };
    }

    private static RotationLayer Layer(LayerDocument layer, string path, List<string> errors)
    {
        var start = default(DateTime);
        if (layer.Start is null) errors.Add($"{path}.start: required (local date and time of the first hand-off, e.g. 2026-11-02T09:00)");
        else if (!DateTime.TryParse(layer.Start, CultureInfo.InvariantCulture, DateTimeStyles.None, out start) || layer.Start.EndsWith('Z') || layer.Start.Contains('+'))
            errors.Add($"{path}.start: '{layer.Start}' is not a local date and time like 2026-11-02T09:00 (no offset: it is in the schedule's time zone)");
        var turn = Duration(layer.Turn, $"{path}.turn", errors);
        if (layer.Turn is null) errors.Add($"{path}.turn: required (how long each turn lasts, e.g. 1d or 1w)");
        NoNullItems(layer.Restrictions, $"{path}.restrictions", errors);
        return new RotationLayer
        {
            Name = layer.Name,
            Start = DateTime.SpecifyKind(start, DateTimeKind.Unspecified),
            TurnLength = turn ?? TimeSpan.Zero,
            Users = layer.Users ?? [],
            Restrictions = Present(layer.Restrictions).Select((r, i) => Restriction(r, $"{path}.restrictions[{i}]", errors)).ToList(),
        };
    }

    private static ScheduleRestriction Restriction(RestrictionDocument restriction, string path, List<string> errors)
    {
        var weekly = restriction.Weekly is not null;
        if (weekly == (restriction.Daily is not null))
            errors.Add($"{path}: write {{daily: \"09:00\", duration: 8h}} or {{weekly: monday, at: \"09:00\", duration: 4d8h}}");
        DayOfWeek? day = null;
        if (weekly)
        {
            if (Enum.TryParse<DayOfWeek>(restriction.Weekly, ignoreCase: true, out var parsed) && !int.TryParse(restriction.Weekly, out _)) day = parsed;
            else errors.Add($"{path}.weekly: '{restriction.Weekly}' is not a day of the week");
        }
        var timeText = weekly ? restriction.At : restriction.Daily;
        var time = default(TimeOnly);
        if (timeText is not null && !TimeOnly.TryParseExact(timeText, ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time))
            errors.Add($"{path}.{(weekly ? "at" : "daily")}: '{timeText}' is not a time of day like 09:00");
        if (weekly && restriction.At is null) errors.Add($"{path}.at: required (the local time the weekly window starts)");
        if (restriction.Duration is null) errors.Add($"{path}.duration: required");
        return new ScheduleRestriction
        {
            Kind = weekly ? RestrictionKind.Weekly : RestrictionKind.Daily,
            StartTime = time,
            StartDay = day,
            Duration = Duration(restriction.Duration, $"{path}.duration", errors) ?? TimeSpan.Zero,
        };
    }

    private static IEnumerable<T> Present<T>(List<T>? items) where T : class => (items ?? []).Where(i => i is not null);

    private static ChannelKind Kind(string? word, string path, List<string> errors)
    {
        if (ChannelKinds.FromWire(word) is { } kind) return kind;
        errors.Add($"{path}: '{word}' is not a channel kind (email, sms, voice, slack, teams, webhook, log)");
        return ChannelKind.Log;
    }

    private static List<Severity> Severities(List<string>? words, string path, List<string> errors)
    {
        var severities = new List<Severity>();
        foreach (var word in words ?? [])
        {
            if (SeverityMapping.FromWord(word) is { } severity) severities.Add(severity);
            else errors.Add($"{path}: '{word}' is not a severity (sev1–sev4, or critical, error, warning, info)");
        }
        return severities;
    }

    private static List<EscalationTarget> Targets(List<string>? texts, string path, List<string> errors)
    {
        var targets = new List<EscalationTarget>();
        foreach (var text in texts ?? [])
        {
            if (EscalationTarget.Parse(text) is { } target) targets.Add(target);
            else errors.Add($"{path}: '{text}' is not a target; write user:<id>, schedule:<id>, team:<id> or channel:<id>");
        }
        return targets;
    }

    /// <summary>A duration where zero (<c>0</c>, <c>0s</c>, <c>0m</c>) means "at once" or "never", as the field says.</summary>
    private static TimeSpan DurationOrZero(string? text, string path, List<string> errors) =>
        text?.Trim() is "0" or "0s" or "0m" or "0h" ? TimeSpan.Zero : Duration(text, path, errors) ?? TimeSpan.Zero;

    private AccountConfigDocument WithOnCall(OnCallConfig oncall)
    {
        Users = oncall.Users.Select(u => new UserDocument
        {
            Id = u.Id,
            Name = u.Name,
            Contacts = u.Contacts.Select(c => new ContactDocument { Id = c.Id, Kind = c.Kind.ToWire(), Address = c.Address }).ToList(),
            Rules = u.Rules.Count == 0 ? null : u.Rules.Select(r => new RuleDocument
            {
                Severities = r.Severities.Count == 0 ? null : r.Severities.Select(s => s.ToWire()).ToList(),
                Contact = r.Contact,
                Delay = r.Delay > TimeSpan.Zero ? Durations.Format(r.Delay) : null,
            }).ToList(),
            Slack = u.Slack,
        }).ToList();
        Teams = oncall.Teams.Select(t => new TeamDocument { Id = t.Id, Name = t.Name, Members = t.Members.ToList() }).ToList();
        Schedules = oncall.Schedules.Select(s => new ScheduleDocument
        {
            Id = s.Id,
            Name = s.Name,
            TimeZone = s.TimeZone,
            Layers = s.Layers.Select(l => new LayerDocument
            {
                Name = l.Name,
                Start = l.Start.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture),
                Turn = Durations.Format(l.TurnLength),
                Users = l.Users.ToList(),
                Restrictions = l.Restrictions.Count == 0 ? null : l.Restrictions.Select(r => new RestrictionDocument
                {
                    Daily = r.Kind == RestrictionKind.Daily ? r.StartTime.ToString("HH:mm", CultureInfo.InvariantCulture) : null,
                    Weekly = r.Kind == RestrictionKind.Weekly ? r.StartDay?.ToString().ToLowerInvariant() : null,
                    At = r.Kind == RestrictionKind.Weekly ? r.StartTime.ToString("HH:mm", CultureInfo.InvariantCulture) : null,
                    Duration = Durations.Format(r.Duration),
                }).ToList(),
            }).ToList(),
            Overrides = s.Overrides.Select(o => new OverrideDocument
            {
                User = o.User,
                Start = o.Start.ToString("O", CultureInfo.InvariantCulture),
                End = o.End.ToString("O", CultureInfo.InvariantCulture),
            }).ToList(),
        }).ToList();
        Channels = oncall.Channels.Select(c => new ChannelDocument
        {
            Id = c.Id,
            Kind = c.Kind.ToWire(),
            Url = c.Url,
            UrlRef = c.UrlRef,
            SecretRef = c.SecretRef,
            RatePerMinute = c.RatePerMinute > 0 ? c.RatePerMinute : null,
        }).ToList();
        EscalationPolicies = oncall.Policies.Select(p => new PolicyDocument
        {
            Id = p.Id,
            Name = p.Name,
            Levels = p.Levels.Select(l => new LevelDocument
            {
                Delay = l.Delay > TimeSpan.Zero ? Durations.Format(l.Delay) : "0m",
                Targets = l.Targets.Select(t => t.ToString()).ToList(),
            }).ToList(),
            Repeat = p.Repeat > 0 ? p.Repeat : null,
            RepeatAfter = p.Repeat > 0 ? Durations.Format(p.RepeatAfter) : null,
            AckTimeout = p.AckTimeout > TimeSpan.Zero ? Durations.Format(p.AckTimeout) : null,
        }).ToList();
        Escalation = oncall.DefaultPolicy is null && oncall.Routes.Count == 0 ? null : new EscalationDocument
        {
            DefaultPolicy = oncall.DefaultPolicy,
            Routes = oncall.Routes.Count == 0 ? null : oncall.Routes.Select(r => new RouteDocument
            {
                Matchers = r.Matchers.Select(m => m.ToString()).ToList(),
                Policy = r.Policy,
            }).ToList(),
        };
        Stakeholders = oncall.Stakeholders.Select(s => new StakeholderDocument { Id = s.Id, Name = s.Name, Kind = s.Kind.ToWire(), Address = s.Address }).ToList();
        StakeholderRules = oncall.StakeholderRules.Select(r => new StakeholderRuleDocument
        {
            Severities = r.Severities.Select(s => s.ToWire()).ToList(),
            First = r.First > TimeSpan.Zero ? Durations.Format(r.First) : "0m",
            Every = r.Every > TimeSpan.Zero ? Durations.Format(r.Every) : null,
        }).ToList();
        return this;
    }
}
