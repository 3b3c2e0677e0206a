namespace OrleansOps.Domain.Tests;

public sealed class AccountConfigTests
{
    private static AccountConfig Valid() => new()
    {
        Id = "healthnet",
        Name = "HealthNet",
        TimeZone = "America/New_York",
        Services = [new ServiceDefinition { Id = "ehr-api" }, new ServiceDefinition { Id = "imaging", DependsOn = ["ehr-api"] }],
        Sla = new SlaContract
        {
            Availability = [new AvailabilitySlo { Name = "a", Target = 99.95, Window = "30d", Services = ["ehr-api"] }],
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromHours(2) },
        },
        IntegrationKeys = [new IntegrationKeyDefinition { Name = "k", KeySha256 = IntegrationKey.Hash("a-long-enough-key") }],
    };

    [Fact]
    public void A_user_may_be_reached_on_the_servers_log_but_not_through_a_channel_kind()
    {
        static AccountConfig With(ChannelKind kind) => new()
        {
            Id = "acme",
            Name = "Acme",
            Services = [new ServiceDefinition { Id = "api" }],
            OnCall = new OnCallConfig
            {
                Users = [new UserDefinition { Id = "ana", Contacts = [new ContactMethod { Id = "pager", Kind = kind, Address = "" }], Rules = [new NotificationRule { Contact = "pager" }] }],
            },
        };

        Assert.DoesNotContain(With(ChannelKind.Log).Validate(), e => e.StartsWith("users[0]", StringComparison.Ordinal));
        Assert.Contains("users[0].contacts[0].kind: a user is reached by email, sms, voice or log, not slack", With(ChannelKind.Slack).Validate());
    }

    [Fact]
    public void A_complete_configuration_is_valid() => Assert.Empty(Valid().Validate());

    [Fact]
    public void A_users_slack_member_id_is_slacks_form_and_one_persons()
    {
        static AccountConfig With(params string?[] slackIds) => new()
        {
            Id = "acme",
            Name = "Acme",
            OnCall = new OnCallConfig { Users = slackIds.Select((slack, i) => new UserDefinition { Id = $"user{i}", Slack = slack }).ToList() },
        };

        Assert.Empty(With("U024BE7LH", "W0ENTERPRISE", null).Validate());
        Assert.Contains("users[0].slack: 'ana' is not a Slack member id (U or W and capitals or digits, as in U024BE7LH)", With("ana").Validate());
        Assert.Contains("users[1].slack: 'U024BE7LH' is another user's already", With("U024BE7LH", "U024BE7LH").Validate());
    }

    [Theory]
    [InlineData("Healthnet")]
    [InlineData("1health")]
    [InlineData("12345")]
    [InlineData("health_net")]
    [InlineData("")]
    public void Account_ids_must_be_slugs_starting_with_a_letter(string id)
    {
        Assert.False(Ids.IsAccountId(id));
        Assert.Contains((Valid() with { Id = id }).Validate(), e => e.StartsWith("id:", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_with_its_field()
    {
        var config = Valid() with
        {
            TimeZone = "Mars/Olympus",
            Services = [new ServiceDefinition { Id = "a" }, new ServiceDefinition { Id = "a", DependsOn = ["ghost"] }],
            Sla = new SlaContract { Availability = [new AvailabilitySlo { Name = "x", Target = 100.5, Window = "forever" }] },
        };
        var errors = config.Validate();
        Assert.Contains(errors, e => e.StartsWith("timeZone:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("declared twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'ghost'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("sla.availability[0].target", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("sla.availability[0].window", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("1h30m", 5400)]
    [InlineData("30d", 2592000)]
    [InlineData("1w", 604800)]
    public void Durations_parse(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("1333ms", 1333, "1333ms")]
    [InlineData("1s500ms", 1500, "1500ms")]
    [InlineData("2000ms", 2000, "2s")]
    [InlineData("1m30s", 90_000, "90s")]
    public void Durations_take_milliseconds_as_Prometheus_writes_them_and_format_back_to_the_largest_whole_unit(string text, int milliseconds, string formatted)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
        Assert.Equal(formatted, Durations.Format(duration));
    }

    [Theory]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("h")]
    [InlineData("2x")]
    [InlineData("-2h")]
    [InlineData("0m")]
    [InlineData("5ms5")]
    [InlineData("100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w100000w")]
    [InlineData("3651d")]
    public void Bad_durations_do_not_parse(string text) => Assert.False(Durations.TryParse(text, out _));

    [Fact]
    public void Incident_ids_are_valid_unique_and_sort_in_the_order_they_were_minted()
    {
        var start = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        // Many in one 4 ms step, across steps, and one from a clock that stepped back.
        var times = Enumerable.Range(0, 3000).Select(i => start.AddMilliseconds(i / 1000 * 7)).Append(start.AddSeconds(-1)).ToList();
        var ids = times.Select(Ids.NewIncidentId).ToList();
        Assert.All(ids, id => Assert.True(Ids.IsIncidentId(id), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        // Their time part moves with the clock: a later step, a greater prefix.
        Assert.True(string.CompareOrdinal(Ids.NewIncidentId(start.AddYears(1))[..12], ids[^1][..12]) > 0);
    }
}
