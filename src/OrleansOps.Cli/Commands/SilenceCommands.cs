using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    /// <summary>The request's field names as opsctl's options, so a refusal names what the operator typed.</summary>
    private static readonly (string Field, string Option)[] SilenceOptionNames =
        [("matchers", "--matcher"), ("startsAt", "--starts"), ("endsAt", "--ends"), ("createdBy", "--author"), ("comment", "--comment")];

    /// <summary><c>opsctl silence add|list|expire</c>: an account's silences, as the HTTP silences API keeps them.</summary>
    private static Command Silences()
    {
        var silence = new Command("silence", "Silence alerts by label matchers for a while; list and expire silences");
        silence.Add(AddSilence());
        silence.Add(ListSilences());
        silence.Add(ExpireSilence());
        return silence;
    }

    private static Command AddSilence()
    {
        var accountId = AccountArgument();
        var matchers = new Option<string[]>("--matcher")
        {
            Description = "name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\" (quotes optional without spaces or commas); repeat for more, all must match",
            AllowMultipleArgumentsPerToken = false,
        };
        var starts = new Option<string?>("--starts") { Description = "When it begins: a time like 2026-12-01T02:00:00Z, or a duration from now like 30m (default now)" };
        var ends = new Option<string?>("--ends") { Description = "When it ends: a time like 2026-12-01T04:00:00Z, or a duration from its start like 2h" };
        var comment = new Option<string>("--comment") { Description = "Why, for the record", Required = true };
        var author = ActorOption("--author", "Who silences (default: your user name)");
        var add = new Command("add", "Silence the alerts that match every --matcher, from --starts to --ends") { accountId, matchers, starts, ends, comment, author };
        add.SetAction((parse, cancel) =>
        {
            // Checked here, before any connection, by the rules the HTTP API applies to a posted silence.
            var now = TimeProvider.System.GetUtcNow();
            var errors = new List<string>();
            var startsAt = Instant(parse.GetValue(starts), now, "--starts", errors);
            var endsAt = Instant(parse.GetValue(ends), startsAt ?? now, "--ends", errors);
            if (errors.Count > 0) return UsageError(string.Join("; ", errors));
            var (request, problems) = SilenceRequest.Create(parse.GetValue(matchers) ?? [], startsAt, endsAt, parse.GetValue(author), parse.GetValue(comment), now);
            if (request is null) return UsageError("the silence is invalid; nothing was changed:\n  " + string.Join("\n  ", problems.Select(AsOption)));
            return Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
            {
                var stored = await grains.AddSilenceAsync(parse.GetValue(accountId)!, request, now);
                if (stored.Value is not { } view) return Fail(Refused, stored.Missing!);
                output.Write(view, (console, s) => console.MarkupLine(
                    $"{s.Id}: {s.State} from {Output.Time(s.StartsAt)} until {Output.Time(s.EndsAt)}, silencing {Output.Text(string.Join(" ", s.Matchers))}"));
                return Done;
            });
        });
        return add;
    }

    private static Command ListSilences()
    {
        var accountId = AccountArgument();
        var list = new Command("list", "An account's pending, active and recently ended silences, newest first") { accountId };
        list.SetAction((parse, cancel) => Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
        {
            var found = await grains.SilencesAsync(parse.GetValue(accountId)!, TimeProvider.System.GetUtcNow());
            if (found.Value is not { } page) return Fail(Refused, found.Missing!);
            output.Write(page, (console, p) =>
            {
                var table = Output.Table("SILENCE", "STATE", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT");
                foreach (var s in p.Items)
                    table.AddRow(s.Id, s.State, Output.Text(string.Join(" ", s.Matchers)), Output.Time(s.StartsAt),
                        s.ExpiredAt is { } expired ? $"{Output.Time(expired)} (expired by {Output.Text(s.ExpiredBy)})" : Output.Time(s.EndsAt),
                        Output.Text(s.CreatedBy), Output.Text(s.Comment));
                console.Write(table);
            });
            return Done;
        }));
        return list;
    }

    private static Command ExpireSilence()
    {
        var accountId = AccountArgument();
        var silenceId = new Argument<string>("silence") { Description = "Silence id (sil-…)" };
        var actor = ActorOption();
        var expire = new Command("expire", "End a silence now; the alerts it held are evaluated again") { accountId, silenceId, actor };
        expire.SetAction((parse, cancel) =>
        {
            var who = parse.GetValue(actor)!;
            if (who.Length > SilenceRequest.MaxAuthorLength) return UsageError($"--actor is longer than {SilenceRequest.MaxAuthorLength} characters.");
            return Run(parse, cancel, Reach.Account(parse.GetValue(accountId)!), async (grains, output) =>
            {
                var expired = await grains.ExpireSilenceAsync(parse.GetValue(accountId)!, parse.GetValue(silenceId)!, who, TimeProvider.System);
                if (expired.Value is not { } view) return Fail(Refused, expired.Missing!);
                output.Write(view, (console, s) => console.MarkupLine(s.ExpiredAt is { } at
                    ? $"{s.Id}: {s.State} at {Output.Time(at)} by {Output.Text(s.ExpiredBy)}"
                    : $"{s.Id}: {s.State}, ended {Output.Time(s.EndsAt)}"));
                return Done;
            });
        });
        return expire;
    }

    /// <summary>A time (2026-12-01T02:00:00Z) or a duration after <paramref name="from"/> (2h); null when not given.</summary>
    private static DateTimeOffset? Instant(string? text, DateTimeOffset from, string option, List<string> errors)
    {
        if (text is null) return null;
        if (Durations.TryParse(text, out var duration)) return from + duration;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)) return instant;
        errors.Add($"{option} '{text}' is neither a time like 2026-12-01T02:00:00Z nor a duration like 2h.");
        return null;
    }

    private static string AsOption(string error)
    {
        foreach (var (field, option) in SilenceOptionNames)
        {
            if (error.StartsWith(field, StringComparison.Ordinal)) return option + error[field.Length..];
        }
        return error;
    }
}
