using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace OrleansOps.Grains.Tests;

/// <summary>What the journal and grain calls carry comes back as it went, in the compact forms the state holds.</summary>
public sealed class SerializationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(IncidentState).Assembly).AddAssembly(typeof(AccountCorrelation).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    private static T RoundTrip<T>(T value) => Serializer.Deserialize<T>(Serializer.SerializeToArray(value))!;

    [Fact]
    public void An_alert_comes_back_with_its_labels_in_order_and_their_texts_shared()
    {
        var alert = new IncidentAlert
        {
            Fingerprint = "0123456789abcdef",
            Labels = new Dictionary<string, string> { ["severity"] = "critical", ["alertname"] = "Down", ["instance"] = "db-1" },
            Annotations = new Dictionary<string, string> { ["summary"] = "db-1 is down" },
            Source = "alertmanager",
            StartsAt = T0,
            FirstSeen = T0.AddSeconds(1),
            LastSeen = T0.AddSeconds(2),
            ExpiresAt = T0.AddHours(1),
            Links = [new AlertLink("https://prometheus.example/graph", "Source")],
        };

        var first = RoundTrip(alert);
        var second = RoundTrip(alert);

        Assert.Equal(alert.Labels.ToList(), first.Labels.ToList());
        Assert.Equal(alert.Annotations.ToList(), first.Annotations.ToList());
        Assert.Equal((alert.StartsAt, alert.EndsAt, alert.FirstSeen, alert.LastSeen, alert.ExpiresAt),
            (first.StartsAt, first.EndsAt, first.FirstSeen, first.LastSeen, first.ExpiresAt));
        Assert.Null(first.EndsAt);
        Assert.Equal(alert.Links, first.Links);
        // Each read is a fresh copy of the bytes; the pool gives both reads one instance of each short text.
        Assert.Same(first.Labels["alertname"], second.Labels["alertname"]);
        Assert.Same(first.Labels.Keys.First(), second.Labels.Keys.First());
    }

    [Fact]
    public void A_tracked_map_comes_back_with_every_key_and_its_value_and_nothing_to_journal()
    {
        var state = new CorrelatorState();
        for (var i = 0; i < 5_000; i++) state.FiringAlerts[$"fp-{i:x8}"] = $"inc-{i % 7}";
        state.FiringAlerts["bäh-ключ-🔥"] = "inc-x";
        state.CountedIn["fp-00000001"] = "alertname=Down";
        state.TakeChange();

        var back = RoundTrip(state);

        Assert.Equal(state.FiringAlerts.OrderBy(p => p.Key, StringComparer.Ordinal), back.FiringAlerts.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(state.CountedIn.ToList(), back.CountedIn.ToList());
        Assert.Equal(0, back.OpenGroups.Count);
        Assert.Null(back.TakeChange());
        // A map read back still tracks what changes in it.
        back.FiringAlerts["fp-new"] = "inc-9";
        Assert.Equal(["fp-new"], back.FiringAlerts.TakeChanges()!.Set!.Keys);
    }

    [Fact]
    public void A_correlator_state_written_before_map_keys_were_packed_reads_as_it_was()
    {
        // CorrelatorState as the serializer wrote it when a map was one dictionary (a snapshot of an earlier release).
        const string Written = "2020203001312CD42E1D537472696E67436F6D706172657200030101E00107410D613162326333400B696E632D31400D643465356636C013400962C3A468400B696E632D32E0E02120380300030101E0E0E02200010101010101010101010101010101E02120380300030101E0E0E02620380300030101E0E0E02420380300030101E0E0E02120380300030101E0E0E02320380300030101E0E0E02120380300030101E00103C111401D616C6572746E616D653D446F776EE0E0E0";

        var state = Serializer.Deserialize<CorrelatorState>(Convert.FromHexString(Written))!;

        Assert.Equal(
            [new("a1b2c3", "inc-1"), new("bäh", "inc-2"), new("d4e5f6", "inc-1")],
            state.FiringAlerts.OrderBy(p => p.Key, StringComparer.Ordinal).ToList<KeyValuePair<string, string>>());
        Assert.Equal([new("a1b2c3", "alertname=Down")], state.CountedIn.ToList<KeyValuePair<string, string>>());
        Assert.Null(state.TakeChange());
    }

    [Fact]
    public void A_normalized_alert_without_annotations_comes_back_with_none()
    {
        var alert = new NormalizedAlert
        {
            Source = "test",
            Service = "api",
            Labels = new Dictionary<string, string> { ["alertname"] = "Down" },
            Severity = Severity.Sev2,
            Status = AlertStatus.Firing,
            StartsAt = T0,
            Fingerprint = "fedcba9876543210",
            ReceivedAt = T0,
        };

        var back = RoundTrip(alert);

        Assert.Equal(alert.Labels.ToList(), back.Labels.ToList());
        Assert.Empty(back.Annotations);
        Assert.Equal(alert.Fingerprint, back.Fingerprint);
    }
}
