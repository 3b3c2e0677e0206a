using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    /// <summary>
    /// <c>opsctl oncall &lt;account&gt; &lt;schedule&gt;</c>: who is on call, and the shifts ahead, as GET
    /// /api/v1/accounts/{id}/schedules/{sid}/oncall. Schedules belong to an account, so both are named.
    /// </summary>
    private static Command OnCall()
    {
        var accountId = AccountArgument();
        var scheduleId = new Argument<string>("schedule") { Description = "Schedule id, as in the account's configuration" };
        var at = new Option<string?>("--at") { Description = "The instant to ask about, e.g. 2026-11-26T09:00:00Z (default now)" };
        var until = new Option<string?>("--until") { Description = "List shifts up to this instant (default a week after --at, at most 92 days)" };
        var oncall = new Command("oncall", "Who is on call in a schedule now (or --at), and the shifts until --until") { accountId, scheduleId, at, until };
        oncall.SetAction((parse, cancel) =>
        {
            var errors = new List<string>();
            var query = OnCallQuery.Parse(parse.GetValue(at), parse.GetValue(until), TimeProvider.System.GetUtcNow(), errors);
            if (query is null) return UsageError(string.Join("; ", errors.Select(e => "--" + e)));
            return Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
            {
                var found = await grains.OnCallAsync(parse.GetValue(accountId)!, parse.GetValue(scheduleId)!, query);
                if (found.Value is not { } response) return Fail(Refused, found.Missing!);
                output.Write(response, ShowOnCall);
                return Done;
            });
        });
        return oncall;
    }

    private static void ShowOnCall(IAnsiConsole console, OnCallResponse oncall)
    {
        var who = oncall.OnCall.Count == 0 ? "[yellow]nobody[/]" : Output.Text(string.Join(", ", oncall.OnCall));
        console.MarkupLine($"{Output.Text(oncall.Schedule)} ({Output.Text(oncall.Account)}) at {Output.Time(oncall.At)}: {who}");
        // Hand-offs are set in the schedule's zone, so its local times are the ones people recognise (when this machine knows the zone).
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(oncall.TimeZone, out var found) ? found : null;
        string Local(DateTimeOffset t) => zone is null ? "-" : TimeZoneInfo.ConvertTime(t, zone).ToString("ddd yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        var table = Output.Table("USER", "FROM", "TO", $"FROM ({Output.Text(oncall.TimeZone)})", $"TO ({Output.Text(oncall.TimeZone)})");
        foreach (var shift in oncall.Shifts) table.AddRow(Output.Text(shift.User), Output.Time(shift.Start), Output.Time(shift.End), Local(shift.Start), Local(shift.End));
        console.Write(table);
    }
}
