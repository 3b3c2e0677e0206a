using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

public sealed class IncidentStateTests
{
    private static readonly IncidentOrigin Origin = new() { AccountId = "acme", Service = "api", GroupKey = "{alertname=\"Down\"}" };

    private static IncidentState Opened(NormalizedAlert first)
    {
        var incident = new IncidentState();
        incident.Open("inc-aaaaaaaaaaaaaaaa", Origin, first, T0);
        Assert.Equal(AlertOutcome.Applied, incident.Apply(first, T0));
        return incident;
    }

    [Fact]
    public void Opening_records_the_first_alert()
    {
        var incident = Opened(Firing("Down", Severity.Sev2, startsAt: T0.AddMinutes(-3)));
        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        Assert.Equal(Severity.Sev2, incident.Severity);
        Assert.Equal(T0, incident.OpenedAt);
        Assert.Equal(T0.AddMinutes(-3), incident.StartedAt);
        Assert.Equal([ChronicleKinds.Opened, ChronicleKinds.AlertAttached], incident.Recorded.Select(e => e.Kind));
    }

    [Fact]
    public void The_summary_names_each_service_the_incident_spans_with_its_worst_severity_and_when_that_first_joined()
    {
        var incident = Opened(Firing("Down", Severity.Sev1));
        incident.Apply(Firing("Errors", Severity.Sev3) with { Service = "web", ReceivedAt = T0.AddMinutes(1) }, T0.AddMinutes(1));
        incident.Apply(Firing("Timeouts", Severity.Sev2, instance: "b") with { Service = "web", ReceivedAt = T0.AddMinutes(2) }, T0.AddMinutes(2));

        Assert.Equal(
            [new ServiceSpan("api", T0, Severity.Sev1), new ServiceSpan("web", T0.AddMinutes(2), Severity.Sev2)],
            incident.Summarize().Services.Items);
    }

    [Fact]
    public void An_alert_keeps_its_times_as_instants_in_utc_and_its_missing_ones_as_none()
    {
        var at = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.FromHours(2));
        var alert = new IncidentAlert { Fingerprint = "f", Labels = new Dictionary<string, string>(), Source = "test", StartsAt = at, FirstSeen = at };

        Assert.Equal(at, alert.StartsAt);
        Assert.Equal(TimeSpan.Zero, alert.StartsAt.Offset);
        Assert.Equal(at, alert.FirstSeen);
        Assert.Null(alert.EndsAt);
        Assert.Null(alert.ExpiresAt);
        alert.EndsAt = at.AddMinutes(5);
        Assert.Equal(at.AddMinutes(5), alert.EndsAt);
        alert.EndsAt = null;
        Assert.Null(alert.EndsAt);
    }

    [Fact]
    public void Repeats_only_count()
    {
        var alert = Firing("Down");
        var incident = Opened(alert);
        var entries = incident.Recorded.Count;
        Assert.Equal(AlertOutcome.Repeated, incident.Apply(alert, T0.AddMinutes(1)));
        Assert.Equal(AlertOutcome.Repeated, incident.Apply(alert, T0.AddMinutes(2)));
        var record = Assert.Single(incident.Alerts.Values);
        Assert.Equal(3, record.Count);
        Assert.Equal(T0.AddMinutes(2), record.LastSeen);
        Assert.Equal(entries, incident.Recorded.Count);
    }

    [Fact]
    public void Resolving_the_last_alert_resolves_the_incident_at_the_senders_end_time()
    {
        var a = Firing("Down", instance: "a");
        var b = Firing("Down", instance: "b");
        var incident = Opened(a);
        incident.Apply(b, T0);
        incident.Apply(a.Resolved(T0.AddMinutes(4)), T0.AddMinutes(10));
        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        incident.Apply(b.Resolved(T0.AddMinutes(6)), T0.AddMinutes(10));
        Assert.Equal(IncidentStatus.Resolved, incident.Status);
        Assert.Equal(T0.AddMinutes(6), incident.ResolvedAt);
        Assert.Equal("auto", incident.ResolvedBy);
        Assert.Equal(ChronicleKinds.Resolved, incident.Recorded[^1].Kind);
        Assert.Equal(T0.AddMinutes(6).ToString("O"), incident.Recorded[^1].Data["resolvedAt"]);
    }

    [Fact]
    public void End_times_are_kept_within_sanity_bounds()
    {
        var alert = Firing("Down", startsAt: T0);
        var future = Opened(alert);
        future.Apply(alert.Resolved(T0.AddDays(3)), T0.AddMinutes(5));
        Assert.Equal(T0.AddMinutes(5), future.ResolvedAt);

        var beforeStart = Opened(alert);
        beforeStart.Apply(alert.Resolved(T0.AddHours(-2)), T0.AddMinutes(5));
        Assert.Equal(T0, beforeStart.ResolvedAt);
    }

    [Fact]
    public void A_resolved_incident_rejects_new_firings_as_a_new_occurrence()
    {
        var alert = Firing("Down");
        var incident = Opened(alert);
        incident.Apply(alert.Resolved(T0.AddMinutes(1)), T0.AddMinutes(1));
        Assert.Equal(AlertOutcome.Rejected, incident.Apply(alert, T0.AddMinutes(2)));
        Assert.Equal(AlertOutcome.Ignored, incident.Apply(alert.Resolved(T0.AddMinutes(3)), T0.AddMinutes(3)));
    }

    [Fact]
    public void An_alert_that_fires_again_while_the_incident_is_open_is_recorded_as_refired()
    {
        var a = Firing("Down", instance: "a");
        var incident = Opened(a);
        incident.Apply(Firing("Down", instance: "b"), T0);
        incident.Apply(a.Resolved(T0.AddMinutes(1)), T0.AddMinutes(1));
        Assert.Equal(AlertOutcome.Applied, incident.Apply(a, T0.AddMinutes(2)));
        Assert.Equal(ChronicleKinds.AlertRefired, incident.Recorded[^1].Kind);
        Assert.Equal(2, incident.Alerts[a.Fingerprint].Occurrences);
        Assert.Equal(AlertStatus.Firing, incident.Alerts[a.Fingerprint].Status);
    }

    [Fact]
    public void Severity_rises_with_a_more_severe_alert_and_never_falls_by_itself()
    {
        var incident = Opened(Firing("Down", Severity.Sev3));
        incident.Apply(Firing("Down", Severity.Sev1, instance: "b"), T0);
        Assert.Equal(Severity.Sev1, incident.Severity);
        incident.Apply(Firing("Down", Severity.Sev4, instance: "c"), T0);
        Assert.Equal(Severity.Sev1, incident.Severity);
        Assert.Equal(["sev1"], incident.Recorded.Where(e => e.Kind == ChronicleKinds.SeverityChanged).Select(e => e.Data["to"]));
    }

    [Fact]
    public void Acknowledge_resolve_reopen_follow_the_state_machine()
    {
        var incident = Opened(Firing("Down"));
        Assert.True(incident.Acknowledge("ana", T0.AddMinutes(1)));
        Assert.False(incident.Acknowledge("bob", T0.AddMinutes(2)));
        Assert.Equal("ana", incident.AcknowledgedBy);
        Assert.Equal(T0.AddMinutes(1), incident.AcknowledgedAt);

        Assert.True(incident.Resolve("ana", "restarted the pod", T0.AddMinutes(5)));
        Assert.False(incident.Resolve("ana", null, T0.AddMinutes(6)));
        Assert.Equal(T0.AddMinutes(5), incident.ResolvedAt);
        Assert.Throws<IncidentTransitionException>(() => incident.Acknowledge("bob", T0.AddMinutes(7)));

        incident.Reopen("bob", "still failing", T0.AddMinutes(8));
        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        Assert.Null(incident.ResolvedAt);
        Assert.Throws<IncidentTransitionException>(() => incident.Reopen("bob", null, T0.AddMinutes(9)));

        Assert.Equal(
            [ChronicleKinds.Opened, ChronicleKinds.AlertAttached, ChronicleKinds.Acknowledged, ChronicleKinds.Resolved, ChronicleKinds.Reopened],
            incident.Recorded.Select(e => e.Kind));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], incident.Recorded.Select(e => e.Seq));
        Assert.True(Chronicle.Verify(incident.Recorded).Valid);
    }

    [Fact]
    public void A_sender_acknowledgement_acknowledges_a_triggered_incident_once()
    {
        var alert = Firing("Down");
        var incident = Opened(alert);
        Assert.Equal(AlertOutcome.Applied, incident.Apply(alert.Acknowledging(), T0.AddMinutes(1)));
        Assert.Equal(IncidentStatus.Acknowledged, incident.Status);
        Assert.Equal(AlertOutcome.Ignored, incident.Apply(alert.Acknowledging(), T0.AddMinutes(2)));
    }

    [Fact]
    public void A_change_holds_new_alerts_whole_and_the_progress_of_others_and_repeats_wait_unless_taken_with_it()
    {
        var a = Firing("Down", instance: "a");
        var incident = Opened(a);
        var (opened, entries) = incident.TakeChange(withRepeats: false, extras: null);
        Assert.Equal([a.Fingerprint], opened.Attached!.Select(x => x.Fingerprint));
        Assert.Equal("inc-aaaaaaaaaaaaaaaa", opened.Identity!.Id);
        Assert.Equal([ChronicleKinds.Opened, ChronicleKinds.AlertAttached], entries.Select(e => e.Kind));
        Assert.Equal((2L, entries[^1].Hash), (opened.Progress.ChronicleSeq, opened.Progress.ChronicleHash));
        Assert.Empty(incident.Recorded);

        Assert.Equal(AlertOutcome.Repeated, incident.Apply(a, T0.AddMinutes(1)));
        Assert.False(incident.HasChanges);
        Assert.True(incident.HasRepeats);
        Assert.Null(incident.TakeChange(withRepeats: false, extras: null).Change.Updated);
        Assert.True(incident.HasRepeats);

        incident.Apply(a.Resolved(T0.AddMinutes(2)), T0.AddMinutes(2));
        var (resolved, _) = incident.TakeChange(withRepeats: false, extras: null);
        var progress = Assert.Single(resolved.Updated!);
        Assert.Equal((AlertStatus.Resolved, 3L), (progress.Status, progress.Count));
        Assert.Equal(IncidentStatus.Resolved, resolved.Progress.Status);
        Assert.Null(resolved.Identity); // what the incident is went with the change that opened it
        Assert.False(incident.HasRepeats); // the repeat went with the resolve
    }

    [Fact]
    public void An_alert_not_refreshed_before_its_endsAt_expires_then_and_a_refresh_moves_it()
    {
        var a = Firing("Down", instance: "a") with { EndsAt = T0.AddMinutes(4) };
        var b = Firing("Down", instance: "b") with { EndsAt = T0.AddMinutes(4) };
        var incident = Opened(a);
        incident.Apply(b, T0);
        Assert.Equal(T0.AddMinutes(4), incident.NextExpiry);

        // Prometheus re-sends b with a later endsAt; a goes quiet.
        incident.Apply(b with { EndsAt = T0.AddMinutes(6) }, T0.AddMinutes(2));
        Assert.False(incident.ExpireAlerts(T0.AddMinutes(3)));
        Assert.True(incident.ExpireAlerts(T0.AddMinutes(5)));
        Assert.Equal(AlertStatus.Resolved, incident.Alerts[a.Fingerprint].Status);
        Assert.Equal(T0.AddMinutes(4), incident.Alerts[a.Fingerprint].EndsAt);
        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        Assert.Equal(T0.AddMinutes(6), incident.NextExpiry);

        Assert.True(incident.ExpireAlerts(T0.AddMinutes(30)));
        Assert.Equal(IncidentStatus.Resolved, incident.Status);
        Assert.Equal(T0.AddMinutes(6), incident.ResolvedAt);
        Assert.Null(incident.NextExpiry);
        Assert.Equal("expiry", incident.Recorded[^2].Actor);
    }

    [Fact]
    public void The_next_expiry_stays_the_earliest_end_of_a_firing_alert_through_refreshes_resolves_expiries_and_reloads()
    {
        var random = new Random(7);
        var incident = Opened(Firing("Down", instance: "i0") with { EndsAt = T0.AddMinutes(30) });
        var now = T0;
        var expired = 0;
        for (var step = 0; step < 5000; step++)
        {
            now = now.AddSeconds(random.Next(0, 30));
            var alert = Firing("Down", instance: $"i{random.Next(0, 60)}");
            switch (random.Next(0, 20))
            {
                case < 12: // new, refreshed or fired again, mostly with an end: refreshes leave entries behind to drop
                    incident.Apply(alert with { EndsAt = random.Next(0, 8) == 0 ? null : now.AddMinutes(random.Next(1, 40)).AddTicks(random.Next(0, 10_000)) }, now);
                    break;
                case < 14: // a refresh that keeps its end, as a sender with fixed ends does
                    var known = incident.Alerts.GetValueOrDefault(alert.Fingerprint);
                    incident.Apply(alert with { EndsAt = known?.ExpiresAt ?? now.AddMinutes(5) }, now);
                    break;
                case < 16:
                    incident.Apply(alert.Resolved(now), now);
                    break;
                case < 19:
                    var due = FiringNow().Where(a => a.ExpiresAt <= now).Select(a => a.Fingerprint).ToList();
                    Assert.Equal(due.Count > 0, incident.ExpireAlerts(now));
                    Assert.All(due, fingerprint => Assert.Equal(AlertStatus.Resolved, incident.Alerts[fingerprint].Status));
                    expired += due.Count;
                    break;
                default:
                    incident.Rebuild(); // as after a load
                    break;
            }
            if (incident.Status == IncidentStatus.Resolved) incident.Reopen("ana", null, now);
            Assert.Equal(FiringNow().Select(a => a.ExpiresAt).Min(), incident.NextExpiry);
        }
        Assert.True(expired > 100, $"only {expired} alerts expired");

        IEnumerable<IncidentAlert> FiringNow() => incident.Alerts.Values.Where(a => a.Status == AlertStatus.Firing);
    }

    [Fact]
    public void Alerts_without_an_announced_end_never_expire()
    {
        var incident = Opened(Firing("Down"));
        Assert.Null(incident.NextExpiry);
        Assert.False(incident.ExpireAlerts(T0.AddYears(1)));
        Assert.Equal(IncidentStatus.Triggered, incident.Status);
    }

    [Fact]
    public void After_a_reopen_an_automatic_resolve_is_never_dated_before_the_reopen()
    {
        var alert = Firing("Down") with { EndsAt = T0.AddMinutes(30) };
        var incident = Opened(alert);
        incident.Resolve("ana", null, T0.AddMinutes(5));
        incident.Reopen("bob", "not fixed", T0.AddMinutes(10));
        Assert.True(incident.ExpireAlerts(T0.AddMinutes(40)));
        Assert.Equal(T0.AddMinutes(30), incident.ResolvedAt);

        var late = Opened(Firing("Down"));
        late.Resolve("ana", null, T0.AddMinutes(5));
        late.Reopen("bob", null, T0.AddMinutes(10));
        late.Apply(Firing("Down").Resolved(T0.AddMinutes(1)), T0.AddMinutes(12));
        Assert.Equal(IncidentStatus.Resolved, late.Status);
        Assert.Equal(T0.AddMinutes(10), late.ResolvedAt);
    }
}
