using System.Text.Json;

namespace OrleansOps.Integrations.Tests;

public sealed class ParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static ParseResult Parse(Func<JsonElement, DateTimeOffset, ParseResult> parser, string json)
    {
        using var document = JsonDocument.Parse(json);
        return parser(document.RootElement.Clone(), Now);
    }

    [Fact]
    public void Alertmanager_api_alerts_firing_and_past_endsAt_resolved()
    {
        var result = Parse(AlertmanagerAlertsParser.Parse, """
            [{"labels":{"alertname":"HighLatency","service":"ehr-api","severity":"critical","empty":""},
              "annotations":{"summary":"p99 above 2s"},"startsAt":"2026-11-26T10:00:00Z","endsAt":"2026-11-26T12:05:00Z",
              "generatorURL":"http://prometheus:9090/graph"},
             {"labels":{"alertname":"DiskFull"},"startsAt":"2026-11-26T10:00:00.123456789+01:00","endsAt":"2026-11-26T11:59:00Z"}]
            """);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(AlertStatus.Firing, result.Alerts[0].Status);
        Assert.False(result.Alerts[0].Labels.ContainsKey("empty"));
        Assert.Equal("p99 above 2s", result.Alerts[0].Annotations["summary"]);
        Assert.Equal("http://prometheus:9090/graph", Assert.Single(result.Alerts[0].Links).Href);
        Assert.Equal(AlertStatus.Resolved, result.Alerts[1].Status);
        // Nanoseconds round to .NET's 100 ns ticks.
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero).AddTicks(1234568), result.Alerts[1].StartsAt);
    }

    [Theory]
    [InlineData("{}", "$", "JSON array")]
    [InlineData("""[{"annotations":{}}]""", "[0].labels", "required")]
    [InlineData("""[{"labels":{}}]""", "[0].labels", "at least one")]
    [InlineData("""[{"labels":{"a":1}}]""", "[0].labels.a", "must be a string")]
    [InlineData("""[{"labels":"x"}]""", "[0].labels", "object of strings")]
    [InlineData("""[{"labels":{"a":"b"},"startsAt":"yesterday"}]""", "[0].startsAt", "RFC 3339")]
    [InlineData("""[{"labels":{"a":"b"},"startsAt":"2026-11-26 10:00"}]""", "[0].startsAt", "RFC 3339")]
    [InlineData("""[{"labels":{"a":"b"},"startsAt":"2026-11-26T10:00:00Z","endsAt":"2026-11-26T09:00:00Z"}]""", "[0].endsAt", "before startsAt")]
    [InlineData("""[{"labels":{"a":"b"},"startsAt":12}]""", "[0].startsAt", "must be a string")]
    [InlineData("[1]", "[0]", "must be an object")]
    public void Alertmanager_api_errors_name_the_field(string json, string field, string message)
    {
        var result = Parse(AlertmanagerAlertsParser.Parse, json);
        Assert.Empty(result.Alerts);
        var error = Assert.Single(result.Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Alertmanager_webhook_version_4_with_status_per_alert()
    {
        var result = Parse(AlertmanagerWebhookParser.Parse, """
            {"version":"4","groupKey":"{}:{alertname=\"ProbeFailure\"}","truncatedAlerts":0,"status":"resolved","receiver":"orleansops",
             "groupLabels":{"alertname":"ProbeFailure"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
             "alerts":[{"status":"resolved","labels":{"alertname":"ProbeFailure","instance":"a"},"annotations":{},
                        "startsAt":"2026-11-26T10:00:00Z","endsAt":"2026-11-26T10:30:00Z","generatorURL":"","fingerprint":"1a30ba71cca2921f"},
                       {"status":"firing","labels":{"alertname":"ProbeFailure","instance":"b"},"annotations":{},
                        "startsAt":"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":""}]}
            """);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(AlertStatus.Resolved, result.Alerts[0].Status);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 10, 30, 0, TimeSpan.Zero), result.Alerts[0].EndsAt);
        Assert.Equal(AlertStatus.Firing, result.Alerts[1].Status);
        Assert.Null(result.Alerts[1].EndsAt);
        Assert.Empty(result.Alerts[1].Links);
    }

    [Theory]
    [InlineData("""{"version":"3","alerts":[]}""", "version", "not supported")]
    [InlineData("""{"version":"4"}""", "alerts", "required")]
    [InlineData("""{"version":"4","alerts":[{"status":"pending","labels":{"a":"b"}}]}""", "alerts[0].status", "neither")]
    [InlineData("""{"alerts":[]}""", "version", "required")]
    public void Alertmanager_webhook_errors_name_the_field(string json, string field, string message)
    {
        var error = Assert.Single(Parse(AlertmanagerWebhookParser.Parse, json).Errors);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PagerDuty_trigger_maps_fields_to_labels_and_keeps_the_dedup_key()
    {
        var result = Parse(PagerDutyEventParser.Parse, """
            {"routing_key":"demo-key-healthnet","event_action":"trigger","dedup_key":"srv01/mysql",
             "payload":{"summary":"DISK 99%","source":"prod-03","severity":"critical","timestamp":"2026-11-26T08:42:58.315+0000",
               "component":"mysql","group":"prod-datapipe","class":"disk","custom_details":{"free space":"1%"}},
             "client":"Monitor","client_url":"https://monitor.example/x","links":[{"href":"https://runbook","text":"Runbook"}]}
            """);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal("demo-key-healthnet", result.RoutingKey);
        var alert = Assert.Single(result.Alerts);
        Assert.Equal("srv01/mysql", alert.DedupKey);
        Assert.Equal(Severity.Sev1, alert.Severity);
        Assert.Equal("mysql", alert.Service);
        Assert.Equal("disk", alert.Labels["alertname"]);
        Assert.Equal("prod-03", alert.Labels["source"]);
        Assert.Equal("DISK 99%", alert.Annotations["summary"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 8, 42, 58, 315, TimeSpan.Zero), alert.StartsAt);
        Assert.Equal(["https://runbook", "https://monitor.example/x"], alert.Links.Select(l => l.Href));
    }

    [Fact]
    public void PagerDuty_custom_details_that_say_where_become_labels_and_no_others()
    {
        var result = Parse(PagerDutyEventParser.Parse, """
            {"routing_key":"k","event_action":"trigger","dedup_key":"bgp/node-a",
             "payload":{"summary":"BGP session down on node-a","source":"router-7","severity":"critical","class":"BgpDown",
               "custom_details":{"node":"node-a","zone":"fra-1","env":"prod","severity":"info","free space":"1%","host":3,"region":"{{LONG}}"}}}
            """.Replace("{{LONG}}", new string('x', 1025)));
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var alert = Assert.Single(result.Alerts);
        Assert.Equal("node-a", alert.Labels["node"]);
        Assert.Equal("fra-1", alert.Labels["zone"]);
        Assert.Equal("critical", alert.Labels["severity"]); // not a place: the event's own field stands
        Assert.Equal("BgpDown", alert.Labels["alertname"]);
        Assert.False(alert.Labels.ContainsKey("env")); // another detail changes neither grouping nor silences
        Assert.False(alert.Labels.ContainsKey("free space"));
        Assert.False(alert.Labels.ContainsKey("host")); // not text
        Assert.False(alert.Labels.ContainsKey("region")); // too long for a label
        Assert.Contains("\"env\":\"prod\"", alert.Annotations["custom_details"]);
        Assert.Equal("node-a", NodeLabel.Of(alert.Labels));
    }

    [Fact]
    public void PagerDuty_trigger_without_dedup_key_gets_one_and_acknowledge_and_resolve_need_one()
    {
        var trigger = Parse(PagerDutyEventParser.Parse, """{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}""");
        Assert.False(string.IsNullOrEmpty(Assert.Single(trigger.Alerts).DedupKey));

        var ack = Parse(PagerDutyEventParser.Parse, """{"routing_key":"k","event_action":"acknowledge","dedup_key":"x"}""");
        Assert.Equal(AlertAction.Acknowledge, Assert.Single(ack.Alerts).Action);
        var resolve = Parse(PagerDutyEventParser.Parse, """{"routing_key":"k","event_action":"resolve","dedup_key":"x"}""");
        Assert.Equal(AlertStatus.Resolved, Assert.Single(resolve.Alerts).Status);
        Assert.Equal(Now, resolve.Alerts[0].EndsAt);

        var missing = Parse(PagerDutyEventParser.Parse, """{"routing_key":"k","event_action":"resolve"}""");
        Assert.Equal("dedup_key", Assert.Single(missing.Errors).Field);
    }

    [Theory]
    [InlineData("""{"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}""", "routing_key")]
    [InlineData("""{"routing_key":"k","event_action":"explode"}""", "event_action")]
    [InlineData("""{"routing_key":"k","event_action":"trigger"}""", "payload")]
    [InlineData("""{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"fatal"}}""", "payload.severity")]
    [InlineData("""{"routing_key":"k","event_action":"trigger","payload":{"source":"h","severity":"info"}}""", "payload.summary")]
    [InlineData("""{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"soon"}}""", "payload.timestamp")]
    public void PagerDuty_errors_name_the_field(string json, string field)
    {
        var result = Parse(PagerDutyEventParser.Parse, json);
        Assert.Empty(result.Alerts);
        Assert.Equal(field, Assert.Single(result.Errors).Field);
    }

    [Fact]
    public void PagerDuty_summary_is_limited_to_1024_characters()
    {
        var summary = new string('x', 1025);
        var json = "{\"routing_key\":\"k\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"" + summary + "\",\"source\":\"h\",\"severity\":\"info\"}}";
        Assert.Equal("payload.summary", Assert.Single(Parse(PagerDutyEventParser.Parse, json).Errors).Field);
    }

    [Fact]
    public void Canonical_alerts_with_all_fields()
    {
        var result = Parse(CanonicalAlertParser.Parse, """
            {"alerts":[{"labels":{"alertname":"Down","instance":"a"},"severity":"P2","service":"imaging","summary":"down",
                        "dedupKey":"down-a","startsAt":"2026-11-26T10:00:00Z","links":[{"href":"https://x"}]},
                       {"labels":{"alertname":"Down"},"status":"resolved"}]}
            """);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(Severity.Sev2, result.Alerts[0].Severity);
        Assert.Equal("imaging", result.Alerts[0].Service);
        Assert.Equal("down", result.Alerts[0].Annotations["summary"]);
        Assert.Equal("down-a", result.Alerts[0].DedupKey);
        Assert.Equal(AlertStatus.Resolved, result.Alerts[1].Status);
        Assert.Equal(Now, result.Alerts[1].EndsAt);
    }

    [Theory]
    [InlineData("[]", "$")]
    [InlineData("""{"alerts":[]}""", "alerts")]
    [InlineData("""{"alerts":[{"labels":{"a":"b"},"severity":"apocalyptic"}]}""", "alerts[0].severity")]
    [InlineData("""{"alerts":[{"labels":{"a":"b"},"status":"maybe"}]}""", "alerts[0].status")]
    [InlineData("""{"alerts":[{"labels":{}}]}""", "alerts[0].labels")]
    public void Canonical_errors_name_the_field(string json, string field) =>
        Assert.Equal(field, Assert.Single(Parse(CanonicalAlertParser.Parse, json).Errors).Field);

    [Fact]
    public void Every_bad_field_of_a_batch_is_reported_not_only_the_first()
    {
        var result = Parse(AlertmanagerAlertsParser.Parse, """[{"labels":{"a":"b"},"startsAt":"x"},{"labels":{"a":"b"},"endsAt":"y"}]""");
        Assert.Equal(["[0].startsAt", "[1].endsAt"], result.Errors.Select(e => e.Field));
    }
}

public sealed class NormalizerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static InboundAlert Alert(Dictionary<string, string> labels, string? service = null, string? dedupKey = null, DateTimeOffset? startsAt = null) =>
        new() { Source = "test", Labels = labels, Service = service, DedupKey = dedupKey, StartsAt = startsAt };

    [Fact]
    public void Service_comes_from_the_label_then_the_named_service_then_the_key_default()
    {
        var context = new NormalizationContext("ehr-api", ["ehr-api", "imaging"], Now);
        Assert.Equal("imaging", AlertNormalizer.Normalize(Alert(new() { ["service"] = "imaging" }, service: "other"), context).Service);
        Assert.Equal("imaging", AlertNormalizer.Normalize(Alert(new() { ["a"] = "b" }, service: "imaging"), context).Service);
        Assert.Equal("ehr-api", AlertNormalizer.Normalize(Alert(new() { ["a"] = "b" }), context).Service);
        Assert.Equal(AlertNormalizer.FallbackService,
            AlertNormalizer.Normalize(Alert(new() { ["a"] = "b" }), context with { DefaultService = null }).Service);
    }

    [Fact]
    public void With_several_service_labels_the_first_that_names_a_declared_service_wins_over_an_exporters_own()
    {
        var context = new NormalizationContext(null, ["orders-api", "auth"], Now) { ServiceLabels = ["service", "app_kubernetes_io_name", "app", "job"] };
        Service Of(Dictionary<string, string> labels) => new(AlertNormalizer.Normalize(Alert(labels), context));

        var crashLooping = Of(new() { ["service"] = "kube-state-metrics", ["job"] = "kube-state-metrics", ["app_kubernetes_io_name"] = "orders-api" });
        var scraped = Of(new() { ["service"] = "auth", ["job"] = "auth-metrics" });
        var byApp = Of(new() { ["app"] = "auth", ["job"] = "kubernetes-pods" });
        var nodeAlert = Of(new() { ["service"] = "node-exporter", ["job"] = "node-exporter" });

        Assert.Equal(("orders-api", true), (crashLooping.Name, crashLooping.Declared));
        Assert.Equal(("auth", true), (scraped.Name, scraped.Declared));
        Assert.Equal(("auth", true), (byApp.Name, byApp.Declared));
        // Naming no declared service, the first label present names it, declared or not.
        Assert.Equal(("node-exporter", false), (nodeAlert.Name, nodeAlert.Declared));
    }

    private readonly record struct Service(string Name, bool Declared)
    {
        public Service(NormalizedAlert alert) : this(alert.Service, alert.ServiceDeclared) { }
    }

    [Fact]
    public void The_node_is_named_by_the_accounts_node_labels_without_a_scrape_port()
    {
        var labels = new Dictionary<string, string> { ["instance"] = "10.0.2.7:9100", ["kubernetes_node"] = "worker-b-2" };
        var byDefault = AlertNormalizer.Normalize(Alert(labels), new NormalizationContext(null, [], Now));
        var configured = AlertNormalizer.Normalize(Alert(labels), new NormalizationContext(null, [], Now) { NodeLabels = ["node", "kubernetes_node", "instance"] });

        Assert.Equal("10.0.2.7", byDefault.Node);
        Assert.Equal("worker-b-2", configured.Node);
    }

    [Fact]
    public void An_alert_that_none_of_the_accounts_node_labels_names_has_no_node_whatever_its_scrape_address()
    {
        // kube-state-metrics' pod alert and a blackbox probe of a zone: their instance is the exporter's or the probe's.
        var podAlert = new Dictionary<string, string> { ["alertname"] = "KubePodNotReady", ["pod"] = "orders-7d9f-x2", ["instance"] = "10.244.7.16:8080" };
        var zoneProbe = new Dictionary<string, string> { ["alertname"] = "KubeZoneUnreachable", ["zone"] = "zone-c", ["instance"] = "http://canary.zone-c:8080/healthz" };
        var context = new NormalizationContext(null, [], Now) { NodeLabels = ["node", "kubernetes_node"] };

        Assert.Null(AlertNormalizer.Normalize(Alert(podAlert), context).NodeName);
        Assert.Null(AlertNormalizer.Normalize(Alert(zoneProbe), context).NodeName);
        Assert.Equal("10.244.7.16", AlertNormalizer.Normalize(Alert(podAlert), new NormalizationContext(null, [], Now)).NodeName);
    }

    [Fact]
    public void Undeclared_services_are_kept_and_flagged()
    {
        var normalized = AlertNormalizer.Normalize(Alert(new() { ["service"] = "billing" }), new NormalizationContext(null, ["ehr-api"], Now));
        Assert.Equal("billing", normalized.Service);
        Assert.False(normalized.ServiceDeclared);
    }

    [Fact]
    public void Fingerprint_is_the_dedup_key_when_given_else_the_label_hash()
    {
        var context = new NormalizationContext(null, [], Now);
        var labels = new Dictionary<string, string> { ["alertname"] = "Down" };
        Assert.Equal(AlertFingerprint.Of(labels), AlertNormalizer.Normalize(Alert(labels), context).Fingerprint);
        var keyed = AlertNormalizer.Normalize(Alert(labels, dedupKey: "srv01/mysql"), context);
        Assert.Equal("srv01/mysql", keyed.Fingerprint);
        Assert.True(keyed.ExplicitDedupKey);
    }

    [Fact]
    public void Severity_label_maps_and_a_start_in_the_future_is_clamped_to_receipt()
    {
        var context = new NormalizationContext(null, [], Now);
        var normalized = AlertNormalizer.Normalize(Alert(new() { ["severity"] = "warning" }, startsAt: Now.AddMinutes(7)), context);
        Assert.Equal(Severity.Sev3, normalized.Severity);
        Assert.Equal(Now, normalized.StartsAt);
        Assert.Equal(SeverityMapping.Default, AlertNormalizer.Normalize(Alert(new() { ["severity"] = "???" }), context).Severity);
    }
}
