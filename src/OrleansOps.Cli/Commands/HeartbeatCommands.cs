using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    /// <summary><c>opsctl heartbeats &lt;account&gt;</c>: where each of an account's heartbeats stands.</summary>
    private static Command Heartbeats()
    {
        var accountId = AccountArgument();
        var heartbeats = new Command("heartbeats", "An account's heartbeats: waiting (never pinged), up or missed, the last ping and the deadline") { accountId };
        heartbeats.SetAction((parse, cancel) => Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
        {
            var id = parse.GetValue(accountId)!;
            if (await grains.GetGrain<IAccountGrain>(id).GetConfig() is null) return Fail(Refused, Missing.Account(id));
            var list = await grains.GetGrain<IHeartbeatGrain>(id).List();
            output.Write(list, (console, items) =>
            {
                if (items.Count == 0)
                {
                    console.MarkupLine($"Account {Output.Text(id)} has no heartbeats (declare them under heartbeats: in its configuration).");
                    return;
                }
                var table = Output.Table("HEARTBEAT", "STATUS", "EVERY", "GRACE", "PINGED BY", "LAST PING", "PINGS", "DEADLINE / MISSED");
                foreach (var h in items)
                    table.AddRow(Output.Text(h.Name), h.Status == "missed" ? "[red]missed[/]" : h.Status, h.Interval, h.Grace,
                        Output.Text(h.Alert is { } alert ? $"alert {alert}" : "POST"), Output.Time(h.LastPing),
                        h.Pings.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        h.MissedAt is { } missed ? $"missed since {Output.Time(missed)}" : Output.Time(h.Deadline));
                console.Write(table);
            });
            return Done;
        }));
        return heartbeats;
    }
}
