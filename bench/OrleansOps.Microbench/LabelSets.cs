namespace OrleansOps.Microbench;

/// <summary>Label sets as Prometheus and kube-state-metrics send them, in the order a parser would add them (not sorted).</summary>
public static class LabelSets
{
    private static readonly (string Name, string Value)[] Catalog =
    [
        ("alertname", "PaymentsApiHighErrorRate"),
        ("severity", "critical"),
        ("instance", "10.42.3.17:9100"),
        ("job", "kubernetes-pods"),
        ("service", "payments-api"),
        ("node", "ip-10-42-3-17.eu-west-1.compute.internal"),
        ("namespace", "payments"),
        ("pod", "payments-api-7d9f8c6b5-x2kqz"),
        ("container", "payments-api"),
        ("cluster", "prod-eu-west-1"),
        ("region", "eu-west-1"),
        ("team", "payments"),
        ("endpoint", "http-metrics"),
        ("prometheus", "monitoring/kube-prometheus-stack-prometheus"),
        ("env", "production"),
        ("uid", "3f6c1a2e-9b7d-4e8f-a1c2-5d6e7f8a9b0c"),
        ("label_app_kubernetes_io_name", "payments-api"),
        ("label_app_kubernetes_io_instance", "payments-api-prod"),
        ("label_app_kubernetes_io_version", "2.41.0"),
        ("label_app_kubernetes_io_component", "api"),
        ("label_app_kubernetes_io_part_of", "checkout"),
        ("label_app_kubernetes_io_managed_by", "Helm"),
        ("label_pod_template_hash", "7d9f8c6b5"),
        ("owner_kind", "ReplicaSet"),
        ("owner_name", "payments-api-7d9f8c6b5"),
        ("created_by_kind", "ReplicaSet"),
        ("host_ip", "10.42.3.17"),
        ("pod_ip", "10.244.7.93"),
        ("priority_class", "production-high"),
        ("qos_class", "Burstable"),
    ];

    /// <summary>The first <paramref name="count"/> labels of the catalogue (at most 30).</summary>
    public static Dictionary<string, string> Realistic(int count)
    {
        if (count > Catalog.Length) throw new ArgumentOutOfRangeException(nameof(count), $"the catalogue has {Catalog.Length} labels");
        return Catalog.Take(count).ToDictionary(label => label.Name, label => label.Value);
    }
}
