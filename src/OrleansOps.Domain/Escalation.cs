namespace OrleansOps.Domain;

[GenerateSerializer]
public enum TargetKind
{
    User = 0,
    Schedule = 1,
    Team = 2,
    Channel = 3,
}

/// <summary>Who an escalation level or a reassignment reaches, written <c>user:ana</c>, <c>schedule:primary</c>, <c>team:dba</c>, <c>channel:ops-slack</c>.</summary>
[GenerateSerializer, Immutable]
public sealed record EscalationTarget([property: Id(0)] TargetKind Kind, [property: Id(1)] string Id)
{
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Id}";

    public static EscalationTarget? Parse(string? text)
    {
        var colon = text?.IndexOf(':') ?? -1;
        if (colon <= 0 || colon == text!.Length - 1) return null;
        TargetKind? kind = text[..colon].Trim().ToLowerInvariant() switch
        {
            "user" => TargetKind.User,
            "schedule" => TargetKind.Schedule,
            "team" => TargetKind.Team,
            "channel" => TargetKind.Channel,
            _ => null,
        };
        var id = text[(colon + 1)..].Trim();
        return kind is null || id.Length == 0 ? null : new EscalationTarget(kind.Value, id);
    }
}

/// <summary>One level of a policy: after <see cref="Delay"/> (from the previous level, or from the incident's trigger for the first), page its targets.</summary>
[GenerateSerializer, Immutable]
public sealed record EscalationLevel
{
    [Id(0)] public TimeSpan Delay { get; init; }
    [Id(1)] public required IReadOnlyList<EscalationTarget> Targets { get; init; }
}

/// <summary>
/// Ordered levels, each with a delay and targets. After the last level the policy starts over <see cref="Repeat"/>
/// more times, <see cref="RepeatAfter"/> after that level; acknowledging stops it, and an acknowledgement that
/// lasts <see cref="AckTimeout"/> without a resolve triggers the incident again.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EscalationPolicy
{
    public static readonly TimeSpan DefaultRepeatAfter = TimeSpan.FromMinutes(30);

    [Id(0)] public required string Id { get; init; }
    [Id(1)] public string? Name { get; init; }
    [Id(2)] public required IReadOnlyList<EscalationLevel> Levels { get; init; }
    [Id(3)] public int Repeat { get; init; }
    [Id(4)] public TimeSpan RepeatAfter { get; init; } = DefaultRepeatAfter;
    /// <summary>Zero: an acknowledgement lasts until the incident resolves.</summary>
    [Id(5)] public TimeSpan AckTimeout { get; init; }

    public IEnumerable<string> Problems(string path, AccountConfig account)
    {
        if (!Ids.IsAccountId(Id)) yield return $"{path}.id: '{Id}' is not an id (a lower-case slug that starts with a letter)";
        if (Levels.Count == 0) yield return $"{path}.levels: a policy needs at least one level";
        for (var i = 0; i < Levels.Count; i++)
        {
            if (Levels[i].Delay < TimeSpan.Zero || Levels[i].Delay > TimeSpan.FromDays(1))
                yield return $"{path}.levels[{i}].delay: must be between 0 and 1d";
            if (Levels[i].Targets.Count == 0) yield return $"{path}.levels[{i}].targets: a level needs at least one target";
            foreach (var target in Levels[i].Targets.Where(t => !account.Knows(t)))
                yield return $"{path}.levels[{i}].targets: '{target}' is not a declared {target.Kind.ToString().ToLowerInvariant()}";
        }
        if (Repeat is < 0 or > 100) yield return $"{path}.repeat: must be between 0 and 100";
        if (RepeatAfter <= TimeSpan.Zero || RepeatAfter > TimeSpan.FromDays(1)) yield return $"{path}.repeatAfter: must be positive and at most 1d";
        if (AckTimeout < TimeSpan.Zero || AckTimeout > TimeSpan.FromDays(7)) yield return $"{path}.ackTimeout: must be between 0 (never) and 7d";
    }
}

/// <summary>An address a user can be reached at: an email address, or a phone number (E.164) for SMS and voice.</summary>
[GenerateSerializer, Immutable]
public sealed record ContactMethod
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required ChannelKind Kind { get; init; }
    [Id(2)] public required string Address { get; init; }
}

/// <summary>How a user wants to be paged at a severity: through one contact method, <see cref="Delay"/> after the page.</summary>
[GenerateSerializer, Immutable]
public sealed record NotificationRule
{
    /// <summary>The severities the rule applies to; empty: every severity.</summary>
    [Id(0)] public IReadOnlyList<Severity> Severities { get; init; } = [];
    [Id(1)] public required string Contact { get; init; }
    [Id(2)] public TimeSpan Delay { get; init; }

    public bool AppliesTo(Severity severity) => Severities.Count == 0 || Severities.Contains(severity);
}

[GenerateSerializer, Immutable]
public sealed record UserDefinition
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public string? Name { get; init; }
    [Id(2)] public IReadOnlyList<ContactMethod> Contacts { get; init; } = [];
    /// <summary>Empty: every contact method at once, whatever the severity.</summary>
    [Id(3)] public IReadOnlyList<NotificationRule> Rules { get; init; } = [];
    /// <summary>The person's Slack member id (<c>U…</c>): the buttons of a Slack page act as this user when they press them.</summary>
    [Id(4)] public string? Slack { get; init; }

    /// <summary>A Slack member id as Slack writes it: <c>U</c> or <c>W</c> and upper-case letters and digits.</summary>
    public static bool IsSlackMemberId(string? id) => id is { Length: >= 3 and <= 32 } && id[0] is 'U' or 'W' && id.All(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9');

    /// <summary>The contact methods to use for a page at <paramref name="severity"/>, each with its delay.</summary>
    public IEnumerable<(ContactMethod Contact, TimeSpan Delay)> PagesFor(Severity severity) =>
        Rules.Count == 0
            ? Contacts.Select(c => (c, TimeSpan.Zero))
            : Rules.Where(r => r.AppliesTo(severity))
                .Select(r => (Contact: Contacts.FirstOrDefault(c => c.Id == r.Contact), r.Delay))
                .Where(p => p.Contact is not null)
                .Select(p => (p.Contact!, p.Delay));
}

[GenerateSerializer, Immutable]
public sealed record TeamDefinition
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public string? Name { get; init; }
    [Id(2)] public required IReadOnlyList<string> Members { get; init; }
}

/// <summary>
/// A channel of the account: a Slack or Teams webhook, a signed generic webhook, or the log. A webhook URL that is
/// itself a secret is named by <see cref="UrlRef"/>, the configuration key (environment variable) that holds it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ChannelDefinition
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required ChannelKind Kind { get; init; }
    [Id(2)] public string? Url { get; init; }
    [Id(3)] public string? UrlRef { get; init; }
    [Id(4)] public string? SecretRef { get; init; }
    /// <summary>Sends per minute; zero: no limit.</summary>
    [Id(5)] public int RatePerMinute { get; init; }
}

/// <summary>Customer stakeholders to keep informed at a severity: a first update within <see cref="First"/>, then every <see cref="Every"/> until resolved.</summary>
[GenerateSerializer, Immutable]
public sealed record StakeholderRule
{
    [Id(0)] public required IReadOnlyList<Severity> Severities { get; init; }
    [Id(1)] public TimeSpan First { get; init; }
    /// <summary>Zero: only the first update (and the resolution).</summary>
    [Id(2)] public TimeSpan Every { get; init; }
}

/// <summary>A customer stakeholder: someone told about an incident, never paged to act on it.</summary>
[GenerateSerializer, Immutable]
public sealed record Stakeholder
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public string? Name { get; init; }
    [Id(2)] public required ChannelKind Kind { get; init; }
    /// <summary>An email address or phone number; for a channel kind, the id of an account channel.</summary>
    [Id(3)] public required string Address { get; init; }
}

/// <summary>An incident whose first alert matches every matcher follows <see cref="Policy"/>, whatever its service names.</summary>
[GenerateSerializer, Immutable]
public sealed record EscalationRoute
{
    [Id(0)] public required IReadOnlyList<LabelMatcher> Matchers { get; init; }
    [Id(1)] public required string Policy { get; init; }
}

/// <summary>Who pages whom, and how, for one account.</summary>
[GenerateSerializer, Immutable]
public sealed record OnCallConfig
{
    public static readonly OnCallConfig None = new();

    [Id(0)] public IReadOnlyList<UserDefinition> Users { get; init; } = [];
    [Id(1)] public IReadOnlyList<TeamDefinition> Teams { get; init; } = [];
    [Id(2)] public IReadOnlyList<OnCallSchedule> Schedules { get; init; } = [];
    [Id(3)] public IReadOnlyList<EscalationPolicy> Policies { get; init; } = [];
    [Id(4)] public IReadOnlyList<ChannelDefinition> Channels { get; init; } = [];
    /// <summary>The policy of incidents whose service names none.</summary>
    [Id(5)] public string? DefaultPolicy { get; init; }
    [Id(6)] public IReadOnlyList<Stakeholder> Stakeholders { get; init; } = [];
    [Id(7)] public IReadOnlyList<StakeholderRule> StakeholderRules { get; init; } = [];
    /// <summary>Tried in order before the service's policy: the first route whose matchers all match the incident's first alert wins.</summary>
    [Id(8)] public IReadOnlyList<EscalationRoute> Routes { get; init; } = [];

    public IEnumerable<string> Problems(AccountConfig account)
    {
        var users = Users.Select(u => u.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var problem in Unique(Users.Select(u => u.Id), "users")
                     .Concat(Unique(Teams.Select(t => t.Id), "teams"))
                     .Concat(Unique(Schedules.Select(s => s.Id), "schedules"))
                     .Concat(Unique(Policies.Select(p => p.Id), "escalationPolicies"))
                     .Concat(Unique(Channels.Select(c => c.Id), "channels"))
                     .Concat(Unique(Stakeholders.Select(s => s.Id), "stakeholders")))
            yield return problem;

        for (var i = 0; i < Users.Count; i++)
        {
            var user = Users[i];
            if (!Ids.IsAccountId(user.Id)) yield return $"users[{i}].id: '{user.Id}' is not an id (a lower-case slug that starts with a letter)";
            foreach (var problem in Unique(user.Contacts.Select(c => c.Id), $"users[{i}].contacts")) yield return problem;
            for (var c = 0; c < user.Contacts.Count; c++)
            {
                var contact = user.Contacts[c];
                // log: the server's own log, for demos and local runs where no SMTP server or Twilio account is set.
                if (contact.Kind is not (ChannelKind.Email or ChannelKind.Sms or ChannelKind.Voice or ChannelKind.Log))
                    yield return $"users[{i}].contacts[{c}].kind: a user is reached by email, sms, voice or log, not {contact.Kind.ToWire()}";
                else if (AddressProblem(contact.Kind, contact.Address) is { } problem)
                    yield return $"users[{i}].contacts[{c}].address: {problem}";
            }
            if (user.Slack is { } slack && !UserDefinition.IsSlackMemberId(slack))
                yield return $"users[{i}].slack: '{slack}' is not a Slack member id (U or W and capitals or digits, as in U024BE7LH)";
            else if (user.Slack is not null && Users.Take(i).Any(u => u.Slack == user.Slack))
                yield return $"users[{i}].slack: '{user.Slack}' is another user's already";
            for (var r = 0; r < user.Rules.Count; r++)
            {
                if (user.Contacts.All(c => c.Id != user.Rules[r].Contact))
                    yield return $"users[{i}].rules[{r}].contact: '{user.Rules[r].Contact}' is not one of the user's contacts";
                if (user.Rules[r].Delay < TimeSpan.Zero || user.Rules[r].Delay > TimeSpan.FromDays(1))
                    yield return $"users[{i}].rules[{r}].delay: must be between 0 and 1d";
            }
        }
        for (var i = 0; i < Teams.Count; i++)
        {
            if (Teams[i].Members.Count == 0) yield return $"teams[{i}].members: a team needs at least one member";
            foreach (var member in Teams[i].Members.Where(m => !users.Contains(m)))
                yield return $"teams[{i}].members: '{member}' is not a declared user";
        }
        for (var i = 0; i < Schedules.Count; i++)
        {
            foreach (var problem in Schedules[i].Problems($"schedules[{i}]")) yield return problem;
            var named = Schedules[i].Layers.SelectMany(l => l.Users).Concat(Schedules[i].Overrides.Select(o => o.User));
            foreach (var unknown in named.Where(u => !users.Contains(u)).Distinct())
                yield return $"schedules[{i}]: '{unknown}' is not a declared user";
        }
        for (var i = 0; i < Channels.Count; i++)
        {
            var channel = Channels[i];
            if (channel.Kind is not (ChannelKind.Slack or ChannelKind.Teams or ChannelKind.Webhook or ChannelKind.Log))
                yield return $"channels[{i}].kind: a channel is slack, teams, webhook or log; email, sms and voice are a user's contacts";
            else if (channel.Kind != ChannelKind.Log && (channel.Url is null) == (channel.UrlRef is null))
                yield return $"channels[{i}]: give the webhook as url or as urlRef (the configuration key that holds it), one of them";
            if (channel.Url is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                yield return $"channels[{i}].url: '{url}' is not an http(s) URL";
            if (channel.Kind == ChannelKind.Webhook && string.IsNullOrWhiteSpace(channel.SecretRef))
                yield return $"channels[{i}].secretRef: a webhook is signed; name the configuration key that holds its HMAC key";
            if (channel.RatePerMinute < 0) yield return $"channels[{i}].ratePerMinute: must be 0 (no limit) or more";
        }
        for (var i = 0; i < Policies.Count; i++)
        {
            foreach (var problem in Policies[i].Problems($"escalationPolicies[{i}]", account)) yield return problem;
        }
        if (DefaultPolicy is { } fallback && Policies.All(p => p.Id != fallback))
            yield return $"escalation.defaultPolicy: '{fallback}' is not a declared escalation policy";
        for (var i = 0; i < Routes.Count; i++)
        {
            if (Routes[i].Matchers.Count == 0) yield return $"escalation.routes[{i}].matchers: a route needs at least one matcher";
            if (Policies.All(p => p.Id != Routes[i].Policy))
                yield return $"escalation.routes[{i}].policy: '{Routes[i].Policy}' is not a declared escalation policy";
        }
        for (var i = 0; i < Stakeholders.Count; i++)
        {
            var stakeholder = Stakeholders[i];
            if (stakeholder.Kind is ChannelKind.Email or ChannelKind.Sms or ChannelKind.Voice)
            {
                if (AddressProblem(stakeholder.Kind, stakeholder.Address) is { } problem) yield return $"stakeholders[{i}].address: {problem}";
            }
            else if (Channels.All(c => c.Id != stakeholder.Address))
                yield return $"stakeholders[{i}].address: '{stakeholder.Address}' is not a declared channel";
        }
        for (var i = 0; i < StakeholderRules.Count; i++)
        {
            var rule = StakeholderRules[i];
            if (rule.Severities.Count == 0) yield return $"stakeholderRules[{i}].severities: name at least one severity";
            if (rule.First < TimeSpan.Zero || rule.First > TimeSpan.FromDays(1)) yield return $"stakeholderRules[{i}].first: must be between 0 and 1d";
            if (rule.Every != TimeSpan.Zero && (rule.Every < TimeSpan.FromMinutes(1) || rule.Every > TimeSpan.FromDays(1)))
                yield return $"stakeholderRules[{i}].every: must be 0 (once) or between 1m and 1d";
        }
        if (StakeholderRules.Count > 0 && Stakeholders.Count == 0)
            yield return "stakeholderRules: there are rules but no stakeholders to tell";
    }

    /// <summary>Why <paramref name="address"/> cannot be used for <paramref name="kind"/>, or null.</summary>
    public static string? AddressProblem(ChannelKind kind, string? address) => kind switch
    {
        ChannelKind.Email when address is null || !System.Net.Mail.MailAddress.TryCreate(address, out var parsed) || parsed.Address != address.Trim()
            => $"'{address}' is not an email address",
        ChannelKind.Sms or ChannelKind.Voice when address is null || !IsE164(address)
            => $"'{address}' is not a phone number in E.164 form (+ and 8 to 15 digits)",
        _ => null,
    };

    private static bool IsE164(string text) =>
        text.Length is >= 9 and <= 16 && text[0] == '+' && text[1] != '0' && text.Skip(1).All(char.IsAsciiDigit);

    private static IEnumerable<string> Unique(IEnumerable<string> ids, string path) =>
        ids.GroupBy(id => id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{path}: '{g.Key}' is declared twice");
}
