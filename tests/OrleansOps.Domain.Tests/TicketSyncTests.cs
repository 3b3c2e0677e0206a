using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

/// <summary>The chronicle as the ticket's outbox: what an incident owes each ticket system, in order, once.</summary>
public sealed class TicketSyncTests
{
    private static readonly ItsmSettings Both = new()
    {
        ServiceNow = new ServiceNowSettings { InstanceUrl = "https://acme.service-now.com/", UsernameRef = "SN_USER", PasswordRef = "SN_PASSWORD" },
        Jira = new JiraSettings { SiteUrl = "https://acme.atlassian.net/", EmailRef = "JIRA_EMAIL", ApiTokenRef = "JIRA_TOKEN", ProjectKey = "OPS" },
        InboundSecretRef = "ITSM_SECRET",
    };

    private static readonly TimeSpan JiraSearchLag = TimeSpan.FromSeconds(60);

    /// <summary>The next write, with the whole chronicle at hand (the grain reads it from storage).</summary>
    private static TicketWork? Next(IncidentState incident, TicketSystem system, DateTimeOffset now) => incident.NextTicketWork(system, now, incident.Recorded);

    private static IncidentState Open()
    {
        var incident = new IncidentState();
        var first = Firing("Down", Severity.Sev1);
        incident.Open("inc-aaaaaaaaaaaaaaaa", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, T0);
        incident.Apply(first, T0);
        return incident;
    }

    [Fact]
    public void A_new_incident_first_owes_each_system_its_ticket_looked_up_before_it_is_created()
    {
        var incident = Open();
        Assert.True(incident.StartTicketSync(Both, T0));
        Assert.False(incident.StartTicketSync(Both, T0));

        var work = Next(incident, TicketSystem.Jira, T0)!;
        Assert.Equal(TicketWorkKind.Create, work.Kind);
        Assert.True(work.LookFirst);
        Assert.Equal("[SEV1] Down on api", work.Title);
        Assert.Contains("OrleansOps incident inc-aaaaaaaaaaaaaaaa", work.Text);
        Assert.Equal(TicketWorkKind.Create, Next(incident, TicketSystem.ServiceNow, T0)!.Kind);
    }

    [Fact]
    public void After_the_ticket_each_entry_that_belongs_there_is_written_in_order_and_the_acknowledgement_and_resolve_transition_it()
    {
        var incident = Open();
        incident.StartTicketSync(Both, T0);
        incident.TicketCreated(TicketSystem.Jira, "10001", "OPS-1", found: false, T0);
        incident.Acknowledge("ana", T0.AddMinutes(3));
        incident.AddNote("ana", "failing over", T0.AddMinutes(4));
        incident.Resolve("ana", "standby healthy", T0.AddMinutes(9));

        var written = new List<(TicketWorkKind, TicketState?, string)>();
        while (Next(incident, TicketSystem.Jira, T0.AddMinutes(10)) is { } work)
        {
            written.Add((work.Kind, work.State, work.Text));
            incident.TicketWritten(TicketSystem.Jira, work.Seq);
        }
        Assert.Equal(
            [(TicketWorkKind.Transition, TicketState.Acknowledged, "2026-11-26 10:03:00Z ana: Acknowledged by ana [OrleansOps inc-aaaaaaaaaaaaaaaa #4]"),
             (TicketWorkKind.Note, null, "2026-11-26 10:04:00Z ana: failing over [OrleansOps inc-aaaaaaaaaaaaaaaa #5]"),
             (TicketWorkKind.Transition, TicketState.Resolved, "2026-11-26 10:09:00Z ana: Resolved by ana: standby healthy [OrleansOps inc-aaaaaaaaaaaaaaaa #6]")],
            written);
        // ServiceNow has no ticket yet: it still owes the creation, whatever Jira did.
        Assert.Equal(TicketWorkKind.Create, Next(incident, TicketSystem.ServiceNow, T0.AddMinutes(10))!.Kind);
        // The sync's own entries (ticket.created) never go on a ticket.
        Assert.DoesNotContain(written, w => w.Item3.Contains("ticket"));
    }

    [Fact]
    public void A_failure_backs_off_and_a_write_that_may_have_landed_is_looked_for_before_it_is_written_again()
    {
        var incident = Open();
        incident.StartTicketSync(Both, T0);
        incident.TicketCreated(TicketSystem.ServiceNow, "sys-1", "INC0010001", found: false, T0);
        incident.AddNote("ana", "looking", T0.AddMinutes(1));
        var work = Next(incident, TicketSystem.ServiceNow, T0.AddMinutes(1))!;
        Assert.False(work.LookFirst);

        incident.TicketFailed(TicketSystem.ServiceNow, "timed out after 10s", retryable: true, retryAfter: null, T0.AddMinutes(1), jiraSearchLag: TimeSpan.Zero);
        Assert.Null(Next(incident, TicketSystem.ServiceNow, T0.AddMinutes(1)));                  // waits 1 s
        var again = Next(incident, TicketSystem.ServiceNow, T0.AddMinutes(1).AddSeconds(1))!;
        Assert.Equal(work.Seq, again.Seq);
        Assert.True(again.LookFirst);

        incident.TicketFailed(TicketSystem.ServiceNow, "HTTP 429", retryable: true, retryAfter: TimeSpan.FromSeconds(30), T0.AddMinutes(2), jiraSearchLag: TimeSpan.Zero);
        Assert.Equal(T0.AddMinutes(2).AddSeconds(30), incident.NextTicketRetry);
        Assert.Single(incident.Recorded, e => e.Kind == ChronicleKinds.TicketFailed); // one entry per failure streak

        incident.TicketWritten(TicketSystem.ServiceNow, again.Seq);
        Assert.Null(Next(incident, TicketSystem.ServiceNow, T0.AddMinutes(3)));
        Assert.Null(incident.NextTicketRetry);
    }

    [Fact]
    public void A_failure_retrying_cannot_cure_stops_the_sync_and_says_so()
    {
        var incident = Open();
        incident.StartTicketSync(Both, T0);
        incident.TicketFailed(TicketSystem.Jira, "HTTP 401", retryable: false, retryAfter: null, T0, jiraSearchLag: TimeSpan.Zero);
        Assert.Null(Next(incident, TicketSystem.Jira, T0.AddDays(1)));
        Assert.True(incident.Tickets.Single(t => t.System == TicketSystem.Jira).Stuck);
        Assert.Equal("Jira ticket sync stopped: HTTP 401", incident.Recorded[^1].Text);
    }

    [Fact]
    public void One_worker_holds_a_system_and_a_new_activation_frees_it_to_look_before_writing()
    {
        var incident = Open();
        incident.StartTicketSync(Both, T0);
        incident.TicketCreated(TicketSystem.ServiceNow, "sys-1", "INC0010001", found: false, T0);
        incident.TicketCreated(TicketSystem.Jira, "10001", "OPS-1", found: false, T0);
        incident.AddNote("ana", "looking", T0);

        Assert.True(incident.LeaseToNewWorker("w1", T0, T0.AddMinutes(2)));
        Assert.False(incident.LeaseToNewWorker("w2", T0, T0.AddMinutes(2)));   // held
        Assert.Empty(incident.LeaseTicketWork("w2", T0, T0.AddMinutes(2), incident.Recorded));
        var work = incident.LeaseTicketWork("w1", T0, T0.AddMinutes(2), incident.Recorded);
        Assert.Equal(2, work.Count);
        Assert.All(work, w => Assert.False(w.LookFirst));

        incident.ReleaseTicketLeases(T0, JiraSearchLag);                       // the silo died; the incident activates elsewhere
        var again = incident.LeaseTicketWork("w3", T0, T0.AddMinutes(2), incident.Recorded);
        Assert.Equal(2, again.Count);
        Assert.All(again, w => Assert.True(w.LookFirst));
        Assert.Empty(incident.LeaseTicketWork("w1", T0, T0.AddMinutes(2), incident.Recorded));   // the old worker gets nothing more
    }

    [Fact]
    public void A_Jira_creation_cut_off_by_a_restart_is_looked_for_only_once_Jira_search_can_see_it()
    {
        var incident = Open();
        incident.StartTicketSync(Both, T0);
        Assert.True(incident.LeaseToNewWorker("w1", T0, T0.AddMinutes(2)));
        Assert.Equal(2, incident.LeaseTicketWork("w1", T0, T0.AddMinutes(2), incident.Recorded).Count); // both creations in flight

        var restart = T0.AddSeconds(5);
        incident.ReleaseTicketLeases(restart, JiraSearchLag);
        // ServiceNow's table answers at once; Jira's search may not list an issue made seconds ago.
        Assert.NotNull(Next(incident, TicketSystem.ServiceNow, restart));
        Assert.Null(Next(incident, TicketSystem.Jira, restart.AddSeconds(59)));
        Assert.Equal(restart + JiraSearchLag, incident.NextTicketRetry);
        var look = Next(incident, TicketSystem.Jira, restart + JiraSearchLag)!;
        Assert.Equal(TicketWorkKind.Create, look.Kind);
        Assert.True(look.LookFirst);
    }

    [Fact]
    public void A_Jira_creation_that_timed_out_waits_for_the_search_but_a_refused_one_and_later_writes_do_not()
    {
        var incident = Open();
        incident.StartTicketSync(Both, T0);
        incident.TicketFailed(TicketSystem.Jira, "timed out after 10s", retryable: true, retryAfter: null, T0, JiraSearchLag);
        Assert.Equal(T0 + JiraSearchLag, incident.Tickets.Single(t => t.System == TicketSystem.Jira).RetryAt);
        incident.TicketFailed(TicketSystem.ServiceNow, "timed out after 10s", retryable: true, retryAfter: null, T0, JiraSearchLag);
        Assert.Equal(T0.AddSeconds(1), incident.Tickets.Single(t => t.System == TicketSystem.ServiceNow).RetryAt);

        incident.TicketCreated(TicketSystem.Jira, "10001", "OPS-1", found: true, T0 + JiraSearchLag);
        incident.AddNote("ana", "looking", T0.AddMinutes(2));
        incident.TicketFailed(TicketSystem.Jira, "HTTP 503", retryable: true, retryAfter: null, T0.AddMinutes(2), JiraSearchLag);
        Assert.Equal(T0.AddMinutes(2).AddSeconds(1), incident.Tickets.Single(t => t.System == TicketSystem.Jira).RetryAt); // the issue is known: a note needs no search
    }
}
