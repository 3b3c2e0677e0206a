using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrleansOps.Grains;
using OrleansOps.Server.Apis;

namespace OrleansOps.Server;

/// <summary>The <c>OrleansOps:Metrics</c> configuration section.</summary>
public sealed class MetricsOptions
{
    public const string Section = "OrleansOps:Metrics";

    /// <summary>Bearer token Prometheus scrapes /metrics with; when empty, /metrics takes the admin token.</summary>
    public string? Token { get; set; }

    /// <summary>How often the per-account gauges (incidents by status, tickets failing, budget left) are read from the accounts.</summary>
    public TimeSpan GaugeRefresh { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// OpenTelemetry: the grains' counters, the accounts' gauges, ASP.NET Core, Orleans and runtime metrics on /metrics in
/// Prometheus format; traces of requests and grain calls, exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class Observability
{
    public const string MetricsPath = "/metrics";

    /// <summary>Whether traces go anywhere: only then are spans recorded and carried through the grains.</summary>
    public static bool TracesExported(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<MetricsOptions>(builder.Configuration.GetSection(MetricsOptions.Section));
        builder.Services.AddSingleton<MetricsToken>();
        builder.Services.AddSingleton<AccountGaugeReader>();
        builder.Services.AddHostedService(services => services.GetRequiredService<AccountGaugeReader>());

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("orleansops"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(OpsMetrics.MeterName, "Microsoft.Orleans")
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
            });
        // Traces only where they go somewhere: recording spans nobody exports cost 3 % of ingest CPU (docs/benchmarks.md).
        if (TracesExported(builder.Configuration))
            telemetry.WithTracing(tracing => tracing.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .AddAspNetCoreInstrumentation(aspNet => aspNet.Filter = context => context.Request.Path != MetricsPath)
                .AddOtlpExporter());
        return builder;
    }

    /// <summary>/metrics, behind the metrics token, or an admin token when none is set.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint(MetricsPath).Add(endpoint =>
        {
            var scrape = endpoint.RequestDelegate!;
            endpoint.RequestDelegate = async context =>
            {
                if (await AuthorizedAsync(context)) await scrape(context);
                else
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    await Problems.Unauthorized("/metrics needs a bearer token: OrleansOps:Metrics:Token, or an admin token when that is not set.")
                        .ExecuteAsync(context);
                }
            };
        });
        return app;
    }

    /// <summary>Every account's figures are in the scrape, so an account token never reads it.</summary>
    private static async Task<bool> AuthorizedAsync(HttpContext context) =>
        context.RequestServices.GetRequiredService<MetricsToken>().Token is { } metrics
            ? metrics.Matches(context.Request)
            : (await context.RequestServices.GetRequiredService<Credentials>().AdmitAsync(context.Request))?.IsAdmin == true;

    /// <summary>The metrics token, hashed once; null when none is set.</summary>
    private sealed class MetricsToken(IOptions<MetricsOptions> options)
    {
        public AdminToken? Token { get; } = string.IsNullOrWhiteSpace(options.Value.Token) ? null : new AdminToken(options.Value.Token);
    }
}

/// <summary>
/// Reads every account's gauges every <see cref="MetricsOptions.GaugeRefresh"/> and serves the last reading to the
/// scrape, which must not wait on grain calls. In a cluster each silo reports the same per-account figures; aggregate
/// them with <c>max by (account)</c>.
/// </summary>
public sealed class AccountGaugeReader : BackgroundService
{
    private const int ConcurrentReads = 32;

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly IOptions<MetricsOptions> _options;
    private readonly ILogger<AccountGaugeReader> _logger;
    private volatile IReadOnlyDictionary<string, AccountGauges> _last = new Dictionary<string, AccountGauges>();

    public AccountGaugeReader(IGrainFactory grains, TimeProvider time, IOptions<MetricsOptions> options, ILogger<AccountGaugeReader> logger)
    {
        (_grains, _time, _options, _logger) = (grains, time, options, logger);
        OpsMetrics.Meter.CreateObservableGauge("orleansops.incidents", ObserveIncidents, "{incident}",
            "Incidents in the account's index by status (triggered, acknowledged, resolved)");
        OpsMetrics.Meter.CreateObservableGauge("orleansops.tickets.failing", ObserveTicketsFailing, "{ticket}",
            "ITSM tickets that cannot be written right now (retrying or stuck)");
        OpsMetrics.Meter.CreateObservableGauge("orleansops.sla.budget.remaining", ObserveBudgetMinutes, "min",
            "Error budget left per availability SLO, in minutes (negative once overspent)");
        OpsMetrics.Meter.CreateObservableGauge("orleansops.sla.budget.remaining.ratio", ObserveBudgetRatio, "1",
            "Error budget left per availability SLO, as a share of the whole budget");
    }

    public IReadOnlyDictionary<string, AccountGauges> Last => _last;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Value.GaugeRefresh, _time);
        var failing = false;
        do
        {
            try
            {
                _last = await ReadAsync(stoppingToken);
                if (failing) _logger.LogInformation("Account gauges are read again");
                failing = false;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The last reading stays on /metrics; one warning per streak, not one per refresh.
                if (!failing) _logger.LogWarning("Account gauges could not be read ({Exception}); /metrics shows the last reading", e.GetType().Name);
                failing = true;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task<IReadOnlyDictionary<string, AccountGauges>> ReadAsync(CancellationToken cancellationToken)
    {
        var accounts = await _grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List().WaitAsync(cancellationToken);
        var gauges = new Dictionary<string, AccountGauges>(StringComparer.Ordinal);
        foreach (var chunk in accounts.Chunk(ConcurrentReads))
        {
            var read = await Task.WhenAll(chunk.Select(async id => (id, await _grains.GetGrain<IAccountGrain>(id).Gauges()))).WaitAsync(cancellationToken);
            foreach (var (id, gauge) in read)
                if (gauge is not null) gauges[id] = gauge;
        }
        return gauges;
    }

    private IEnumerable<Measurement<int>> ObserveIncidents() =>
        _last.SelectMany(account => account.Value.Incidents.Select(byStatus => new Measurement<int>(byStatus.Value,
            new("account", account.Key), new("status", byStatus.Key.ToString().ToLowerInvariant()))));

    private IEnumerable<Measurement<int>> ObserveTicketsFailing() =>
        _last.Select(account => new Measurement<int>(account.Value.TicketsFailing, new KeyValuePair<string, object?>("account", account.Key)));

    private IEnumerable<Measurement<double>> ObserveBudgetMinutes() =>
        _last.SelectMany(account => account.Value.Budgets.Select(budget => new Measurement<double>(budget.RemainingMinutes,
            new("account", account.Key), new("slo", budget.Slo))));

    private IEnumerable<Measurement<double>> ObserveBudgetRatio() =>
        _last.SelectMany(account => account.Value.Budgets.Select(budget => new Measurement<double>(budget.RemainingRatio,
            new("account", account.Key), new("slo", budget.Slo))));
}
