using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

/// <summary>
/// The opsctl command tree, one file per command group under Commands/. Exit codes: 0 done, 1 refused (not found,
/// conflict, invalid), 2 usage, 3 cluster unreachable.
/// </summary>
public static partial class Commands
{
    public const int Done = 0, Refused = 1, Usage = 2, Unreachable = 3;

    private static readonly Option<int> GatewayPort = new("--gateway-port")
    {
        Description = "The server's Orleans gateway port (OrleansOps:GatewayPort)",
        DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("OPSCTL_GATEWAY_PORT"), out var port) ? port : 30000,
        Recursive = true,
    };

    private static readonly Option<string[]> Gateway = new("--gateway")
    {
        Description = "Gateway host:port of a cluster's silo; repeat or comma-separate for several (OPSCTL_GATEWAY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPSCTL_GATEWAY")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
        AllowMultipleArgumentsPerToken = false,
        Recursive = true,
    };

    private static readonly Option<string?> Postgres = new("--postgres")
    {
        Description = "Find the gateways of a cluster in its PostgreSQL membership table: an Npgsql connection string (OPSCTL_POSTGRES)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPSCTL_POSTGRES"),
        Recursive = true,
    };

    private static readonly Option<string> ClusterId = new("--cluster-id")
    {
        Description = "The cluster's OrleansOps:ClusterId (OPSCTL_CLUSTER_ID)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPSCTL_CLUSTER_ID") ?? "orleansops",
        Recursive = true,
    };

    private static readonly Option<string> ServiceId = new("--service-id")
    {
        Description = "The cluster's OrleansOps:ServiceId (OPSCTL_SERVICE_ID)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPSCTL_SERVICE_ID") ?? "orleansops",
        Recursive = true,
    };

    private static readonly Option<int> ConnectTimeout = new("--connect-timeout")
    {
        Description = "Seconds to wait for the gateway",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    private static readonly Option<string?> Token = new("--token")
    {
        Description = "Act with an API token's reach (OPSCTL_TOKEN): an account token reaches its own account only. Without one, " +
                      "opsctl acts as the cluster's operator, as anyone who can reach the gateway can",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("OPSCTL_TOKEN"),
        Recursive = true,
    };

    private static readonly Option<bool> JsonOutput = new("--json") { Description = "Write JSON instead of tables", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("opsctl — operate OrleansOps from a terminal, through the cluster's gateway") { GatewayPort, Gateway, Postgres, ClusterId, ServiceId, ConnectTimeout, Token, JsonOutput };
        root.Add(Accounts());
        root.Add(Incidents());
        root.Add(Sla());
        root.Add(Kpi());
        root.Add(Report());
        root.Add(OnCall());
        root.Add(Silences());
        root.Add(Heartbeats());
        root.Add(Config());
        root.Add(Tokens());
        return root;
    }

    private static Argument<string> AccountArgument() =>
        IdArgument("account", "Account id", Ids.IsAccountId, id => $"'{id}' is not an account id ([a-z][a-z0-9-]{{0,62}}).");

    private static Argument<string> IncidentArgument() =>
        IdArgument("incident", "Incident id (inc-…)", Ids.IsIncidentId, id => $"'{id}' is not an incident id.");

    /// <summary>An id argument checked while parsing: a malformed id is a usage error before any connection.</summary>
    private static Argument<string> IdArgument(string name, string description, Func<string?, bool> isValid, Func<string?, string> problem)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.GetValueOrDefault<string>() is var id && !isValid(id)) result.AddError(problem(id));
        });
        return argument;
    }

    /// <summary>Who acts, for the record: the user name unless told.</summary>
    private static Option<string> ActorOption(string name = "--actor", string description = "Who acts (default: your user name)") =>
        new(name) { Description = description, DefaultValueFactory = _ => Environment.UserName };

    /// <summary>What a command reads or acts on, checked against the caller's token before it runs.</summary>
    private sealed record Reach(string? AccountId = null, string? IncidentId = null, bool AdminOnly = false)
    {
        public static readonly Reach Anything = new();
        public static readonly Reach Admin = new(AdminOnly: true);
        public static Reach Account(string accountId, bool adminOnly = false) => new(AccountId: accountId, AdminOnly: adminOnly);
        public static Reach Incident(string incidentId) => new(IncidentId: incidentId);

        /// <summary>Why the grant may not run the command, worded as the HTTP API answers; null when it may.</summary>
        public async Task<string?> RefusalAsync(TokenGrant grant, IGrainFactory grains) =>
            grant.IsAdmin ? null
            : AccountId is not null && !grant.Covers(AccountId) ? Missing.Account(AccountId)
            : IncidentId is not null && !await grant.CoversIncidentAsync(grains, IncidentId) ? Missing.Incident(IncidentId)
            : AdminOnly ? "This command needs an admin token; an account token reads and acts on its own account only."
            : null;
    }

    /// <summary>Whoever holds the gateway without a token: the cluster's inside, like the server itself.</summary>
    private static readonly TokenGrant Operator = new("opsctl", "opsctl at the gateway", TokenScope.Admin, null);

    private static Task<int> Run(ParseResult parse, CancellationToken cancellationToken, Reach reach, Func<IGrainFactory, Output, Task<int>> work) =>
        Run(parse, cancellationToken, reach, (grains, output, _) => work(grains, output));

    private static async Task<int> Run(ParseResult parse, CancellationToken cancellationToken, Reach reach, Func<IGrainFactory, Output, TokenGrant, Task<int>> work)
    {
        var timeout = parse.GetValue(ConnectTimeout);
        if (timeout < 1) return Fail(Usage, "--connect-timeout must be at least 1 second.");
        var source = new GatewaySource(
            parse.GetValue(GatewayPort),
            [.. (parse.GetValue(Gateway) ?? []).SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            string.IsNullOrWhiteSpace(parse.GetValue(Postgres)) ? null : parse.GetValue(Postgres),
            parse.GetValue(ClusterId)!,
            parse.GetValue(ServiceId)!);
        try
        {
            source.ResolveGateways();
        }
        catch (Exception e) when (e is FormatException or System.Net.Sockets.SocketException)
        {
            return Fail(Usage, e.Message);
        }
        OpsConnection connection;
        try
        {
            connection = await OpsConnection.ConnectAsync(source, TimeSpan.FromSeconds(timeout), cancellationToken);
        }
        catch (UnreachableException e)
        {
            return Fail(Unreachable, e.Message);
        }
        try
        {
            var token = parse.GetValue(Token);
            var grant = string.IsNullOrEmpty(token) ? Operator : await Access.AdmitAsync(connection.Grains, token);
            if (grant is null)
                return Fail(Refused, "--token is not a working API token (issued at /api/v1/tokens or by opsctl tokens create; integration keys " +
                                     "and the server's configured admin token are not). Leave it out to act as the cluster's operator.");
            if (await reach.RefusalAsync(grant, connection.Grains) is { } refusal) return Fail(Refused, refusal);
            return await work(connection.Grains, new Output(parse.GetValue(JsonOutput)), grant);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The cluster went away mid-command: that is "unreachable", not "refused".
            return Fail(Unreachable, $"The cluster stopped answering: {e.GetBaseException().Message}");
        }
        finally
        {
            try
            {
                await connection.DisposeAsync();
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException)
            {
                // The answer is already out; a client that cannot say goodbye changes nothing.
            }
        }
    }

    private static Task<int> UsageError(string message) => Task.FromResult(Fail(Usage, message));

    private static int Fail(int code, string message)
    {
        Output.Error(message);
        return code;
    }
}
