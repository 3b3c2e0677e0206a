using static OrleansOps.Domain.Tests.Alerts;

namespace OrleansOps.Domain.Tests;

public sealed class LabelSetTests
{
    /// <summary>A copy of <paramref name="text"/> that is equal to it but not the same instance, as JSON parsing makes.</summary>
    private static string Copy(string text) => new(text.AsSpan());

    [Fact]
    public void A_set_reads_like_the_map_it_was_made_from_in_its_order()
    {
        var labels = LabelSet.Of(new Dictionary<string, string> { ["severity"] = "critical", ["alertname"] = "Down", ["instance"] = "db-1" });

        Assert.Equal(3, labels.Count);
        Assert.Equal(["severity", "alertname", "instance"], labels.Keys);
        Assert.Equal(["critical", "Down", "db-1"], labels.Values);
        Assert.Equal(
            [new("severity", "critical"), new("alertname", "Down"), new("instance", "db-1")],
            labels.ToList());
        Assert.Equal("Down", labels["alertname"]);
        Assert.True(labels.ContainsKey("instance"));
        Assert.False(labels.TryGetValue("node", out _));
        Assert.Null(labels.GetValueOrDefault("node"));
        Assert.Throws<KeyNotFoundException>(() => labels["node"]);
        Assert.Same(labels, LabelSet.Of(labels));
    }

    [Fact]
    public void An_empty_or_missing_map_is_the_empty_set()
    {
        Assert.Same(LabelSet.Empty, LabelSet.Of(new Dictionary<string, string>()));
        Assert.Same(LabelSet.Empty, LabelSet.Of(null));
        Assert.Empty(LabelSet.Empty);
    }

    [Fact]
    public void Names_and_short_values_are_held_once_whatever_copy_they_came_in()
    {
        var a = LabelSet.Of(new Dictionary<string, string> { [Copy("severity")] = Copy("warning-labelset-test") });
        var b = LabelSet.Of(new Dictionary<string, string> { [Copy("severity")] = Copy("warning-labelset-test") });

        Assert.Same(a.Keys.Single(), b.Keys.Single());
        Assert.Same(a["severity"], b["severity"]);
    }

    [Fact]
    public void Sharing_takes_the_other_sets_copies_of_equal_values_and_keeps_the_rest()
    {
        // Values too long for the process-wide pool: only sharing with the other set can hold them once.
        var name = new string('n', SharedText.MaxLength + 1);
        var first = LabelSet.Of(new Dictionary<string, string> { ["alertname"] = name, ["instance"] = "a" });
        var second = LabelSet.Of(new Dictionary<string, string> { ["alertname"] = Copy(name), ["instance"] = "b" });
        Assert.NotSame(first["alertname"], second["alertname"]);

        var shared = second.SharingWith(first);

        Assert.Same(first["alertname"], shared["alertname"]);
        Assert.Equal("b", shared["instance"]);
        Assert.Equal(second.ToList(), shared.ToList());
    }

    [Fact]
    public void Sharing_with_sets_of_other_names_matches_values_by_name()
    {
        var name = new string('m', SharedText.MaxLength + 1);
        var first = LabelSet.Of(new Dictionary<string, string> { ["job"] = "node", ["alertname"] = name });
        var second = LabelSet.Of(new Dictionary<string, string> { ["alertname"] = Copy(name), ["instance"] = "b" });

        var shared = second.SharingWith(first);

        Assert.Same(first["alertname"], shared["alertname"]);
        Assert.Equal(["alertname", "instance"], shared.Keys);
    }

    [Fact]
    public void Sharing_with_an_equal_set_gives_that_set()
    {
        var description = new string('d', SharedText.MaxLength + 1);
        var first = LabelSet.Of(new Dictionary<string, string> { ["description"] = description });
        var second = LabelSet.Of(new Dictionary<string, string> { ["description"] = Copy(description) });

        Assert.Same(first, second.SharingWith(first));
        Assert.Same(second, second.SharingWith(LabelSet.Empty));
    }

    [Fact]
    public void The_pool_shares_short_texts_and_leaves_long_ones_alone()
    {
        var text = Copy("shared-text-test-value");
        Assert.Same(SharedText.Share(text), SharedText.Share(Copy(text)));

        var long1 = new string('x', SharedText.MaxLength + 1);
        Assert.Same(long1, SharedText.Share(long1));
        Assert.NotSame(long1, SharedText.Share(Copy(long1)));
        Assert.Same(string.Empty, SharedText.Share(Copy("")));
    }

    [Fact]
    public void The_pool_stays_bounded_however_many_texts_pass_through_it()
    {
        // Far more distinct texts than slots: every one comes back equal, and the first has long been evicted.
        var first = Copy("bounded-pool-first");
        Assert.Same(first, SharedText.Share(first));
        for (var i = 0; i < 400_000; i++)
        {
            var text = $"bounded-pool-{i}";
            Assert.Equal(text, SharedText.Share(text));
        }
        var again = Copy("bounded-pool-first");
        Assert.Same(again, SharedText.Share(again));
    }

    [Fact]
    public void An_incidents_alerts_hold_the_texts_they_repeat_once()
    {
        var name = new string('A', SharedText.MaxLength + 1);
        var link = new AlertLink("https://prometheus.example/graph?g0.expr=" + name, "Source");
        var first = Firing(name, instance: "a") with { Links = [link] };
        var second = Firing(Copy(name), instance: "b") with { Links = [link with { Href = Copy(link.Href) }] };
        var incident = new IncidentState();
        incident.Open("inc-aaaaaaaaaaaaaaaa", new IncidentOrigin { AccountId = "acme", Service = "api", GroupKey = "g" }, first, T0);
        incident.Apply(first, T0, rule: "new group g");
        incident.Apply(second, T0, rule: Copy("group key g"));
        incident.Apply(Firing(Copy(name), instance: "c"), T0, rule: Copy("group key g"));

        var alerts = incident.Alerts.Values.ToList();
        Assert.Equal(3, alerts.Count);
        Assert.All(alerts, alert => Assert.Same(alerts[0].Labels["alertname"], alert.Labels["alertname"]));
        Assert.Same(alerts[0].Links, alerts[1].Links);
        Assert.Same(alerts[1].Rule, alerts[2].Rule);
        Assert.Equal(["a", "b", "c"], alerts.Select(a => a.Labels["instance"]));
    }
}
