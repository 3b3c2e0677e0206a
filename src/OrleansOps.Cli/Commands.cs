using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

/// <summary>The opsctl command tree. Exit codes: 0 done, 1 refused (not found, conflict), 2 usage, 3 cluster unreachable.</summary>
public static class Commands
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

    private static readonly Option<bool> JsonOutput = new("--json") { Description = "Write JSON instead of tables", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("opsctl — operate OrleansOps from a terminal, through the cluster's gateway") { GatewayPort, Gateway, Postgres, ClusterId, ServiceId, ConnectTimeout, JsonOutput };
        root.Add(Accounts());
        root.Add(Incidents());
        return root;
    }

    private static Command Accounts()
    {
        var accounts = new Command("accounts", "Accounts and their services");
        var list = new Command("list", "Every account");
        list.SetAction((parse, cancel) => Run(parse, cancel, async (grains, output) =>
        {
            var ids = await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List();
            var views = (await Task.WhenAll(ids.Select(id => grains.GetGrain<IAccountGrain>(id).Describe()))).OfType<AccountView>().ToList();
            output.Write(new Page<AccountView>(views, null), (console, page) =>
            {
                var table = Output.Table("ACCOUNT", "NAME", "TIER", "SERVICES", "OPEN", "TOTAL");
                foreach (var a in page.Items)
                    table.AddRow(Output.Text(a.Id), Output.Text(a.Name), Output.Text(a.Tier), Output.Text(string.Join(", ", a.Services.Select(s => s.Id))), a.OpenIncidents.ToString(), a.TotalIncidents.ToString());
                console.Write(table);
            });
            return Done;
        }));

        var accountId = new Argument<string>("account") { Description = "Account id" };
        var show = new Command("show", "One account") { accountId };
        show.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(accountId)!;
            if (!Ids.IsAccountId(id)) return UsageError($"'{id}' is not an account id ([a-z][a-z0-9-]{{0,62}}).");
            return Run(parse, cancel, async (grains, output) =>
            {
                var view = await grains.GetGrain<IAccountGrain>(id).Describe();
                if (view is null) return Fail(Refused, $"No account '{id}'.");
                output.Write(view, (console, a) =>
                {
                    var grid = new Grid().AddColumn().AddColumn();
                    grid.AddRow("Account", Output.Text(a.Id)).AddRow("Name", Output.Text(a.Name)).AddRow("Tier", Output.Text(a.Tier))
                        .AddRow("Time zone", Output.Text(a.TimeZone))
                        .AddRow("Services", Output.Text(string.Join(", ", a.Services.Select(s => s.Id))))
                        .AddRow("Undeclared services", Output.Text(a.UndeclaredServices.Count == 0 ? "none" : string.Join(", ", a.UndeclaredServices)))
                        .AddRow("Incidents", $"{a.OpenIncidents} open of {a.TotalIncidents}")
                        .AddRow("Configuration", $"version {a.ConfigVersion} from {Output.Text(a.ConfigSource)}, {Output.Time(a.ConfiguredAt)}");
                    console.Write(grid);
                });
                return Done;
            });
        });
        accounts.Add(list);
        accounts.Add(show);
        return accounts;
    }

    private static Command Incidents()
    {
        var incidents = new Command("incidents", "Read and act on incidents");

        var accountId = new Argument<string>("account") { Description = "Account id" };
        var status = new Option<string?>("--status") { Description = "triggered, acknowledged, resolved or open" };
        var limit = new Option<int>("--limit") { Description = "At most this many (1–500)", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "An account's incidents, newest first") { accountId, status, limit };
        list.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(accountId)!;
            if (!Ids.IsAccountId(id)) return UsageError($"'{id}' is not an account id ([a-z][a-z0-9-]{{0,62}}).");
            IncidentStatusFilter? filter = parse.GetValue(status) switch
            {
                null => IncidentStatusFilter.All,
                "open" => IncidentStatusFilter.Open,
                "triggered" => IncidentStatusFilter.Triggered,
                "acknowledged" => IncidentStatusFilter.Acknowledged,
                "resolved" => IncidentStatusFilter.Resolved,
                _ => null,
            };
            if (filter is null) return UsageError($"--status '{parse.GetValue(status)}' is not one of triggered, acknowledged, resolved, open.");
            var count = parse.GetValue(limit);
            if (count is < 1 or > 500) return UsageError("--limit must be between 1 and 500.");
            return Run(parse, cancel, async (grains, output) =>
            {
                var account = grains.GetGrain<IAccountGrain>(id);
                if (await account.Describe() is null) return Fail(Refused, $"No account '{id}'.");
                var page = await account.ListIncidents(filter.Value, null, count);
                output.Write(new Page<IncidentListItem>(page.Items.Select(IncidentListItem.Of).ToList(), page.Next), (console, p) =>
                {
                    var table = Output.Table("INCIDENT", "SEV", "STATUS", "SERVICE", "OPENED", "ALERTS", "TITLE");
                    foreach (var i in p.Items)
                        table.AddRow(i.Id, Output.Word(i.Severity), Output.Word(i.Status), Output.Text(i.Service), Output.Time(i.OpenedAt), $"{i.FiringAlertCount}/{i.AlertCount}", Output.Text(i.Title));
                    console.Write(table);
                    if (p.Next is not null) console.MarkupLine("[grey]More incidents: raise --limit.[/]");
                });
                return Done;
            });
        });

        var incidentId = new Argument<string>("incident") { Description = "Incident id (inc-…)" };
        var show = new Command("show", "One incident with its alerts and chronicle") { incidentId };
        show.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(incidentId)!;
            if (!Ids.IsIncidentId(id)) return UsageError($"'{id}' is not an incident id.");
            return Run(parse, cancel, async (grains, output) =>
            {
                var incident = grains.GetGrain<IIncidentGrain>(id);
                var view = await incident.Describe();
                if (view is null) return Fail(Refused, $"No incident '{id}'.");
                var chronicle = await incident.GetChronicle() ?? [];
                var verification = await incident.VerifyChronicle();
                output.Write(new { incident = IncidentResponse.Of(view), chronicle, verification }, (console, _) => ShowIncident(console, view, chronicle, verification!));
                return Done;
            });
        });

        var actor = new Option<string>("--actor") { Description = "Who acts (default: your user name)", DefaultValueFactory = _ => Environment.UserName };
        var note = new Option<string?>("--note") { Description = "A note recorded with the action" };
        incidents.Add(list);
        incidents.Add(show);
        incidents.Add(Act("ack", "Acknowledge", incidentId, actor, null, (incident, parse) => incident.Acknowledge(parse.GetValue(actor)!)));
        incidents.Add(Act("resolve", "Resolve", incidentId, actor, note, (incident, parse) => incident.Resolve(parse.GetValue(actor)!, parse.GetValue(note))));
        var text = new Argument<string>("text") { Description = "The note" };
        var noteCommand = Act("note", "Add a note to the chronicle", incidentId, actor, null, (incident, parse) => incident.AddNote(parse.GetValue(actor)!, parse.GetValue(text)!));
        noteCommand.Add(text);
        incidents.Add(noteCommand);
        incidents.Add(Import(accountId));
        return incidents;
    }

    /// <summary>Backfill: past incidents from a JSON file, validated whole, so an account's SLA window is complete from its first day.</summary>
    private static Command Import(Argument<string> accountId)
    {
        var file = new Option<FileInfo>("--file", "-f")
        {
            Description = "JSON: {\"incidents\":[{service, severity, title, startedAt, acknowledgedAt, resolvedAt}]}",
            Required = true,
        };
        var import = new Command("import", "Import an account's past incidents (importing one twice changes nothing)") { accountId, file };
        import.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(accountId)!;
            if (!Ids.IsAccountId(id)) return UsageError($"'{id}' is not an account id ([a-z][a-z0-9-]{{0,62}}).");
            var path = parse.GetValue(file)!;
            if (!path.Exists) return UsageError($"{path.FullName}: no such file.");
            System.Text.Json.JsonDocument document;
            try
            {
                document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path.FullName));
            }
            catch (System.Text.Json.JsonException e)
            {
                return UsageError($"{path.Name} is not valid JSON: {e.Message}");
            }
            return Run(parse, cancel, async (grains, output) =>
            {
                using var _ = document;
                var config = await grains.GetGrain<IAccountGrain>(id).GetConfig();
                if (config is null) return Fail(Refused, $"No account '{id}'.");
                var errors = new List<string>();
                var past = IncidentImport.Read(document.RootElement, config, TimeProvider.System.GetUtcNow(), errors);
                if (errors.Count > 0) return Fail(Refused, $"{path.Name}: nothing was imported:\n  " + string.Join("\n  ", errors));
                var imported = await Task.WhenAll(past.Select(p => grains.GetGrain<IIncidentGrain>(p.IncidentId).Import(p)));
                var result = new { account = id, imported = imported.Count(i => i), alreadyThere = imported.Count(i => !i), incidents = past.Select(p => p.IncidentId).ToList() };
                output.Write(result, (console, r) => console.MarkupLine($"{r.imported} imported, {r.alreadyThere} already there"));
                return Done;
            });
        });
        return import;
    }

    private static Command Act(string name, string description, Argument<string> incidentId, Option<string> actor, Option<string?>? note,
        Func<IIncidentGrain, ParseResult, Task<CommandResult>> act)
    {
        var command = new Command(name, description) { incidentId, actor };
        if (note is not null) command.Add(note);
        command.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(incidentId)!;
            if (!Ids.IsIncidentId(id)) return UsageError($"'{id}' is not an incident id.");
            return Run(parse, cancel, async (grains, output) =>
            {
                var result = await act(grains.GetGrain<IIncidentGrain>(id), parse);
                if (result.Outcome is CommandOutcome.NotFound) return Fail(Refused, $"No incident '{id}'.");
                if (result.Outcome is CommandOutcome.Conflict) return Fail(Refused, result.Message!);
                var view = result.Incident!;
                output.Write(IncidentResponse.Of(view), (console, i) => console.MarkupLine(
                    $"{i.Id}: {Output.Word(i.Status)}{(result.Outcome == CommandOutcome.Unchanged ? " (unchanged)" : "")}"));
                return Done;
            });
        });
        return command;
    }

    private static void ShowIncident(IAnsiConsole console, IncidentView view, IReadOnlyList<ChronicleEntry> chronicle, ChronicleVerification verification)
    {
        var s = view.Summary;
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Incident", s.Id).AddRow("Title", Output.Text(s.Title)).AddRow("Account", Output.Text(s.AccountId))
            .AddRow("Service", Output.Text(s.Service) + (s.ServiceDeclared ? "" : " (undeclared)"))
            .AddRow("Severity", Output.Word(s.Severity)).AddRow("Status", Output.Word(s.Status))
            .AddRow("Started", Output.Time(s.StartedAt)).AddRow("Opened", Output.Time(s.OpenedAt))
            .AddRow("Acknowledged", $"{Output.Time(s.AcknowledgedAt)} {Output.Text(view.AcknowledgedBy)}")
            .AddRow("Resolved", $"{Output.Time(s.ResolvedAt)} {Output.Text(view.ResolvedBy)}");
        console.Write(grid);
        var alerts = Output.Table("FINGERPRINT", "STATUS", "SEV", "COUNT", "LABELS");
        foreach (var a in view.Alerts)
            alerts.AddRow(Output.Text(a.Fingerprint), Output.Word(a.Status), Output.Word(a.Severity), a.Count.ToString(),
                Output.Text(string.Join(" ", a.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))));
        console.Write(alerts);
        var entries = Output.Table("#", "AT", "KIND", "ACTOR", "TEXT");
        foreach (var e in chronicle) entries.AddRow(e.Seq.ToString(), Output.Time(e.At), Output.Text(e.Kind), Output.Text(e.Actor), Output.Text(e.Text));
        console.Write(entries);
        console.MarkupLine(verification.Valid
            ? $"Chronicle verified: {verification.Entries} entries, head {verification.HeadHash}"
            : $"[red]Chronicle does NOT verify[/] at entry {verification.FirstInvalidSeq}: {Output.Text(verification.Reason)}");
    }

    private static async Task<int> Run(ParseResult parse, CancellationToken cancellationToken, Func<IGrainFactory, Output, Task<int>> work)
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
            return await work(connection.Grains, new Output(parse.GetValue(JsonOutput)));
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
