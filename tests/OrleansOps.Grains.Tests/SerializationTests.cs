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
