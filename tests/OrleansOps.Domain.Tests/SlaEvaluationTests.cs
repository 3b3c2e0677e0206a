using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

/// <summary>An account's commitments evaluated together from its incidents' summaries.</summary>
public sealed class SlaEvaluationTests
{
    private static readonly AccountConfig Contract = new()
    {
        Id = "acme",
        Name = "Acme",
        Services = [new ServiceDefinition { Id = "api" }, new ServiceDefinition { Id = "web" }],
        Sla = new SlaContract
        {
            Availability = [new AvailabilitySlo { Name = "availability", Target = 99.95, Window = "30d", Services = ["api"] }],
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev2] = TimeSpan.FromHours(2) },
        },
    };

    private static IncidentSummary Resolved(int n, Severity severity, DateTimeOffset openedAt, TimeSpan took, string service = "api") => new()
    {
        Id = $"inc-{n:D16}".Replace('0', 'a').Replace('1', 'b').Replace('2', 'c').Replace('3', 'd').Replace('4', 'e').Replace('5', 'f')
            .Replace('6', 'g').Replace('7', 'h').Replace('8', 'i').Replace('9', 'j'),
        AccountId = "acme",
        Service = service,
        Title = $"Incident {n}",
        Severity = severity,
        Status = IncidentStatus.Resolved,
        OpenedAt = openedAt,
        StartedAt = openedAt,
        ResolvedAt = openedAt + took,
    };

    [Fact]
    public void Lengthening_resolution_times_turn_the_resolution_slo_at_risk_before_any_misses_the_window()
    {
        // Sev2 resolutions of 60, 70, 80, 90, 100 minutes, a day apart, against a 120-minute SLA: none missed it, but
        // the least-squares line (slope 10 per incident, at 100 for the last) projects 130 three incidents ahead.
        // They are on web, which the availability SLO does not cover.
        var incidents = new[] { 60, 70, 80, 90, 100 }
            .Select((minutes, i) => Resolved(i + 1, Severity.Sev2, T0.AddDays(i - 10), TimeSpan.FromMinutes(minutes), service: "web"))
            .ToList();
        var snapshot = SlaEvaluation.Evaluate(Contract, incidents, T0);

        var resolution = Assert.Single(snapshot.Clocks);
        Assert.Equal("sev2-resolution", resolution.Slo);
        Assert.Equal((5, 0), (resolution.Met, resolution.Breached));
        Assert.True(resolution.Drift.Drifting);
        Assert.Equal(130, resolution.Drift.ProjectedMinutes, 6);
        Assert.Equal(SloHealth.AtRisk, resolution.Status);
        Assert.Equal(SloHealth.AtRisk, snapshot.Status);
        Assert.Equal(100, resolution.CompliancePercent);

        // Steady resolutions well inside the window are not a trend.
        var steady = new[] { 60, 55, 62, 58, 61 }
            .Select((minutes, i) => Resolved(i + 1, Severity.Sev2, T0.AddDays(i - 10), TimeSpan.FromMinutes(minutes), service: "web")).ToList();
        Assert.Equal(SloHealth.Healthy, SlaEvaluation.Evaluate(Contract, steady, T0).Status);
    }

    [Fact]
    public void An_incident_counts_against_the_availability_of_each_service_it_spans_once()
    {
        // A sev1 of 10 minutes opened on web spread to api; another of 10 minutes on api overlaps it by 5.
        var spread = Resolved(1, Severity.Sev1, T0.AddHours(-2), TimeSpan.FromMinutes(10), service: "web") with
        {
            Services = ServiceSpans.Of([new ServiceSpan("web", T0.AddHours(-2), Severity.Sev1), new ServiceSpan("api", T0.AddHours(-2), Severity.Sev1)]),
        };
        var overlapping = Resolved(2, Severity.Sev1, T0.AddHours(-2).AddMinutes(5), TimeSpan.FromMinutes(10));
        var availability = Assert.Single(SlaEvaluation.Evaluate(Contract, [spread, overlapping], T0).Availability);
        Assert.Equal(15, availability.DowntimeMinutes, 6); // [−2h, −2h+15m) on api, counted once
        Assert.Equal(6.6, availability.RemainingMinutes, 6); // 21.6 − 15
    }

    [Fact]
    public void A_missed_deadline_in_the_last_30_days_breaches_the_clock_slo()
    {
        var incidents = new[] { Resolved(1, Severity.Sev2, T0.AddDays(-3), TimeSpan.FromMinutes(90)), Resolved(2, Severity.Sev2, T0.AddDays(-2), TimeSpan.FromMinutes(150)) };
        var resolution = Assert.Single(SlaEvaluation.Evaluate(Contract, incidents, T0).Clocks);
        Assert.Equal((1, 1), (resolution.Met, resolution.Breached));
        Assert.Equal(50, resolution.CompliancePercent);
        Assert.Equal(SloHealth.Breached, resolution.Status);
        // Outside the 30 days it no longer counts.
        Assert.Equal(SloHealth.Healthy, SlaEvaluation.Evaluate(Contract, incidents, T0.AddDays(31)).Clocks[0].Status);
    }

    [Fact]
    public void Per_node_uptime_is_one_commitment_per_node()
    {
        var contract = Contract with
        {
            Sla = new SlaContract { Availability = [new AvailabilitySlo { Name = "node-uptime", Target = 99.9, Window = "30d", Nodes = ["node-a", "node-b"] }] },
        };
        // A sev1 of 30 minutes on node-a only.
        var onA = Resolved(1, Severity.Sev1, T0.AddDays(-1), TimeSpan.FromMinutes(30)) with { Nodes = new NodeList { Items = ["node-a"] } };
        var reports = SlaEvaluation.Evaluate(contract, [onA], T0).Availability;
        Assert.Equal(["node-uptime:node-a", "node-uptime:node-b"], reports.Select(r => r.Slo));
        Assert.Equal(30, reports[0].DowntimeMinutes, 6);
        Assert.Equal(0, reports[1].DowntimeMinutes, 6);
        Assert.Equal(43.2, reports[0].BudgetMinutes, 6); // 0.1 % of 30 days
    }

    [Fact]
    public void A_maintenance_window_on_one_service_does_not_hide_another_services_downtime()
    {
        var contract = Contract with
        {
            Sla = new SlaContract { Availability = [new AvailabilitySlo { Name = "both", Target = 99.95, Window = "30d", Services = ["api", "web"] }] },
            Maintenance = [new MaintenanceWindow
            {
                Name = "web-patching",
                Matchers = [LabelMatcher.Parse("service=\"web\"", out _)!],
                Start = T0.AddHours(-3),
                End = T0.AddHours(-2),
            }],
        };
        // During web's maintenance hour: a 20-minute sev1 on web (excluded) and a 10-minute sev1 on api (counted).
        var onWeb = Resolved(1, Severity.Sev1, T0.AddHours(-3), TimeSpan.FromMinutes(20), service: "web");
        var onApi = Resolved(2, Severity.Sev1, T0.AddHours(-3).AddMinutes(30), TimeSpan.FromMinutes(10));
        var report = Assert.Single(SlaEvaluation.Evaluate(contract, [onWeb, onApi], T0).Availability);
        Assert.Equal(10, report.DowntimeMinutes, 6);
        // The web outage had no impact, so the median impact is the api one's.
        Assert.Equal(10, report.MedianImpactMinutes!.Value, 6);
    }

    [Fact]
    public void An_incident_resolved_before_anyone_acknowledged_it_stopped_its_response_clock()
    {
        var contract = Contract with { Sla = new SlaContract { Response = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromMinutes(15) } } };
        var flap = Resolved(1, Severity.Sev1, T0.AddHours(-1), TimeSpan.FromMinutes(3));
        var response = Assert.Single(SlaEvaluation.Evaluate(contract, [flap], T0).Clocks);
        Assert.Equal((1, 0), (response.Met, response.Breached));
        Assert.Empty(response.Running);
    }

    [Fact]
    public void Names_of_generated_slos_are_reserved()
    {
        var reserved = Contract with { Sla = new SlaContract { Availability = [new AvailabilitySlo { Name = "sev1-response", Target = 99.9 }, new AvailabilitySlo { Name = "a:b", Target = 99.9 }] } };
        Assert.Equal(
            ["sla.availability[0].name: 'sev1-response' is reserved (no ':' and not sevN-response or sevN-resolution)",
             "sla.availability[1].name: 'a:b' is reserved (no ':' and not sevN-response or sevN-resolution)"],
            reserved.Validate());
    }
}
