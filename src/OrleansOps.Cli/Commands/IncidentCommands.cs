using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    private static Command Incidents()
    {
        var incidents = new Command("incidents", "Read and act on incidents");

        var accountId = AccountArgument();
        var status = new Option<string?>("--status") { Description = "triggered, acknowledged, resolved or open" };
        var limit = new Option<int>("--limit") { Description = "At most this many (1–500)", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "An account's incidents, newest first") { accountId, status, limit };
        list.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(accountId)!;
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
            return Run(parse, cancel, Reach.Account(id), async (grains, output) =>
            {
                var account = grains.GetGrain<IAccountGrain>(id);
                if (await account.Describe() is null) return Fail(Refused, Missing.Account(id));
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

        var incidentId = IncidentArgument();
        var show = new Command("show", "One incident with its alerts and chronicle") { incidentId };
        show.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(incidentId)!;
            return Run(parse, cancel, Reach.Incident(id), async (grains, output) =>
            {
                var incident = grains.GetGrain<IIncidentGrain>(id);
                var view = await incident.Describe();
                if (view is null) return Fail(Refused, Missing.Incident(id));
                var chronicle = await ChronicleAsync(incident);
                var verification = await incident.VerifyChronicle();
                output.Write(new { incident = IncidentResponse.Of(view), chronicle, verification }, (console, _) => ShowIncident(console, view, chronicle, verification!));
                return Done;
            });
        });

        var actor = ActorOption();
        var note = new Option<string?>("--note") { Description = "A note recorded with the action" };
        incidents.Add(list);
        incidents.Add(show);
        incidents.Add(Act("ack", "Acknowledge", incidentId, actor, null, (incident, parse) => incident.Acknowledge(parse.GetValue(actor)!)));
        incidents.Add(Act("resolve", "Resolve", incidentId, actor, note, (incident, parse) => incident.Resolve(parse.GetValue(actor)!, parse.GetValue(note))));
        incidents.Add(Act("reopen", "Reopen a resolved incident (its alerts correlate into it again; escalation starts over)", incidentId, actor, note,
            (incident, parse) => incident.Reopen(parse.GetValue(actor)!, parse.GetValue(note))));
        incidents.Add(Act("escalate", "Page the next escalation level now", incidentId, actor, null, (incident, parse) => incident.Escalate(parse.GetValue(actor)!)));
        var to = new Option<string>("--to") { Description = "Whom: user:<id>, schedule:<id>, team:<id> or channel:<id>", Required = true };
        var reassign = Act("reassign", "Hand the incident to a user, schedule, team or channel and page it now", incidentId, actor, null,
            (incident, parse) => incident.Reassign(parse.GetValue(actor)!, EscalationTarget.Parse(parse.GetValue(to))!));
        reassign.Add(to);
        reassign.Validators.Add(result =>
        {
            if (result.GetValue(to) is { } target && EscalationTarget.Parse(target) is null)
                result.AddError($"--to: '{target}' is not a target; write user:<id>, schedule:<id>, team:<id> or channel:<id>");
        });
        incidents.Add(reassign);
        var text = new Argument<string>("text") { Description = "The note" };
        var noteCommand = Act("note", "Add a note to the chronicle", incidentId, actor, null, (incident, parse) => incident.AddNote(parse.GetValue(actor)!, parse.GetValue(text)!));
        noteCommand.Add(text);
        incidents.Add(noteCommand);
        incidents.Add(Import(accountId));
        incidents.Add(CorrectSla(incidentId, actor));
        incidents.Add(Merge(incidentId, actor));
        incidents.Add(Split(incidentId, actor));
        return incidents;
    }

    /// <summary>One failure after all: the incident resolves into another of its account, which takes its alerts.</summary>
    private static Command Merge(Argument<string> incidentId, Option<string> actor)
    {
        var into = new Option<string>("--into") { Description = "The incident that takes its alerts", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why (required): it goes on both chronicles", Required = true };
        var command = new Command("merge", "Merge an incident into another of its account (it resolves pointing there; the other takes its alerts)")
            { incidentId, into, reason, actor };
        command.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(incidentId)!;
            var survivor = parse.GetValue(into)!;
            if (!Ids.IsIncidentId(survivor)) return UsageError($"--into '{survivor}' is not an incident id.");
            if (survivor == id) return UsageError("An incident cannot be merged into itself.");
            return Run(parse, cancel, Reach.Incident(id), async (grains, output) =>
            {
                if (await grains.GetGrain<IIncidentGrain>(id).Owner() is not { } account) return Fail(Refused, Missing.Incident(id));
                var result = await grains.GetGrain<ICorrelatorGrain>(account).Merge(id, survivor, parse.GetValue(actor)!, parse.GetValue(reason)!);
                if (result.Outcome is CommandOutcome.NotFound or CommandOutcome.Conflict) return Fail(Refused, result.Message!);
                output.Write(IncidentResponse.Of(result.Incident!), (console, i) => console.MarkupLine(
                    $"{id} merged into {i.Id}: {i.AlertCount} alerts, {Output.Word(i.Severity)}{(result.Outcome == CommandOutcome.Unchanged ? " (unchanged)" : "")}"));
                return Done;
            });
        });
        return command;
    }

    /// <summary>Alerts that are another failure after all: they leave into a new incident of their own.</summary>
    private static Command Split(Argument<string> incidentId, Option<string> actor)
    {
        var alert = new Option<string[]>("--alert") { Description = "An alert's fingerprint to split out (repeatable)" };
        var from = new Option<string?>("--from") { Description = "Or: the merged incident whose alerts go back out" };
        var reason = new Option<string>("--reason") { Description = "Why (required): it goes on both chronicles", Required = true };
        var command = new Command("split", "Split alerts out of an incident into a new one (by fingerprint, or those a merged incident brought)")
            { incidentId, alert, from, reason, actor };
        command.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(incidentId)!;
            var alerts = parse.GetValue(alert) ?? [];
            var merged = parse.GetValue(from);
            if ((alerts.Length == 0) == (merged is null)) return UsageError("Give the alerts to split out (--alert) or the merged incident (--from), not both.");
            if (merged is not null && !Ids.IsIncidentId(merged)) return UsageError($"--from '{merged}' is not an incident id.");
            return Run(parse, cancel, Reach.Incident(id), async (grains, output) =>
            {
                if (await grains.GetGrain<IIncidentGrain>(id).Owner() is not { } account) return Fail(Refused, Missing.Incident(id));
                var result = await grains.GetGrain<ICorrelatorGrain>(account).Split(id, alerts, merged, parse.GetValue(actor)!, parse.GetValue(reason)!);
                if (result.Outcome is CommandOutcome.NotFound or CommandOutcome.Conflict) return Fail(Refused, result.Message!);
                output.Write(IncidentResponse.Of(result.Incident!), (console, i) => console.MarkupLine(
                    $"{i.AlertCount} alerts split out of {id} into {i.Id}: {Output.Word(i.Status)}"));
                return Done;
            });
        });
        return command;
    }

    /// <summary>How an incident counts against its account's SLOs: left out (of all, or of named SLOs), an impact window, or the correction withdrawn.</summary>
    private static Command CorrectSla(Argument<string> incidentId, Option<string> actor)
    {
        var reason = new Option<string>("--reason") { Description = "Why (required): it goes on the chronicle and the reports", Required = true };
        var exclude = new Option<bool>("--exclude") { Description = "Leave the incident out of every SLO, or of those --slo names" };
        var slo = new Option<string[]>("--slo") { Description = "An SLO to leave it out of (repeatable): an availability SLO's name, or e.g. sev1-response" };
        var from = new Option<DateTimeOffset?>("--impact-start") { Description = "When its impact really began (e.g. 2026-12-01T10:00:00Z)" };
        var until = new Option<DateTimeOffset?>("--impact-end") { Description = "When its impact really ended" };
        var withdraw = new Option<bool>("--withdraw") { Description = "Withdraw the correction in force" };
        var command = new Command("correct-sla", "Correct how an incident counts against its account's SLOs (admin); every SLA figure recomputes")
            { incidentId, actor, reason, exclude, slo, from, until, withdraw };
        command.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(incidentId)!;
            return Run(parse, cancel, Reach.Admin, async (grains, output) =>
            {
                var errors = new List<string>();
                var asked = new SlaCorrectionRequest(parse.GetValue(actor)!, parse.GetValue(reason), parse.GetValue(withdraw), parse.GetValue(exclude),
                    parse.GetValue(slo) ?? [], parse.GetValue(from), parse.GetValue(until));
                var found = await grains.CorrectSlaAsync(id, asked, TimeProvider.System.GetUtcNow(), errors);
                if (errors.Count > 0) return Fail(Refused, "the correction is invalid; nothing was changed:\n  " + string.Join("\n  ", errors));
                if (found.Value is not { } result) return Fail(Refused, found.Missing!);
                if (result.Outcome is CommandOutcome.Conflict) return Fail(Refused, result.Message!);
                output.Write(IncidentResponse.Of(result.Incident!), (console, i) => console.MarkupLine(
                    $"{i.Id}: {(i.SlaCorrection is { } c ? Output.Text(c.Describe()) : "counted as it happened")}{(result.Outcome == CommandOutcome.Unchanged ? " (unchanged)" : "")}"));
                return Done;
            });
        });
        return command;
    }

    /// <summary>The whole chronicle, read a page at a time.</summary>
    private static async Task<List<ChronicleEntry>> ChronicleAsync(IIncidentGrain incident)
    {
        const int page = 1000;
        var chronicle = new List<ChronicleEntry>();
        while (await incident.GetChronicle(chronicle.Count > 0 ? chronicle[^1].Seq : 0, page) is { Count: > 0 } entries)
        {
            chronicle.AddRange(entries);
            if (entries.Count < page) break;
        }
        return chronicle;
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
            return Run(parse, cancel, Reach.Account(id, adminOnly: true), async (grains, output) =>
            {
                using var _ = document;
                var config = await grains.GetGrain<IAccountGrain>(id).GetConfig();
                if (config is null) return Fail(Refused, Missing.Account(id));
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
            return Run(parse, cancel, Reach.Incident(id), async (grains, output) =>
            {
                var result = await act(grains.GetGrain<IIncidentGrain>(id), parse);
                if (result.Outcome is CommandOutcome.NotFound) return Fail(Refused, Missing.Incident(id));
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
}
