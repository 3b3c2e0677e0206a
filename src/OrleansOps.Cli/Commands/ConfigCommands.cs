using System.CommandLine;
using OrleansOps.Configuration;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    /// <summary>What <c>config apply</c> did: the account's new configuration version, and the configuration as the API's PUT answers it.</summary>
    public sealed record ConfigApplied(string Account, bool Created, long Version, AccountConfigDocument Config, bool Unchanged = false);

    /// <summary><c>opsctl config apply -f &lt;file&gt;</c>: an account file applied as the admin API's PUT applies it.</summary>
    private static Command Config()
    {
        var config = new Command("config", "Account configuration");
        var file = new Option<FileInfo>("--file", "-f") { Description = "An account file in YAML, as in the server's config folder (its id names the account)", Required = true };
        var apply = new Command("apply", "Create or replace an account's configuration from a file; an invalid file changes nothing") { file };
        apply.SetAction((parse, cancel) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists) return UsageError($"{path.FullName}: no such file.");
            string text;
            try
            {
                text = File.ReadAllText(path.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return UsageError($"{path.FullName}: cannot be read ({e.Message}).");
            }
            // The server's own reading and checks, before any connection: a refused file never reaches the cluster.
            var (account, errors) = YamlAccountConfig.ToDomain(text);
            if (account is null) return Task.FromResult(Refuse(path, errors));
            return Run(parse, cancel, Reach.Account(account.Id, adminOnly: true), async (grains, output) =>
            {
                var result = await grains.GetGrain<IAccountGrain>(account.Id).ApplyConfig(account, ConfigSource.Opsctl(path.Name, ConfigText.Hash(text)));
                if (result.Errors.Count > 0) return Refuse(path, result.Errors);
                output.Write(new ConfigApplied(account.Id, result.Created, result.Version, AccountConfigDocument.FromDomain(account), result.Unchanged), (console, applied) =>
                    console.MarkupLine(applied.Created
                        ? $"{Output.Text(applied.Account)}: created at configuration version {applied.Version}"
                        : applied.Unchanged
                            ? $"{Output.Text(applied.Account)}: configuration version {applied.Version} unchanged (the file says what is applied already)"
                            : $"{Output.Text(applied.Account)}: configuration version {applied.Version} applied (was {applied.Version - 1})"));
                return Done;
            });
        });
        config.Add(apply);
        return config;
    }

    private static int Refuse(FileInfo path, IReadOnlyList<string> errors) =>
        Fail(Refused, $"{path.Name} is invalid; nothing was changed:\n  " + string.Join("\n  ", errors));
}
