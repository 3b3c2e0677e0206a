using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    private static Command Accounts()
    {
        var accounts = new Command("accounts", "Accounts and their services");
        var list = new Command("list", "Every account");
        list.SetAction((parse, cancel) => Run(parse, cancel, Reach.Anything, async (grains, output, grant) =>
        {
            var ids = (await grains.GetGrain<IAccountDirectoryGrain>(GrainKeys.Directory).List()).Where(grant.Covers);
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

        var accountId = AccountArgument();
        var show = new Command("show", "One account") { accountId };
        show.SetAction((parse, cancel) =>
        {
            var id = parse.GetValue(accountId)!;
            return Run(parse, cancel, Reach.Account(id), async (grains, output) =>
            {
                var view = await grains.GetGrain<IAccountGrain>(id).Describe();
                if (view is null) return Fail(Refused, Missing.Account(id));
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
}
