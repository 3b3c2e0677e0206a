namespace OrleansOps.Domain;

/// <summary>Where an incident is in its escalation policy. Every step has a key, so a step fires once however often the incident wakes.</summary>
[GenerateSerializer]
public sealed class EscalationProgress
{
    /// <summary>The policy as it was when the incident first escalated; null when none applies.</summary>
    [Id(0)] public EscalationPolicy? Policy { get; set; }
    /// <summary>Whether the policy has been looked up (the incident opens before it knows its account's configuration).</summary>
    [Id(1)] public bool PolicyChosen { get; set; }
    /// <summary>Counts restarts (acknowledgement timeout, reopen, a new policy), so each pass has its own step keys.</summary>
    [Id(2)] public int Generation { get; set; }
    [Id(3)] public int Round { get; set; }
    /// <summary>The level that fires next; equal to the number of levels once the policy is exhausted.</summary>
    [Id(4)] public int NextLevel { get; set; }
    /// <summary>When the next level is due; null while acknowledged, resolved, exhausted or without a policy.</summary>
    [Id(5)] public DateTimeOffset? NextAt { get; set; }
    [Id(6)] public DateTimeOffset? AckTimeoutAt { get; set; }
    /// <summary>The users the last step reached.</summary>
    [Id(7)] public List<string> Assignees { get; set; } = [];
    /// <summary>Counts manual steps (escalate, reassign), for their keys.</summary>
    [Id(8)] public int ManualSteps { get; set; }
    /// <summary>When the stakeholder rules must be looked at again (the incident opened or its severity changed).</summary>
    [Id(9)] public DateTimeOffset? StakeholderReviewAt { get; set; }
    [Id(10)] public DateTimeOffset? StakeholderNextAt { get; set; }
    [Id(11)] public int StakeholderUpdates { get; set; }
}

/// <summary>A notification waiting to be sent (a delayed contact rule) or sent and not yet reported on.</summary>
[GenerateSerializer]
public sealed class PendingNotification
{
    [Id(0)] public required Notification Notification { get; init; }
    [Id(1)] public required DateTimeOffset DueAt { get; init; }
    [Id(2)] public DateTimeOffset? DispatchedAt { get; set; }
    /// <summary>A page that has not gone out yet is dropped when someone acknowledges; an update to stakeholders is not.</summary>
    [Id(3)] public bool IsPage { get; init; }
    /// <summary>When to hand it over again if no report has come back by then (the notifier's silo died while sending).</summary>
    [Id(4)] public DateTimeOffset? ResendAt { get; set; }
    /// <summary>The silo whose notifier it was handed to: once that silo is gone, no report can come back.</summary>
    [Id(5)] public string? DispatchedBy { get; set; }

    /// <summary>
    /// How long after a hand-over the journal's back-stop first looks whether the notifier's silo still lives (and then
    /// at each of its rounds until the report comes): a crash between the hand-over and the send would otherwise leave
    /// the page unsent until <see cref="ResendAt"/>.
    /// </summary>
    public static readonly TimeSpan DispatcherCheckAfter = TimeSpan.FromMinutes(1);

    public DateTimeOffset NextDue => DispatchedAt is null ? DueAt : ResendAt ?? DateTimeOffset.MaxValue;

    public DateTimeOffset? DispatcherCheckAt => DispatchedBy is null ? null : DispatchedAt + DispatcherCheckAfter;
}

/// <summary>How a notification ended, kept on the incident so that an undeliverable one is visible there.</summary>
[GenerateSerializer, Immutable]
public sealed record NotificationOutcome
{
    [Id(0)] public required string Key { get; init; }
    [Id(1)] public required ChannelKind Channel { get; init; }
    [Id(2)] public required string Recipient { get; init; }
    [Id(3)] public required bool Delivered { get; init; }
    [Id(4)] public required int Attempts { get; init; }
    [Id(5)] public string? Error { get; init; }
    [Id(6)] public required DateTimeOffset At { get; init; }
}

public sealed partial class IncidentState
{
    [Id(20)] public EscalationProgress Escalation { get; set; } = new();
    [Id(21)] public List<PendingNotification> PendingNotifications { get; set; } = [];
    [Id(22)] public List<NotificationOutcome> Notifications { get; set; } = [];

    /// <summary>Outcomes kept on the incident: the latest ones; the chronicle keeps every one.</summary>
    public const int MaxNotificationOutcomes = 200;

    /// <summary>The next moment something is due by itself: an alert expiry, an escalation level, an acknowledgement timeout, a notification or a stakeholder update.</summary>
    public DateTimeOffset? NextWake => Earliest(
        NextExpiry,
        Status == IncidentStatus.Triggered ? Escalation.NextAt : null,
        Status == IncidentStatus.Acknowledged ? Escalation.AckTimeoutAt : null,
        Status != IncidentStatus.Resolved ? Escalation.StakeholderReviewAt : null,
        Escalation.StakeholderNextAt, // after the resolve too: the last update says it is over
        NextClockDue,
        NextTicketRetry,
        NextNotificationDue);

    /// <summary>
    /// <see cref="NextWake"/> for the journal's back-stop, which also looks whether the silo a notification was handed
    /// to still lives (see <see cref="PendingNotification.DispatcherCheckAfter"/>).
    /// </summary>
    public DateTimeOffset? BackstopWake
    {
        get
        {
            var next = NextWake;
            foreach (var pending in PendingNotifications) next = Earliest(next, pending.DispatcherCheckAt);
            return next;
        }
    }

    private DateTimeOffset? NextNotificationDue
    {
        get
        {
            DateTimeOffset? next = null;
            foreach (var pending in PendingNotifications) next = Earliest(next, pending.NextDue);
            return next;
        }
    }

    /// <summary>Whether the account's configuration is needed to act on what is due at <paramref name="now"/>.</summary>
    public bool EscalationDue(DateTimeOffset now) =>
        (Status == IncidentStatus.Triggered && Escalation.NextAt <= now)
        || (Status == IncidentStatus.Acknowledged && Escalation.AckTimeoutAt <= now)
        || (Status != IncidentStatus.Resolved && Escalation.StakeholderReviewAt <= now)
        || Escalation.StakeholderNextAt <= now
        || NextClockDue <= now;

    /// <summary>Fires what is due: an acknowledgement that timed out, escalation levels, stakeholder updates. Returns whether anything changed.</summary>
    public bool Escalate(AccountConfig config, DateTimeOffset now)
    {
        var changed = false;
        if (Status == IncidentStatus.Acknowledged && Escalation.AckTimeoutAt is { } timeout && timeout <= now)
        {
            Status = IncidentStatus.Triggered;
            var text = $"Acknowledgement by {AcknowledgedBy} timed out after {Durations.Format(Escalation.Policy!.AckTimeout)}; escalation starts again";
            AcknowledgedAt = null;
            AcknowledgedBy = null;
            Record(now, ChronicleKinds.AckTimedOut, "escalation", text);
            RestartEscalation(now);
            changed = true;
        }
        if (Status == IncidentStatus.Triggered && Escalation.NextAt <= now)
        {
            if (!Escalation.PolicyChosen) ChoosePolicy(PolicyIn(config), now);
            while (Status == IncidentStatus.Triggered && Escalation is { Policy: { } policy, NextAt: { } due } && due <= now)
                FireLevel(policy, config.OnCall, now);
            changed = true;
        }
        changed |= ReviewClocks(config, now);
        changed |= StartTicketSync(config.Itsm, now);
        return ReviewStakeholders(config.OnCall, now) | changed;
    }

    /// <summary>Pages the next level now (or the last again, once the policy is exhausted). Acknowledged incidents are triggered again.</summary>
    /// <exception cref="IncidentTransitionException">When resolved, or when no policy applies.</exception>
    public void EscalateNow(string actor, AccountConfig config, DateTimeOffset now)
    {
        if (Status == IncidentStatus.Resolved) throw new IncidentTransitionException($"Incident {Id} is resolved; reopen it before escalating.");
        if ((Escalation.PolicyChosen ? Escalation.Policy : PolicyIn(config)) is null)
            throw new IncidentTransitionException($"Incident {Id} has no escalation policy to escalate through; reassign it instead.");
        if (!Escalation.PolicyChosen) ChoosePolicy(PolicyIn(config), now);
        var policy = Escalation.Policy!;
        Retrigger(actor, now);
        var level = Math.Min(Escalation.NextLevel, policy.Levels.Count - 1);
        Page(policy, level, $"m{++Escalation.ManualSteps}", config.OnCall, now, actor);
        Advance(policy, level, now);
    }

    /// <summary>Hands the incident to <paramref name="target"/> and pages it now; an acknowledged incident is triggered again for its new owner.</summary>
    /// <exception cref="IncidentTransitionException">When resolved.</exception>
    public void Reassign(string actor, EscalationTarget target, AccountConfig config, DateTimeOffset now)
    {
        if (Status == IncidentStatus.Resolved) throw new IncidentTransitionException($"Incident {Id} is resolved; reopen it before reassigning.");
        if (!Escalation.PolicyChosen) ChoosePolicy(PolicyIn(config), now);
        var wasAcknowledged = Retrigger(actor, now);
        var step = $"{Id}/g{Escalation.Generation}.a{++Escalation.ManualSteps}";
        var reached = Reach([target], config.OnCall, now);
        Escalation.Assignees = reached.Users.ToList();
        Record(now, ChronicleKinds.Reassigned, actor, $"Reassigned by {actor} to {target}{Described(reached)}",
            new Dictionary<string, string> { ["step"] = step, ["target"] = target.ToString(), ["assignees"] = string.Join(",", reached.Users) });
        QueuePages(step, reached, config.OnCall, $"Reassigned to you by {actor}", now);
        if (wasAcknowledged && Escalation.Policy is { } policy && Escalation.NextLevel < policy.Levels.Count)
            Escalation.NextAt = now + policy.Levels[Escalation.NextLevel].Delay;
    }

    public bool NotificationsDue(DateTimeOffset now) => PendingNotifications.Any(p => p.NextDue <= now);

    /// <summary>
    /// Notifications due at <paramref name="now"/>, marked handed over: saved with that mark before they are sent, so
    /// a new activation does not send them again; only one whose report has not come back after
    /// <paramref name="resendAfter"/> (or whose <paramref name="dispatcher"/> silo is gone, see
    /// <see cref="ResendOrphaned"/>) goes out again, under the same key.
    /// </summary>
    public IReadOnlyList<Notification> DispatchDue(DateTimeOffset now, TimeSpan resendAfter, string? dispatcher = null)
    {
        var due = PendingNotifications.Where(p => p.NextDue <= now).ToList();
        foreach (var pending in due)
        {
            pending.DispatchedAt = now;
            pending.ResendAt = now + resendAfter;
            pending.DispatchedBy = dispatcher;
        }
        return due.Select(p => p.Notification).ToList();
    }

    /// <summary>
    /// Makes due now the notifications handed to a silo that is gone without reporting: it died sending them, or
    /// before it could say it had, and nobody else will. Returns whether there were any.
    /// </summary>
    public bool ResendOrphaned(Func<string, bool> dispatcherGone, DateTimeOffset now)
    {
        var orphaned = false;
        foreach (var pending in PendingNotifications)
        {
            if (pending is not { DispatchedBy: { } silo, ResendAt: { } resendAt } || resendAt <= now || !dispatcherGone(silo)) continue;
            pending.ResendAt = now;
            orphaned = true;
        }
        return orphaned;
    }

    /// <summary>Records how a notification went, each attempt on the chronicle; false for a report already recorded.</summary>
    public bool RecordDelivery(DeliveryReport report, DateTimeOffset now)
    {
        var pending = PendingNotifications.FirstOrDefault(p => p.Notification.Key == report.Key);
        if (pending is null) return false;
        PendingNotifications.Remove(pending);
        var notification = pending.Notification;
        var to = $"{notification.Recipient} by {notification.Channel.ToWire()}";
        foreach (var attempt in report.Attempts)
        {
            var data = new Dictionary<string, string>
            {
                ["key"] = report.Key,
                ["channel"] = notification.Channel.ToWire(),
                ["recipient"] = notification.Recipient,
                ["attempt"] = attempt.Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["outcome"] = attempt.Outcome,
            };
            if (attempt.RetryIn is { } retry) data["retryIn"] = Durations.Format(retry);
            Record(attempt.At, ChronicleKinds.NotificationAttempt, "notifier",
                $"Notification to {to}, attempt {attempt.Number}: {attempt.Outcome}" + (attempt.RetryIn is { } wait ? $"; retrying in {Durations.Format(wait)}" : ""), data);
        }
        var outcome = new NotificationOutcome
        {
            Key = report.Key,
            Channel = notification.Channel,
            Recipient = notification.Recipient,
            Delivered = report.Delivered,
            Attempts = report.Attempts.Count,
            Error = report.Error,
            At = now,
        };
        AddOutcome(outcome);
        (_newOutcomes ??= []).Add(outcome);
        var final = new Dictionary<string, string> { ["key"] = report.Key, ["attempts"] = outcome.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (report.Error is { } error) final["error"] = error;
        Record(now, report.Delivered ? ChronicleKinds.NotificationDelivered : ChronicleKinds.NotificationFailed, "notifier",
            report.Delivered ? $"Notified {to}" : $"Could not notify {to}: {report.Error ?? "every attempt failed"}", final);
        return true;
    }

    private void AddOutcome(NotificationOutcome outcome)
    {
        Notifications.Add(outcome);
        if (Notifications.Count > MaxNotificationOutcomes) Notifications.RemoveRange(0, Notifications.Count - MaxNotificationOutcomes);
    }

    private void StartEscalation(DateTimeOffset now)
    {
        Escalation = new EscalationProgress { NextAt = now, StakeholderReviewAt = now };
    }

    /// <summary>Acknowledging stops the policy, drops pages not yet sent, and starts the acknowledgement timeout.</summary>
    private void StopForAcknowledgement(DateTimeOffset now)
    {
        StopClocks(ClockKind.Response, now);
        Escalation.NextAt = null;
        Escalation.AckTimeoutAt = Escalation.Policy is { AckTimeout: var timeout } && timeout > TimeSpan.Zero ? now + timeout : null;
        CancelPending(p => p.IsPage, "acknowledged", now);
    }

    private void StopForResolution(DateTimeOffset now)
    {
        StopClocks(null, now);
        Escalation.NextAt = null;
        Escalation.AckTimeoutAt = null;
        CancelPending(p => p.IsPage, "resolved", now);
        // Stakeholders who heard of it hear that it is over; those who never did are not told now.
        Escalation.StakeholderNextAt = Escalation.StakeholderUpdates > 0 ? now : null;
        Escalation.StakeholderReviewAt = null;
    }

    private void RestartEscalation(DateTimeOffset now)
    {
        Escalation.Generation++;
        Escalation.Round = 0;
        Escalation.NextLevel = 0;
        Escalation.AckTimeoutAt = null;
        Escalation.NextAt = Escalation is { PolicyChosen: true, Policy: { } policy } ? now + policy.Levels[0].Delay
            : Escalation.PolicyChosen ? null : now;
        Escalation.StakeholderReviewAt = now;
    }

    /// <returns>Whether the incident was acknowledged.</returns>
    private bool Retrigger(string actor, DateTimeOffset now)
    {
        if (Status != IncidentStatus.Acknowledged) return false;
        Status = IncidentStatus.Triggered;
        AcknowledgedAt = null;
        AcknowledgedBy = null;
        Escalation.AckTimeoutAt = null;
        Record(now, ChronicleKinds.Retriggered, actor, $"Triggered again by {actor}");
        return true;
    }

    /// <summary>The policy this incident follows under <paramref name="config"/>, by its service and its first alert's labels.</summary>
    private EscalationPolicy? PolicyIn(AccountConfig config) =>
        config.PolicyFor(Service, _ordered.FirstOrDefault()?.Labels ?? new Dictionary<string, string>());

    private void ChoosePolicy(EscalationPolicy? policy, DateTimeOffset now)
    {
        Escalation.PolicyChosen = true;
        Escalation.Policy = policy;
        if (policy is null)
        {
            Escalation.NextAt = null;
            Record(now, ChronicleKinds.EscalationPolicy, "escalation", $"No escalation policy applies to {Service}: nobody is paged");
            return;
        }
        // The first level's delay counts from when the incident triggered, not from when the policy was looked up.
        Escalation.NextAt = (Escalation.NextAt ?? now) + policy.Levels[0].Delay;
        Record(now, ChronicleKinds.EscalationPolicy, "escalation", $"Escalation follows policy {policy.Name ?? policy.Id}",
            new Dictionary<string, string> { ["policy"] = policy.Id });
    }

    private void FireLevel(EscalationPolicy policy, OnCallConfig oncall, DateTimeOffset now)
    {
        var level = Escalation.NextLevel;
        Page(policy, level, $"r{Escalation.Round}.l{level}", oncall, now);
        Advance(policy, level, Escalation.NextAt ?? now);
    }

    /// <summary>Pages one level of the policy under step <paramref name="stepName"/>.</summary>
    private void Page(EscalationPolicy policy, int level, string stepName, OnCallConfig oncall, DateTimeOffset now, string? byHand = null)
    {
        var step = $"{Id}/g{Escalation.Generation}.{stepName}";
        var reached = Reach(policy.Levels[level].Targets, oncall, now);
        Escalation.Assignees = reached.Users.ToList();
        var data = new Dictionary<string, string>
        {
            ["step"] = step,
            ["policy"] = policy.Id,
            ["level"] = (level + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["round"] = (Escalation.Round + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["targets"] = string.Join(",", policy.Levels[level].Targets),
            ["assignees"] = string.Join(",", reached.Users),
        };
        if (Escalation.NextAt is { } due && due < now) data["dueAt"] = due.ToString("O");
        var round = Escalation.Round > 0 ? $", round {Escalation.Round + 1}" : "";
        Record(now, ChronicleKinds.Escalated, byHand ?? "escalation",
            $"Escalated {(byHand is null ? "" : $"by {byHand} ")}to level {level + 1} of {policy.Name ?? policy.Id}{round}: {string.Join(", ", policy.Levels[level].Targets)}{Described(reached)}", data);
        QueuePages(step, reached, oncall, $"Escalation level {level + 1} of {policy.Name ?? policy.Id}", now);
    }

    /// <summary>Moves past <paramref name="level"/>: the next level after its delay, the first again after the repeat wait, or the end.</summary>
    private void Advance(EscalationPolicy policy, int level, DateTimeOffset firedAt)
    {
        if (level + 1 < policy.Levels.Count)
        {
            Escalation.NextLevel = level + 1;
            Escalation.NextAt = firedAt + policy.Levels[level + 1].Delay;
        }
        else if (Escalation.Round < policy.Repeat)
        {
            Escalation.Round++;
            Escalation.NextLevel = 0;
            Escalation.NextAt = firedAt + policy.RepeatAfter + policy.Levels[0].Delay;
        }
        else
        {
            Escalation.NextLevel = policy.Levels.Count;
            Escalation.NextAt = null;
        }
    }

    internal sealed record Reached(IReadOnlyList<string> Users, IReadOnlyList<ChannelDefinition> Channels, IReadOnlyList<string> Empty);

    /// <summary>The users (schedules resolved at <paramref name="now"/>, teams expanded) and channels the targets stand for.</summary>
    internal static Reached Reach(IEnumerable<EscalationTarget> targets, OnCallConfig oncall, DateTimeOffset now)
    {
        var users = new List<string>();
        var channels = new List<ChannelDefinition>();
        var empty = new List<string>();
        foreach (var target in targets)
        {
            IEnumerable<string> found = target.Kind switch
            {
                TargetKind.User => oncall.Users.Any(u => u.Id == target.Id) ? [target.Id] : [],
                TargetKind.Team => oncall.Teams.FirstOrDefault(t => t.Id == target.Id)?.Members ?? [],
                TargetKind.Schedule => oncall.Schedules.FirstOrDefault(s => s.Id == target.Id)?.OnCallAt(now) ?? [],
                _ => [],
            };
            if (target.Kind == TargetKind.Channel && oncall.Channels.FirstOrDefault(c => c.Id == target.Id) is { } channel) channels.Add(channel);
            else if (target.Kind != TargetKind.Channel && found.Any()) users.AddRange(found);
            else empty.Add(target.ToString());
        }
        return new Reached(users.Distinct(StringComparer.Ordinal).ToList(), channels, empty);
    }

    private static string Described(Reached reached)
    {
        var parts = new List<string>();
        if (reached.Users.Count > 0) parts.Add("paging " + string.Join(", ", reached.Users));
        if (reached.Empty.Count > 0) parts.Add("nobody reached through " + string.Join(", ", reached.Empty));
        return parts.Count == 0 ? "" : " (" + string.Join("; ", parts) + ")";
    }

    /// <summary>One notification per user contact rule (delayed as the rule says) and per channel, keyed by step.</summary>
    private void QueuePages(string step, Reached reached, OnCallConfig oncall, string why, DateTimeOffset now)
    {
        foreach (var userId in reached.Users)
        {
            if (oncall.Users.FirstOrDefault(u => u.Id == userId) is not { } user) continue;
            var pages = user.PagesFor(Severity).ToList();
            if (pages.Count == 0) Record(now, ChronicleKinds.NotificationFailed, "escalation", $"{userId} has no contact method for {Severity.ToWire()}");
            foreach (var (contact, delay) in pages)
                Queue(Message($"{step}/user:{userId}/{contact.Id}", contact.Kind, userId, contact.Address, null, null, 0, contact.Kind.ToWire(), why, now), now + delay, isPage: true);
        }
        foreach (var channel in reached.Channels)
            Queue(ToChannel($"{step}/channel:{channel.Id}", channel, why, now), now, isPage: true);
    }

    /// <summary>Decides when stakeholders hear next: the rule for the current severity, first within its delay of opening, then at its interval.</summary>
    private bool ReviewStakeholders(OnCallConfig oncall, DateTimeOffset now)
    {
        var changed = false;
        var rule = oncall.StakeholderRules.FirstOrDefault(r => r.Severities.Contains(Severity));
        if (Escalation.StakeholderReviewAt <= now)
        {
            // The first update is due the rule's delay after opening (at once if the incident became that severe
            // later); a reopened incident, whose stakeholders heard it was over, is news at once.
            Escalation.StakeholderReviewAt = null;
            if (rule is not null && Status != IncidentStatus.Resolved)
            {
                var next = Escalation.StakeholderUpdates == 0 ? OpenedAt + rule.First : Escalation.StakeholderNextAt ?? now;
                if (Escalation.StakeholderNextAt is not { } planned || next < planned) Escalation.StakeholderNextAt = next;
            }
            changed = true;
        }
        if (Escalation.StakeholderNextAt is { } due && due <= now)
        {
            var resolved = Status == IncidentStatus.Resolved;
            var update = ++Escalation.StakeholderUpdates;
            var why = resolved ? "Resolved" : update == 1 ? "Incident update" : $"Incident update {update}";
            foreach (var stakeholder in oncall.Stakeholders)
            {
                var key = $"{Id}/stakeholders.u{update}/{stakeholder.Id}";
                var message = oncall.Channels.FirstOrDefault(c => c.Id == stakeholder.Address) is { } channel && stakeholder.Kind is not (ChannelKind.Email or ChannelKind.Sms or ChannelKind.Voice)
                    ? ToChannel(key, channel, why, now) with { Recipient = stakeholder.Id }
                    : Message(key, stakeholder.Kind, stakeholder.Id, stakeholder.Address, null, null, 0, stakeholder.Kind.ToWire(), why, now);
                Queue(message, now, isPage: false);
            }
            Record(now, ChronicleKinds.StakeholdersUpdated, "escalation",
                $"Stakeholder update {update} queued for {string.Join(", ", oncall.Stakeholders.Select(s => s.Id))}",
                new Dictionary<string, string> { ["update"] = update.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            Escalation.StakeholderNextAt = !resolved && rule is { Every: var every } && every > TimeSpan.Zero ? due + every : null;
            changed = true;
        }
        return changed;
    }

    private Notification ToChannel(string key, ChannelDefinition channel, string why, DateTimeOffset now) =>
        Message(key, channel.Kind, channel.Id, channel.Url, channel.UrlRef, channel.SecretRef, channel.RatePerMinute, $"{AccountId}/channel:{channel.Id}", why, now);

    private Notification Message(string key, ChannelKind kind, string recipient, string? destination, string? destinationRef, string? secretRef,
        int ratePerMinute, string rateKey, string why, DateTimeOffset now)
    {
        return new Notification
        {
            Key = key,
            IncidentId = Id!,
            AccountId = AccountId,
            Channel = kind,
            Recipient = recipient,
            Destination = destination,
            DestinationRef = destinationRef,
            SecretRef = secretRef,
            RatePerMinute = ratePerMinute,
            RateKey = rateKey,
            Title = Title, // each channel puts the severity in front of it, once
            Text = $"{why}. {Status} on {Service}: {_firing} of {Alerts.Count} alerts firing. Incident {Id}.",
            Severity = Severity,
            Status = Status,
            Service = Service,
            CreatedAt = now,
        };
    }

    private void Queue(Notification notification, DateTimeOffset dueAt, bool isPage)
    {
        if (PendingNotifications.Any(p => p.Notification.Key == notification.Key)) return;
        PendingNotifications.Add(new PendingNotification { Notification = notification, DueAt = dueAt, IsPage = isPage });
    }

    private void CancelPending(Func<PendingNotification, bool> which, string why, DateTimeOffset now)
    {
        var cancelled = PendingNotifications.Where(p => p.DispatchedAt is null && which(p)).ToList();
        if (cancelled.Count == 0) return;
        foreach (var pending in cancelled) PendingNotifications.Remove(pending);
        Record(now, ChronicleKinds.NotificationCancelled, "escalation",
            $"{cancelled.Count} pending notification{(cancelled.Count == 1 ? "" : "s")} dropped: {why}",
            new Dictionary<string, string> { ["keys"] = string.Join(",", cancelled.Select(p => p.Notification.Key)) });
    }

    /// <summary>The earliest of <paramref name="times"/> that are set; computed on every change, so without LINQ's allocations.</summary>
    private static DateTimeOffset? Earliest(params ReadOnlySpan<DateTimeOffset?> times)
    {
        DateTimeOffset? earliest = null;
        foreach (var time in times)
            if (time is { } at && !(earliest <= at)) earliest = at;
        return earliest;
    }
}
