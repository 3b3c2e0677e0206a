using BenchmarkDotNet.Attributes;
using OrleansOps.Domain;

namespace OrleansOps.Microbench;

/// <summary>
/// The SLA engine over an account's incident ledger: <see cref="SlaEvaluation.Evaluate"/> (every SLO's report, which the
/// account recomputes when an incident changes and on its timer) and <see cref="SlaEvaluation.BurnDown"/> (the
/// dashboard's chart, 60 points as the API's default). The account has three availability SLOs (a 30-day window on
/// two services, a calendar month on all of them with credits, a 7-day window on one), response and resolution limits
/// for sev1 and sev2, and a weekly maintenance window; its <see cref="Incidents"/> incidents were opened over the last
/// 30 days, three are still open.
/// </summary>
[MemoryDiagnoser]
public class SlaBenchmarks
{
    [Params(100, 10_000)]
    public int Incidents { get; set; }

    private const int BurnDownPoints = 60;
    private const int StillOpen = 3;
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromDays(30);

    private static readonly ServiceDefinition[] Services =
    [
        new() { Id = "payments-api", Nodes = ["pay-1", "pay-2", "pay-3"], DependsOn = ["postgres"] },
        new() { Id = "orders-api", Nodes = ["ord-1", "ord-2"], DependsOn = ["postgres", "payments-api"] },
        new() { Id = "search-api", Nodes = ["search-1", "search-2"] },
        new() { Id = "web-frontend", Nodes = ["web-1", "web-2", "web-3"], DependsOn = ["orders-api", "search-api"] },
        new() { Id = "postgres", Nodes = ["pg-1", "pg-2"] },
        new() { Id = "kafka", Nodes = ["kafka-1", "kafka-2", "kafka-3"] },
    ];

    private static readonly AccountConfig Account = new()
    {
        Id = "acme",
        Name = "Acme",
        TimeZone = "Europe/Berlin",
        Services = Services,
        Sla = new SlaContract
        {
            Availability =
            [
                new AvailabilitySlo { Name = "checkout", Target = 99.95, Window = "30d", Services = ["payments-api", "orders-api"] },
                new AvailabilitySlo
                {
                    Name = "platform", Target = 99.9, Window = AvailabilityMath.CalendarMonth,
                    Credits = [new CreditTier(99.9, 10), new CreditTier(99.0, 25)],
                },
                new AvailabilitySlo { Name = "search", Target = 99.5, Window = "7d", Services = ["search-api"] },
            ],
            Response = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromMinutes(15), [Severity.Sev2] = TimeSpan.FromMinutes(30) },
            Resolution = new Dictionary<Severity, TimeSpan> { [Severity.Sev1] = TimeSpan.FromHours(4), [Severity.Sev2] = TimeSpan.FromHours(8) },
        },
        Maintenance =
        [
            new MaintenanceWindow
            {
                Name = "postgres-patching",
                Matchers = [LabelMatcher.Parse("service=\"postgres\"", out _)!],
                Cron = "0 2 * * 0",
                Duration = TimeSpan.FromHours(2),
            },
        ],
    };

    private List<IncidentSummary> _incidents = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _incidents = Enumerable.Range(0, Incidents).Select(n => Incident(n, random)).ToList();
    }

    [Benchmark]
    public SlaSnapshot Evaluate() => SlaEvaluation.Evaluate(Account, _incidents, Now);

    [Benchmark]
    public IReadOnlyList<BurnDownSeries> BurnDown() => SlaEvaluation.BurnDown(Account, _incidents, Now, BurnDownPoints);

    /// <summary>
    /// Incident <paramref name="n"/> of the ledger, opened in order over the period: mostly sev3 and sev2, one in ten a
    /// sev1, lasting 5 minutes to 4 hours, acknowledged after 1 to 40 minutes; one in five spread to a dependant service.
    /// </summary>
    private IncidentSummary Incident(int n, Random random)
    {
        var service = Services[random.Next(Services.Length)];
        var openedAt = Now - Period + Period * (n + random.NextDouble()) / Incidents;
        var severity = random.Next(20) switch
        {
            < 2 => Severity.Sev1,
            < 7 => Severity.Sev2,
            < 16 => Severity.Sev3,
            _ => Severity.Sev4,
        };
        var open = n >= Incidents - StillOpen;
        var resolvedAt = open ? (DateTimeOffset?)null : openedAt + TimeSpan.FromMinutes(random.Next(5, 240));
        var acknowledgedAt = openedAt + TimeSpan.FromMinutes(random.Next(1, 40));
        if (acknowledgedAt > (resolvedAt ?? Now)) acknowledgedAt = resolvedAt ?? Now;
        var dependant = Services.FirstOrDefault(s => s.DependsOn.Contains(service.Id));
        var spans = dependant is not null && random.Next(5) == 0
            ? ServiceSpans.Of([new ServiceSpan(service.Id, openedAt, severity), new ServiceSpan(dependant.Id, openedAt + TimeSpan.FromMinutes(2), severity)])
            : ServiceSpans.None;
        return new IncidentSummary
        {
            Id = $"inc-{n:D16}",
            AccountId = Account.Id,
            Service = service.Id,
            ServiceDeclared = true,
            Title = $"{service.Id} incident {n}",
            Severity = severity,
            Status = open ? IncidentStatus.Acknowledged : IncidentStatus.Resolved,
            OpenedAt = openedAt,
            StartedAt = openedAt - TimeSpan.FromSeconds(random.Next(0, 120)),
            AcknowledgedAt = acknowledgedAt,
            FirstAcknowledgedAt = acknowledgedAt,
            ResolvedAt = resolvedAt,
            AlertCount = 1 + random.Next(20),
            Services = spans,
            Nodes = new NodeList { Items = service.Nodes.Take(1 + random.Next(2)).ToList() },
        };
    }
}
