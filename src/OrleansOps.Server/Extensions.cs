using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using OrleansOps.Grains;
using OrleansOps.Integrations.Itsm;
using OrleansOps.Integrations.Notifications;
using OrleansOps.Server.Apis;
using OrleansOps.Server.Configuration;
using OrleansOps.Server.Ingest;
using OrleansOps.Server.Live;
using OrleansOps.Storage;

namespace OrleansOps.Server;

public static class Extensions
{
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>When the host began to start, for the banner's "started in".</summary>
    private static long _starting;
    /// <summary>Whether this start generated the kept admin token: only then does the banner show it.</summary>
    private static bool _adminTokenCreated;
    private static bool _adminTokenTightened;

    public static WebApplicationBuilder AddOrleansOps(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(OrleansOpsOptions.Section).Get<OrleansOpsOptions>() ?? new OrleansOpsOptions();
        _starting = System.Diagnostics.Stopwatch.GetTimestamp();
        // Said before anything slow (the journal's first read, a format conversion, the silo's start), so a start that
        // takes a while says what it is doing.
        Console.WriteLine(options.Storage == StorageMode.Sqlite
            ? $"OrleansOps is starting: opening the data folder {Path.GetFullPath(options.DataPath)} and the silo …"
            : $"OrleansOps is starting: joining cluster '{options.ClusterId}' on PostgreSQL …");
        // The host's own start lines repeat what the banner says; a single process's membership is not news.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", level => level >= LogLevel.Warning);
        if (options.Storage == StorageMode.Sqlite) builder.Logging.AddFilter("Orleans.Runtime.MembershipService", level => level >= LogLevel.Warning);
        builder.Services.Configure<OrleansOpsOptions>(builder.Configuration.GetSection(OrleansOpsOptions.Section));

        // Here rather than in appsettings.json, where "Urls" would silently win over ASPNETCORE_URLS.
        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey])) builder.WebHost.UseUrls(DefaultUrl);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.UseOrleans(silo => silo.UseConfiguredCluster(options, Observability.TracesExported(builder.Configuration)));

        builder.Services.AddSingleton(options.AdminTokenConfigured
            ? new AdminToken(options.AdminToken, options.AdminTokenSha256)
            : new AdminToken(KeptAdminToken.Path(options) is { } kept ? KeptAdminToken.LoadOrCreate(kept, out _adminTokenCreated, out _adminTokenTightened) : KeptAdminToken.New()));
        builder.Services.AddSingleton<Credentials>();
        builder.Services.AddSingleton<IngestService>();
        builder.Services.AddNotificationSender(builder.Configuration);
        builder.Services.AddTicketGateway();
        builder.Services.Configure<NotificationDispatchOptions>(builder.Configuration.GetSection(NotificationServiceCollectionExtensions.Section));
        builder.Services.Configure<TicketSyncOptions>(builder.Configuration.GetSection(TicketSyncOptions.Section));
        builder.AddObservability();
        builder.Services.AddCredentialRateLimits(builder.Configuration);
        builder.Services.AddSingleton<LiveFeed>();
        builder.Services.AddHostedService(services => services.GetRequiredService<LiveFeed>());
        builder.Services.AddSingleton<ConfigLoader>();
        builder.Services.AddHostedService<StartupConfiguration>();
        builder.Services.AddHostedService<WakeIndexStart>();

        builder.Services.AddProblemAnswers();
        builder.Services.AddApiDocs();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, IngestJson.Default);
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = Math.Max(options.MaxIngestBodyBytes, 1024 * 1024) + 1);
        return builder;
    }

    /// <summary>Embedded: one silo on loopback with SQLite. Postgres: one of N silos sharing membership, state and reminders.</summary>
    private static ISiloBuilder UseConfiguredCluster(this ISiloBuilder silo, OrleansOpsOptions options, bool tracesExported)
    {
        // A grain on another silo that cannot reach the database raises Npgsql's own exception; Orleans carries only
        // exceptions of known namespaces between silos, and without this the caller sees a serialization error (500)
        // instead of a database failure (503).
        silo.Services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
        // A request's trace follows it through the grains, across silos. Without an exporter there is no trace to follow,
        // and grain calls without call filters take Orleans' direct path.
        if (tracesExported) silo.AddActivityPropagation();
        if (options.Storage == StorageMode.Sqlite)
            return silo
                .UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId)
                .UseSqliteStorage(StorageNames.Grains, options.DataPath, options.SqliteDurability);

        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ServiceId;
        });
        if (options.Kubernetes)
        {
            silo.Configure<EndpointOptions>(endpoints => (endpoints.SiloPort, endpoints.GatewayPort) = (options.SiloPort, options.GatewayPort));
            silo.UseKubernetesHosting(); // the pod's name, IP and cluster ids come from the pod
        }
        else if (string.IsNullOrWhiteSpace(options.AdvertisedAddress))
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        else if (IPAddress.TryParse(options.AdvertisedAddress, out var address))
            silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
        else
            silo.ConfigureEndpoints(options.AdvertisedAddress, options.SiloPort, options.GatewayPort, AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
        return silo.UsePostgresCluster(StorageNames.Grains, options.PostgresConnection!);
    }

    /// <summary>
    /// Before the silo starts. Embedded: checks that the data folder is one this build can read. Postgres: applies the
    /// schema when OrleansOps:MigrateOnStart asks for it, and otherwise checks that the database holds exactly this
    /// build's schema. Answers the problem, or null.
    /// </summary>
    public static async Task<string?> PrepareSchemaAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<OrleansOpsOptions>>().Value;
        if (options.Storage == StorageMode.Sqlite) return SqliteStore.CheckDataFolder(options.DataPath);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansOps.Migrations");
        var migrator = new PostgresMigrator(options.PostgresConnection!, line => logger.LogInformation("{Migration}", line));
        try
        {
            if (options.MigrateOnStart)
            {
                await migrator.MigrateAsync(cancellationToken: app.Lifetime.ApplicationStopping);
                return null;
            }
            var version = await migrator.CurrentVersionAsync(app.Lifetime.ApplicationStopping);
            return version == PostgresMigrator.LatestVersion ? null
                : version == 0 ? "the PostgreSQL database has no OrleansOps schema yet. Run 'OrleansOps.Server migrate' once, or start with OrleansOps:MigrateOnStart=true."
                : version < PostgresMigrator.LatestVersion ? $"the PostgreSQL schema is at version {version}; this build needs version {PostgresMigrator.LatestVersion}. Run 'OrleansOps.Server migrate' first."
                : $"the PostgreSQL schema is at version {version}, newer than this build knows ({PostgresMigrator.LatestVersion}); run the release that migrated it.";
        }
        catch (SchemaMigrationException e)
        {
            return e.Message;
        }
        catch (Npgsql.PostgresException e)
        {
            return $"PostgreSQL refused: {e.MessageText} (SQLSTATE {e.SqlState}); check the user, password, database and its rights in OrleansOps:PostgresConnection.";
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            return $"cannot reach PostgreSQL ({e.Message}); check OrleansOps:PostgresConnection and that the database is up.";
        }
    }

    public static WebApplication MapOrleansOps(this WebApplication app)
    {
        app.UseProblemAnswers();
        app.UseRateLimiter();
        app.MapApiDocs();
        app.MapGet("/healthz", async (IGrainFactory grains, CancellationToken cancellationToken) =>
        {
            // A grain round-trip proves the silo is up and answering, not just the web server.
            await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return TypedResults.Ok(new HealthStatus("ok"));
        }).WithTags("Health").WithSummary("Liveness: the silo answers a grain call").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/readyz", (IClusterMembershipService membership, ILocalSiloDetails local) =>
        {
            // Only this silo's own standing: a peer's trouble must not take every silo out of a load balancer at once.
            var status = membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress);
            return status == SiloStatus.Active
                ? Results.Ok(new HealthStatus("ready"))
                : Results.Problem(title: "Not ready", detail: $"This silo is {status.ToString().ToLowerInvariant()} in the cluster, not active.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithTags("Health").WithSummary("Readiness: this silo is active in the cluster's membership")
            .Produces<HealthStatus>().ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapMetrics();
        app.MapIngestApi();
        app.MapAccountsApi();
        app.MapIncidentsApi();
        app.MapSlaApi();
        app.MapItsmApi();
        app.MapClusterApi();
        app.MapCorrelationApi();
        app.MapHeartbeatsApi();
        app.MapSlackApi();
        app.MapPhoneRepliesApi();
        app.MapActionLinks();
        app.MapDashboardApi();
        app.MapTokensApi();
        if (app.Services.GetRequiredService<IOptions<OrleansOpsOptions>>().Value.FailureProbe)
            app.MapGroup("/api/v1/diagnostics").WithTags("Diagnostics").RequireToken().AdminOnly().ExcludeFromDescription()
                .MapGet("/failure", string () => throw new InvalidOperationException("The failure probe failed, as asked (OrleansOps:FailureProbe)."));
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app));
        app.Lifetime.ApplicationStopping.Register(() => Console.WriteLine("OrleansOps is stopping: finishing the requests under way and writing what is queued …"));
        return app;
    }

    public sealed record HealthStatus(string Status);

    private static void PrintBanner(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<OrleansOpsOptions>>().Value;
        var token = app.Services.GetRequiredService<AdminToken>();
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"OrleansOps is running at {string.Join(", ", app.Urls)} (started in {System.Diagnostics.Stopwatch.GetElapsedTime(_starting).TotalSeconds:0.0} s)"));
        Console.WriteLine(options.Storage == StorageMode.Sqlite
            ? $"  data folder: {Path.GetFullPath(options.DataPath)}"
            : $"  cluster '{options.ClusterId}' on PostgreSQL; silo port {options.SiloPort}, gateway port {options.GatewayPort}");
        Console.WriteLine($"  API reference: {ApiDocs.UiPath} (OpenAPI document: {ApiDocs.DocumentPath})");
        Console.WriteLine(options.AdminTokenConfigured
            ? "  admin token: as configured in OrleansOps:AdminToken or OrleansOps:AdminTokenSha256"
            : KeptAdminToken.Path(options) is { } kept
                // Shown once, when it is made: a log kept for months should not hold a token that lasts as long.
                ? _adminTokenCreated
                    ? $"  admin token: {token.Value}   (new; kept in {System.IO.Path.GetFullPath(kept)} for the next start; set OrleansOps:AdminToken or AdminTokenSha256 to choose one)"
                    : $"  admin token: in {System.IO.Path.GetFullPath(kept)}   (cat it to sign in; set OrleansOps:AdminToken or AdminTokenSha256 to choose one)"
                        + (_adminTokenTightened ? $"\n  note: {System.IO.Path.GetFullPath(kept)} could be read by other users; it is now readable by its owner only" : "")
                : $"  admin token: {token.Value}   (generated for this run; set OrleansOps:AdminToken or AdminTokenSha256 to keep one)");
    }

    /// <summary>Once the silo is up: the wake index's back-stop reminder, and what fell due while the server was down.</summary>
    private sealed class WakeIndexStart(IGrainFactory grains) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => grains.GetGrain<IWakeIndexGrain>(GrainKeys.Wakes).Start();

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Applies the account files once the silo is up; an invalid file stops the start.</summary>
    private sealed class StartupConfiguration(ConfigLoader loader, IOptions<OrleansOpsOptions> options, IHostEnvironment environment) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            loader.LoadAsync(Path.GetFullPath(options.Value.ConfigPath, environment.ContentRootPath), cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>
/// The admin token of an embedded server with none configured: generated at its first start and kept in its data folder
/// (readable by its owner only), so that a restart keeps the dashboard and scripts signed in. A cluster, whose silos
/// share no folder, generates one per run unless configured.
/// </summary>
internal static class KeptAdminToken
{
    public const string FileName = "admin-token";

    public static string? Path(OrleansOpsOptions options) =>
        options.Storage == StorageMode.Sqlite ? System.IO.Path.Combine(options.DataPath, FileName) : null;

    public static string New() => RandomNumberGenerator.GetHexString(32, lowercase: true);

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// The kept token, or a new one written there. A kept file that others could read (copied, restored from a backup
    /// with loose permissions) is made the owner's only again, and <paramref name="tightened"/> says so.
    /// </summary>
    public static string LoadOrCreate(string path, out bool created, out bool tightened)
    {
        created = tightened = false;
        if (File.Exists(path))
        {
            var kept = File.ReadAllText(path).Trim();
            if (kept.Length < 16)
                throw new InvalidOperationException($"{path} holds no admin token; delete it to have a new one generated, or set OrleansOps:AdminToken.");
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (GroupOrOthers)) != 0)
            {
                try
                {
                    File.SetUnixFileMode(path, OwnerOnly);
                    tightened = true;
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    // Not ours to change (another owner, a read-only mount): start anyway, and say so.
                    Console.WriteLine($"  warning: {path} can be read by other users and could not be made owner-only ({e.Message})");
                }
            }
            return kept;
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var token = New();
        // Written whole under another name, then renamed: a crash leaves no empty token file behind.
        var writing = path + ".new";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnly;
        using (var file = new StreamWriter(writing, System.Text.Encoding.ASCII, options)) file.Write(token);
        File.Move(writing, path);
        created = true;
        return token;
    }
}
