using System.Text.Json;

namespace OrleansOps.Domain.Tests;

/// <summary>A backfilled incident names the nodes it took down, and per-node SLAs count it against each.</summary>
public sealed class IncidentImportTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static readonly AccountConfig Config = new()
    {
        Id = "telco",
        Name = "Telco",
        Services = [new ServiceDefinition { Id = "core" }],
        Sla = new SlaContract { Availability = [new AvailabilitySlo { Name = "node-uptime", Target = 99.9, Window = "30d", Nodes = ["node-a", "node-b"] }] },
    };

    private static List<ImportedIncident> Read(string json, List<string> errors) =>
        IncidentImport.Read(JsonDocument.Parse(json).RootElement, Config, Now, errors);

    [Fact]
    public void An_imported_incident_names_its_nodes_through_a_replay_and_burns_each_ones_budget()
    {
        var errors = new List<string>();
        var past = Assert.Single(Read("""
            {"incidents":[{"service":"core","severity":"sev1","title":"BGP session down on node-a","nodes":["node-a"],
              "startedAt":"2026-12-06T10:00:00Z","resolvedAt":"2026-12-06T10:30:00Z"}]}
            """, errors));
        Assert.Empty(errors);
        Assert.Equal(["node-a"], past.Nodes);

        var incident = new IncidentState();
        incident.Import(past, Now);
        Assert.Equal(["node-a"], incident.Summarize().Nodes.Items);
        Assert.Contains(incident.TakeChange(withRepeats: false, extras: null).Chronicle, e => e.Data.GetValueOrDefault("nodes") == "node-a");

        // As a restart reads it back: the opening change replayed onto an empty state.
        var imported = new IncidentState();
        imported.Import(past, Now);
        var (change, _) = imported.TakeChange(withRepeats: false, extras: null);
        var replayed = new IncidentState();
        replayed.Apply(change, null);
        replayed.Rebuild();
        Assert.Equal(["node-a"], replayed.Summarize().Nodes.Items);

        var reports = SlaEvaluation.Evaluate(Config, [replayed.Summarize()], Now).Availability;
        Assert.Equal(30, reports.Single(r => r.Slo == "node-uptime:node-a").DowntimeMinutes, 6);
        Assert.Equal(0, reports.Single(r => r.Slo == "node-uptime:node-b").DowntimeMinutes, 6);
    }

    [Fact]
    public void Nodes_that_are_not_a_list_of_names_are_refused_with_the_incident()
    {
        var errors = new List<string>();
        Assert.Empty(Read("""
            {"incidents":[
              {"service":"core","severity":"sev1","title":"a","nodes":"node-a","startedAt":"2026-12-06T10:00:00Z","resolvedAt":"2026-12-06T10:30:00Z"},
              {"service":"core","severity":"sev1","title":"b","nodes":["node-a",""],"startedAt":"2026-12-06T10:00:00Z","resolvedAt":"2026-12-06T10:30:00Z"}]}
            """, errors));
        Assert.Equal(["incidents[0].nodes: must be an array of node names (non-empty strings of at most 200 characters)",
            "incidents[1].nodes: must be an array of node names (non-empty strings of at most 200 characters)"], errors);
    }
}
