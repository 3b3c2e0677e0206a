using Microsoft.Extensions.Time.Testing;
using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

/// <summary>Escalation timelines on a fake clock: the incident is woken at each instant the test chooses, as its timer would.</summary>
public sealed class EscalationTests
{
    private readonly FakeTimeProvider _clock = new(T0);
    private static readonly TimeSpan Resend = TimeSpan.FromMinutes(30);
    /// <summary>What the incident handed to the notifier during <see cref="RunUntil"/>.</summary>
    private readonly List<Notification> _sent = [];

    private static readonly UserDefinition Ana = new()
    {
        Id = "ana",
        Contacts =
        [
            new ContactMethod { Id = "mobile", Kind = ChannelKind.Sms, Address = "+15551230001" },
            new ContactMethod { Id = "phone", Kind = ChannelKind.Voice, Address = "+15551230001" },
            new ContactMethod { Id = "work", Kind = ChannelKind.Email, Address = "ana@example.com" },
        ],
        Rules =
        [
            new NotificationRule { Severities = [Severity.Sev1], Contact = "mobile" },
            new NotificationRule { Severities = [Severity.Sev1], Contact = "phone", Delay = TimeSpan.FromMinutes(2) },
            new NotificationRule { Contact = "work" },
        ],
    };

    private static UserDefinition Emailed(string id) =>
        new() { Id = id, Contacts = [new ContactMethod { Id = "work", Kind = ChannelKind.Email, Address = $"{id}@example.com" }] };

    private static AccountConfig Config(EscalationPolicy? policy, OnCallConfig? extra = null)
    {
        var oncall = extra ?? new OnCallConfig();
        return new AccountConfig
        {
            Id = "acme",
            Name = "Acme",
            Services = [new ServiceDefinition { Id = "api" }],
            OnCall = oncall with
            {
                Users = oncall.Users.Count > 0 ? oncall.Users : [Ana, Emailed("ben"), Emailed("cy")],
                Teams = [new TeamDefinition { Id = "dba", Members = ["ben", "cy"] }],
                Channels = [new ChannelDefinition { Id = "ops", Kind = ChannelKind.Slack, UrlRef = "OPS_SLACK" }],
                Policies = policy is null ? [] : [policy],
                DefaultPolicy = policy?.Id,
            },
        };
    }

    private static EscalationPolicy TwoLevels(int repeat = 0, TimeSpan? ackTimeout = null) => new()
    {
        Id = "standard",
        Levels =
        [
            new EscalationLevel { Targets = [new EscalationTarget(TargetKind.User, "ana"), new EscalationTarget(TargetKind.Channel, "ops")] },
            new EscalationLevel { Delay = TimeSpan.FromMinutes(5), Targets = [new EscalationTarget(TargetKind.Team, "dba")] },
        ],
        Repeat = repeat,
        RepeatAfter = TimeSpan.FromMinutes(10),
        AckTimeout = ackTimeout ?? TimeSpan.Zero,
    };

    private IncidentState Open(Severity severity = Severity.Sev1)
    {
        var incident = new IncidentState();
        var first = Firing("Down", severity);
        incident.Open("inc-aaaaaaaaaaaaaaaa", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, _clock.GetUtcNow());
        incident.Apply(first, _clock.GetUtcNow());
        return incident;
    }

    /// <summary>
    /// What the incident's timer does: wake at the next due instant (if it is not later than <paramref name="until"/>)
    /// and act; notifications due are handed over and reported delivered at once.
    /// </summary>
    private void RunUntil(IncidentState incident, AccountConfig config, DateTimeOffset until)
    {
        while (incident.NextWake is { } due && due <= until)
        {
            if (due > _clock.GetUtcNow()) _clock.SetUtcNow(due);
            var now = _clock.GetUtcNow();
            if (incident.EscalationDue(now)) incident.Escalate(config, now);
            foreach (var sent in incident.DispatchDue(now, Resend))
            {
                _sent.Add(sent);
                incident.RecordDelivery(new DeliveryReport
                {
                    Key = sent.Key,
                    Delivered = true,
                    Attempts = [new DeliveryAttempt { Number = 1, At = now, Succeeded = true, Outcome = "delivered" }],
                }, now);
            }
        }
        if (until > _clock.GetUtcNow()) _clock.SetUtcNow(until);
    }

    private static List<(DateTimeOffset At, string Level, string Assignees)> Steps(IncidentState incident) =>
        incident.Recorded.Where(e => e.Kind == ChronicleKinds.Escalated)
            .Select(e => (e.At, e.Data["level"], e.Data["assignees"])).ToList();

    [Fact]
    public void Levels_fire_at_their_delays_and_the_chronicle_shows_each_with_its_time()
    {
        var config = Config(TwoLevels());
        var incident = Open();
        RunUntil(incident, config, T0.AddMinutes(4).AddSeconds(59));
        Assert.Equal([(T0, "1", "ana")], Steps(incident));
        Assert.Equal(T0.AddMinutes(5), incident.Escalation.NextAt);

        RunUntil(incident, config, T0.AddHours(2));
        Assert.Equal([(T0, "1", "ana"), (T0.AddMinutes(5), "2", "ben,cy")], Steps(incident));
        Assert.Null(incident.Escalation.NextAt);
        Assert.Equal(["ben", "cy"], incident.Escalation.Assignees);
        var policyEntry = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.EscalationPolicy);
        Assert.Equal("standard", policyEntry.Data["policy"]);
        Assert.True(Chronicle.Verify(incident.Recorded).Valid);
    }

    [Fact]
    public void Each_level_queues_a_notification_per_contact_rule_and_channel_with_its_own_key()
    {
        var config = Config(TwoLevels());
        var incident = Open(Severity.Sev1);
        incident.Escalate(config, T0);

        var pending = incident.PendingNotifications.ToDictionary(p => p.Notification.Key);
        Assert.Equal(
            ["inc-aaaaaaaaaaaaaaaa/g0.r0.l0/channel:ops", "inc-aaaaaaaaaaaaaaaa/g0.r0.l0/user:ana/mobile",
             "inc-aaaaaaaaaaaaaaaa/g0.r0.l0/user:ana/phone", "inc-aaaaaaaaaaaaaaaa/g0.r0.l0/user:ana/work"],
            pending.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(T0.AddMinutes(2), pending["inc-aaaaaaaaaaaaaaaa/g0.r0.l0/user:ana/phone"].DueAt);
        Assert.Equal("OPS_SLACK", pending["inc-aaaaaaaaaaaaaaaa/g0.r0.l0/channel:ops"].Notification.DestinationRef);
        Assert.Equal("+15551230001", pending["inc-aaaaaaaaaaaaaaaa/g0.r0.l0/user:ana/mobile"].Notification.Destination);

        var now = incident.DispatchDue(T0, Resend).Select(n => n.Channel).Order();
        Assert.Equal([ChannelKind.Slack, ChannelKind.Email, ChannelKind.Sms], now);
        Assert.Empty(incident.DispatchDue(T0.AddMinutes(1), Resend));
        Assert.Equal(ChannelKind.Voice, Assert.Single(incident.DispatchDue(T0.AddMinutes(2), Resend)).Channel);
    }

    [Fact]
    public void A_page_carries_the_incident_title_once_and_its_severity_apart_for_each_channel_to_show_once()
    {
        var incident = Open(Severity.Sev1);
        incident.Escalate(Config(TwoLevels()), T0);

        foreach (var pending in incident.PendingNotifications)
        {
            Assert.Equal(incident.Title, pending.Notification.Title);
            Assert.DoesNotContain("SEV1", pending.Notification.Title, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(Severity.Sev1, pending.Notification.Severity);
        }
    }

    [Fact]
    public void A_sev3_incident_follows_only_the_rules_for_every_severity()
    {
        var config = Config(TwoLevels());
        var incident = Open(Severity.Sev3);
        incident.Escalate(config, T0);
        Assert.Equal(["channel:ops", "user:ana/work"],
            incident.PendingNotifications.Select(p => p.Notification.Key["inc-aaaaaaaaaaaaaaaa/g0.r0.l0/".Length..]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_page_whose_notifier_silo_is_gone_is_due_again_at_once_and_one_still_alive_waits_for_its_report()
    {
        var config = Config(TwoLevels());
        var incident = Open();
        incident.Escalate(config, T0);
        var handedOver = incident.DispatchDue(T0, Resend, dispatcher: "silo-a").Select(n => n.Key).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(handedOver);
        Assert.False(incident.NotificationsDue(T0.AddSeconds(90)));
        // The journal's back-stop looks a while after the hand-over, though nothing is due before the resend.
        Assert.Equal(T0 + PendingNotification.DispatcherCheckAfter, incident.BackstopWake);
        Assert.True(incident.NextWake > incident.BackstopWake);

        Assert.False(incident.ResendOrphaned(silo => silo != "silo-a", T0.AddSeconds(90)));
        Assert.False(incident.NotificationsDue(T0.AddSeconds(90)));

        Assert.True(incident.ResendOrphaned(silo => silo == "silo-a", T0.AddSeconds(90)));
        var again = incident.DispatchDue(T0.AddSeconds(90), Resend, dispatcher: "silo-b");
        Assert.Equal(handedOver, again.Select(n => n.Key).Order(StringComparer.Ordinal));
        Assert.All(incident.PendingNotifications.Where(p => p.DispatchedAt is not null), p => Assert.Equal("silo-b", p.DispatchedBy));
        // Once every report is in, the back-stop has nothing to look at.
        foreach (var key in handedOver)
            incident.RecordDelivery(new DeliveryReport { Key = key, Delivered = true, Attempts = [] }, T0.AddSeconds(100));
        Assert.Equal(incident.NextWake, incident.BackstopWake);
    }

    [Fact]
    public void Acknowledging_stops_escalation_and_drops_pages_not_yet_sent()
    {
        var config = Config(TwoLevels());
        var incident = Open();
        incident.Escalate(config, T0);
        incident.DispatchDue(T0, Resend);
        _clock.Advance(TimeSpan.FromMinutes(1));
        incident.Acknowledge("ana", _clock.GetUtcNow());

        RunUntil(incident, config, T0.AddHours(1));
        Assert.Single(Steps(incident));
        Assert.DoesNotContain(incident.PendingNotifications, p => p.Notification.Key.EndsWith("/phone"));
        var dropped = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.NotificationCancelled);
        Assert.Equal("inc-aaaaaaaaaaaaaaaa/g0.r0.l0/user:ana/phone", dropped.Data["keys"]);
        Assert.Null(incident.NextWake);
    }

    [Fact]
    public void An_acknowledgement_that_times_out_triggers_the_incident_again_and_escalation_restarts()
    {
        var config = Config(TwoLevels(ackTimeout: TimeSpan.FromMinutes(30)));
        var incident = Open();
        RunUntil(incident, config, T0.AddMinutes(1));
        incident.Acknowledge("ana", _clock.GetUtcNow());
        Assert.Equal(T0.AddMinutes(31), incident.NextWake);

        RunUntil(incident, config, T0.AddMinutes(30).AddSeconds(59));
        Assert.Equal(IncidentStatus.Acknowledged, incident.Status);
        RunUntil(incident, config, T0.AddMinutes(36));

        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        var timedOut = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.AckTimedOut);
        Assert.Equal(T0.AddMinutes(31), timedOut.At);
        Assert.Equal([(T0, "1", "ana"), (T0.AddMinutes(31), "1", "ana"), (T0.AddMinutes(36), "2", "ben,cy")], Steps(incident));
        Assert.Contains(incident.Recorded, e => e.Kind == ChronicleKinds.Escalated && e.Data["step"] == "inc-aaaaaaaaaaaaaaaa/g1.r0.l0");
    }

    [Fact]
    public void The_policy_repeats_as_often_as_it_says_and_then_stops()
    {
        var config = Config(TwoLevels(repeat: 2));
        var incident = Open();
        RunUntil(incident, config, T0.AddDays(1));

        // Level 2 five minutes after level 1; the next round ten minutes after the last level.
        Assert.Equal(
            [(T0, "1", "ana"), (T0.AddMinutes(5), "2", "ben,cy"),
             (T0.AddMinutes(15), "1", "ana"), (T0.AddMinutes(20), "2", "ben,cy"),
             (T0.AddMinutes(30), "1", "ana"), (T0.AddMinutes(35), "2", "ben,cy")],
            Steps(incident));
        Assert.Equal("3", incident.Recorded.Last(e => e.Kind == ChronicleKinds.Escalated).Data["round"]);
        Assert.Null(incident.Escalation.NextAt);
    }

    [Fact]
    public void Overdue_levels_fire_at_once_when_the_incident_wakes_late_and_keep_their_due_times()
    {
        var config = Config(TwoLevels());
        var incident = Open();
        _clock.Advance(TimeSpan.FromMinutes(12)); // the silo was down
        Assert.True(incident.Escalate(config, _clock.GetUtcNow()));

        var steps = incident.Recorded.Where(e => e.Kind == ChronicleKinds.Escalated).ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(steps, s => Assert.Equal(T0.AddMinutes(12), s.At));
        Assert.Equal((T0.AddMinutes(5)).ToString("O"), steps[1].Data["dueAt"]);
        Assert.False(incident.Escalate(config, _clock.GetUtcNow())); // waking again fires nothing twice
    }

    [Fact]
    public void A_schedule_target_pages_whoever_is_on_call_at_that_moment()
    {
        var weekly = new OnCallSchedule
        {
            Id = "primary",
            Layers = [new RotationLayer { Start = new DateTime(2026, 11, 23, 9, 0, 0), TurnLength = TimeSpan.FromDays(7), Users = ["ben", "cy"] }],
            Overrides = [new ScheduleOverride { User = "ana", Start = T0.AddMinutes(4), End = T0.AddMinutes(6) }],
        };
        var policy = new EscalationPolicy
        {
            Id = "sched",
            Levels =
            [
                new EscalationLevel { Targets = [new EscalationTarget(TargetKind.Schedule, "primary")] },
                new EscalationLevel { Delay = TimeSpan.FromMinutes(5), Targets = [new EscalationTarget(TargetKind.Schedule, "primary")] },
            ],
        };
        var config = Config(policy, new OnCallConfig { Schedules = [weekly] });
        var incident = Open();
        RunUntil(incident, config, T0.AddHours(1));
        Assert.Equal([(T0, "1", "ben"), (T0.AddMinutes(5), "2", "ana")], Steps(incident));
    }

    [Fact]
    public void Without_a_policy_the_chronicle_says_nobody_is_paged()
    {
        var incident = Open();
        RunUntil(incident, Config(null), T0.AddHours(1));
        var entry = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.EscalationPolicy);
        Assert.Equal("No escalation policy applies to api: nobody is paged", entry.Text);
        Assert.Empty(Steps(incident));
        Assert.Null(incident.NextWake);
    }

    [Fact]
    public void Escalating_by_hand_pages_the_next_level_now_and_triggers_an_acknowledged_incident_again()
    {
        var config = Config(TwoLevels());
        var incident = Open();
        RunUntil(incident, config, T0.AddMinutes(1));
        incident.Acknowledge("ana", _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromMinutes(1));
        incident.EscalateNow("lead", config, _clock.GetUtcNow());

        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        Assert.Equal([(T0, "1", "ana"), (T0.AddMinutes(2), "2", "ben,cy")], Steps(incident));
        Assert.Equal("inc-aaaaaaaaaaaaaaaa/g0.m1", incident.Recorded.Last(e => e.Kind == ChronicleKinds.Escalated).Data["step"]);
        Assert.Contains(incident.Recorded, e => e.Kind == ChronicleKinds.Retriggered && e.Actor == "lead");
        Assert.Null(incident.Escalation.NextAt); // that was the last level
        Assert.True(incident.Resolve("lead", null, _clock.GetUtcNow()));
        Assert.Throws<IncidentTransitionException>(() => incident.EscalateNow("lead", config, _clock.GetUtcNow()));
    }

    [Fact]
    public void Reassigning_pages_the_new_owner_and_records_who_did_it()
    {
        var config = Config(TwoLevels());
        var incident = Open(Severity.Sev2);
        RunUntil(incident, config, T0);
        _clock.Advance(TimeSpan.FromMinutes(2));
        incident.Reassign("lead", new EscalationTarget(TargetKind.User, "cy"), config, _clock.GetUtcNow());

        Assert.Equal(["cy"], incident.Escalation.Assignees);
        var entry = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.Reassigned);
        Assert.Equal("Reassigned by lead to user:cy (paging cy)", entry.Text);
        Assert.Contains(incident.PendingNotifications, p => p.Notification.Key == "inc-aaaaaaaaaaaaaaaa/g0.a1/user:cy/work" && p.DueAt == T0.AddMinutes(2));
        Assert.Equal(T0.AddMinutes(5), incident.Escalation.NextAt); // the policy carries on
    }

    [Fact]
    public void Reopening_starts_the_policy_over_with_new_step_keys()
    {
        var config = Config(TwoLevels());
        var incident = Open();
        RunUntil(incident, config, T0.AddMinutes(1));
        incident.Resolve("ana", null, _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddMinutes(20));
        incident.Reopen("ana", "came back", _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddMinutes(20));
        Assert.Equal([(T0, "1", "ana"), (T0.AddMinutes(20), "1", "ana")], Steps(incident));
        Assert.Equal("inc-aaaaaaaaaaaaaaaa/g1.r0.l0", incident.Recorded.Last(e => e.Kind == ChronicleKinds.Escalated).Data["step"]);
    }

    [Fact]
    public void Each_delivery_attempt_and_the_outcome_go_on_the_chronicle_once()
    {
        var config = Config(TwoLevels());
        var incident = Open(Severity.Sev3);
        incident.Escalate(config, T0);
        var email = incident.DispatchDue(T0, Resend).Single(n => n.Channel == ChannelKind.Email);
        var report = new DeliveryReport
        {
            Key = email.Key,
            Delivered = false,
            Error = "SMTP 550 mailbox unavailable",
            Attempts =
            [
                new DeliveryAttempt { Number = 1, At = T0, Succeeded = false, Outcome = "SMTP 451", RetryIn = TimeSpan.FromSeconds(2) },
                new DeliveryAttempt { Number = 2, At = T0.AddSeconds(2), Succeeded = false, Outcome = "SMTP 550 mailbox unavailable" },
            ],
        };
        Assert.True(incident.RecordDelivery(report, T0.AddSeconds(3)));
        Assert.False(incident.RecordDelivery(report, T0.AddSeconds(4)));

        var attempts = incident.Recorded.Where(e => e.Kind == ChronicleKinds.NotificationAttempt).ToList();
        Assert.Equal(["Notification to ana by email, attempt 1: SMTP 451; retrying in 2s", "Notification to ana by email, attempt 2: SMTP 550 mailbox unavailable"],
            attempts.Select(a => a.Text));
        Assert.Equal([T0, T0.AddSeconds(2)], attempts.Select(a => a.At));
        var failed = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.NotificationFailed);
        Assert.Equal("Could not notify ana by email: SMTP 550 mailbox unavailable", failed.Text);
        var outcome = Assert.Single(incident.Notifications);
        Assert.False(outcome.Delivered);
        Assert.Equal(2, outcome.Attempts);
        Assert.DoesNotContain(incident.PendingNotifications, p => p.Notification.Key == email.Key);
    }

    [Fact]
    public void Stakeholders_hear_first_within_the_rule_then_at_its_interval_and_once_more_when_it_is_resolved()
    {
        var config = Config(TwoLevels(), new OnCallConfig
        {
            Stakeholders = [new Stakeholder { Id = "cio", Kind = ChannelKind.Email, Address = "cio@customer.example" }],
            StakeholderRules = [new StakeholderRule { Severities = [Severity.Sev1], First = TimeSpan.FromMinutes(15), Every = TimeSpan.FromMinutes(30) }],
        });
        var incident = Open(Severity.Sev1);
        RunUntil(incident, config, T0.AddMinutes(1));
        incident.Acknowledge("ana", T0.AddMinutes(1)); // acknowledging does not keep the customer in the dark
        RunUntil(incident, config, T0.AddMinutes(50));
        _clock.SetUtcNow(T0.AddMinutes(50));
        incident.Resolve("ana", "fixed", _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddHours(3));

        var updates = incident.Recorded.Where(e => e.Kind == ChronicleKinds.StakeholdersUpdated).Select(e => e.At).ToList();
        Assert.Equal([T0.AddMinutes(15), T0.AddMinutes(45), T0.AddMinutes(50)], updates);
        var told = _sent.Where(n => n.Recipient == "cio").ToList();
        Assert.Equal([T0.AddMinutes(15), T0.AddMinutes(45), T0.AddMinutes(50)], told.Select(n => n.CreatedAt));
        Assert.StartsWith("Resolved.", told[^1].Text);
        Assert.Equal(3, incident.Notifications.Count(n => n.Recipient == "cio" && n.Delivered));
    }

    [Fact]
    public void Stakeholders_of_a_sev1_rule_are_told_once_the_incident_becomes_sev1()
    {
        var config = Config(TwoLevels(), new OnCallConfig
        {
            Stakeholders = [new Stakeholder { Id = "cio", Kind = ChannelKind.Email, Address = "cio@customer.example" }],
            StakeholderRules = [new StakeholderRule { Severities = [Severity.Sev1], First = TimeSpan.FromMinutes(15) }],
        });
        var incident = Open(Severity.Sev3);
        RunUntil(incident, config, T0.AddMinutes(20));
        Assert.DoesNotContain(incident.Recorded, e => e.Kind == ChronicleKinds.StakeholdersUpdated);

        incident.Apply(Firing("Outage", Severity.Sev1), _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddHours(2));
        var update = Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.StakeholdersUpdated);
        Assert.Equal(T0.AddMinutes(20), update.At); // already more than 15 minutes since it opened
    }

    private AccountConfig WithStakeholders(params StakeholderRule[] rules) => Config(TwoLevels(), new OnCallConfig
    {
        Stakeholders = [new Stakeholder { Id = "cio", Kind = ChannelKind.Email, Address = "cio@customer.example" }],
        StakeholderRules = rules,
    });

    private static List<DateTimeOffset> StakeholderUpdates(IncidentState incident) =>
        incident.Recorded.Where(e => e.Kind == ChronicleKinds.StakeholdersUpdated).Select(e => e.At).ToList();

    [Fact]
    public void Stakeholders_who_never_heard_of_an_incident_are_not_told_it_is_over()
    {
        var config = WithStakeholders(new StakeholderRule { Severities = [Severity.Sev1], First = TimeSpan.FromMinutes(15), Every = TimeSpan.FromMinutes(30) });
        var incident = Open(Severity.Sev1);
        RunUntil(incident, config, T0.AddMinutes(3));
        incident.Resolve("ana", null, _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddHours(2));
        Assert.Empty(StakeholderUpdates(incident));
        Assert.Null(incident.NextWake);
    }

    [Fact]
    public void A_reopened_incident_is_news_to_stakeholders_at_once()
    {
        var config = WithStakeholders(new StakeholderRule { Severities = [Severity.Sev1], First = TimeSpan.FromMinutes(15), Every = TimeSpan.FromMinutes(30) });
        var incident = Open(Severity.Sev1);
        RunUntil(incident, config, T0.AddMinutes(20));
        incident.Resolve("ana", null, _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddMinutes(30));
        incident.Reopen("ana", "back", _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddMinutes(70));
        // first, resolved, reopened at once, then every 30 minutes again
        Assert.Equal([T0.AddMinutes(15), T0.AddMinutes(20), T0.AddMinutes(30), T0.AddMinutes(60)], StakeholderUpdates(incident));
    }

    [Fact]
    public void A_stricter_rule_brings_the_first_update_forward_when_the_severity_rises()
    {
        var config = WithStakeholders(
            new StakeholderRule { Severities = [Severity.Sev2], First = TimeSpan.FromMinutes(60) },
            new StakeholderRule { Severities = [Severity.Sev1], First = TimeSpan.FromMinutes(15) });
        var incident = Open(Severity.Sev2);
        RunUntil(incident, config, T0.AddMinutes(5));
        Assert.Equal(T0.AddMinutes(60), incident.Escalation.StakeholderNextAt);
        incident.Apply(Firing("Outage", Severity.Sev1), _clock.GetUtcNow());
        RunUntil(incident, config, T0.AddHours(3));
        Assert.Equal([T0.AddMinutes(15)], StakeholderUpdates(incident));
    }

    [Fact]
    public void A_notification_handed_over_is_not_handed_over_again_until_its_report_is_overdue()
    {
        var config = Config(TwoLevels());
        var incident = Open(Severity.Sev3);
        incident.Escalate(config, T0);
        var first = incident.DispatchDue(T0, Resend).Select(n => n.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, first.Count);
        Assert.Empty(incident.DispatchDue(T0.AddMinutes(29), Resend));
        Assert.Equal(T0.AddMinutes(5), incident.NextWake); // level 2 comes first
        Assert.Equal(first, incident.DispatchDue(T0.AddMinutes(30), Resend).Select(n => n.Key).Order(StringComparer.Ordinal));

        incident.RecordDelivery(new DeliveryReport { Key = first[0], Delivered = true, Attempts = [] }, T0.AddMinutes(31));
        Assert.Equal([first[1]], incident.DispatchDue(T0.AddHours(1), Resend).Select(n => n.Key));
    }

    [Fact]
    public void Channel_rate_limits_belong_to_the_account()
    {
        var incident = Open();
        incident.Escalate(Config(TwoLevels()), T0);
        Assert.Equal("acme/channel:ops", incident.PendingNotifications.Single(p => p.Notification.Channel == ChannelKind.Slack).Notification.RateKey);
    }

    [Fact]
    public void A_route_matching_the_first_alert_picks_the_policy_before_the_service_does()
    {
        var dba = new EscalationPolicy { Id = "dba", Levels = [new EscalationLevel { Targets = [new EscalationTarget(TargetKind.Team, "dba")] }] };
        var baseConfig = Config(TwoLevels());
        var config = baseConfig with
        {
            OnCall = baseConfig.OnCall with
            {
                Policies = [.. baseConfig.OnCall.Policies, dba],
                Routes = [new EscalationRoute { Matchers = [LabelMatcher.Parse("alertname=~\"Db.*\"", out _)!, LabelMatcher.Parse("service=\"api\"", out _)!], Policy = "dba" }],
            },
        };
        Assert.Empty(config.Validate());

        var routed = new IncidentState();
        var first = Firing("DbDown", Severity.Sev2);
        routed.Open("inc-bbbbbbbbbbbbbbbb", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, T0);
        routed.Apply(first, T0);
        RunUntil(routed, config, T0);
        Assert.Equal("dba", routed.Escalation.Policy!.Id);
        Assert.Equal(["ben", "cy"], routed.Escalation.Assignees);

        var other = Open(Severity.Sev2); // alertname Down: no route matches, the default policy applies
        RunUntil(other, config, T0);
        Assert.Equal("standard", other.Escalation.Policy!.Id);

        var broken = config with { OnCall = config.OnCall with { Routes = [new EscalationRoute { Matchers = [], Policy = "nope" }] } };
        Assert.Equal(
            ["escalation.routes[0].matchers: a route needs at least one matcher", "escalation.routes[0].policy: 'nope' is not a declared escalation policy"],
            broken.Validate());
    }
}
