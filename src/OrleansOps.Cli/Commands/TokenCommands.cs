using System.CommandLine;
using Spectre.Console;

namespace OrleansOps.Cli;

public static partial class Commands
{
    /// <summary><c>opsctl tokens create|list|rotate|revoke</c>: the API tokens, as /api/v1/tokens keeps them; admins only.</summary>
    private static Command Tokens()
    {
        var tokens = new Command("tokens", "API tokens: admin tokens reach everything, account tokens one account");
        tokens.Add(CreateToken());
        tokens.Add(ListTokens());
        tokens.Add(RotateToken());
        tokens.Add(RevokeToken());
        return tokens;
    }

    private static Command CreateToken()
    {
        var name = new Option<string>("--name") { Description = "Who or what will use it, e.g. acme-noc", Required = true };
        var account = new Option<string?>("--account") { Description = "An account token for this account" };
        var admin = new Option<bool>("--admin") { Description = "An admin token, reaching every account" };
        var expires = new Option<DateTimeOffset?>("--expires") { Description = "When it stops working, e.g. 2027-12-31T00:00:00Z (default never)" };
        var create = new Command("create", "Issue a token; its text is shown only this once") { name, account, admin, expires };
        create.SetAction((parse, cancel) =>
        {
            if (parse.GetValue(admin) == parse.GetValue(account) is not null)
                return UsageError("give either --account <id> or --admin.");
            var now = TimeProvider.System.GetUtcNow();
            var tokenId = Ids.NewTokenId();
            var (text, secretSha256) = TokenText.New(tokenId);
            var (token, errors) = TokenRequest.Create(parse.GetValue(name), parse.GetValue(admin) ? "admin" : "account", parse.GetValue(account),
                parse.GetValue(expires), tokenId, secretSha256, createdBy: "opsctl", now);
            if (token is null) return UsageError("the token request is invalid:\n  " + string.Join("\n  ", errors));
            return Run(parse, cancel, Reach.Admin, async (grains, output, grant) =>
            {
                var (issued, refused) = await grains.IssueAsync(token with { CreatedBy = grant.TokenId }, text, now);
                if (issued is null) return Fail(Refused, string.Join("; ", refused));
                output.Write(issued, (console, i) =>
                {
                    console.MarkupLine($"{i.Details.Id}: {Describe(i.Details)}");
                    console.MarkupLine($"token: {Output.Text(i.Token)}");
                    console.MarkupLine("[grey]Keep it now: it is shown only this once, and only its hash is stored.[/]");
                });
                return Done;
            });
        });
        return create;
    }

    private static Command ListTokens()
    {
        var account = new Option<string?>("--account") { Description = "Only this account's tokens" };
        var list = new Command("list", "Every token (never their secrets)") { account };
        list.SetAction((parse, cancel) => Run(parse, cancel, Reach.Admin, async (grains, output) =>
        {
            var tokens = await grains.ListTokensAsync(parse.GetValue(account), TimeProvider.System.GetUtcNow());
            output.Write(new Page<TokenView>(tokens, null), (console, page) =>
            {
                var table = Output.Table("TOKEN", "NAME", "SCOPE", "STATUS", "CREATED", "EXPIRES", "SECRETS");
                foreach (var t in page.Items)
                    table.AddRow(t.Id, Output.Text(t.Name), Output.Text(t.Account is null ? t.Scope : $"account {t.Account}"), t.Status,
                        Output.Time(t.CreatedAt), Output.Time(t.ExpiresAt), Secrets(t));
                console.Write(table);
            });
            return Done;
        }));
        return list;
    }

    private static Command RotateToken()
    {
        var tokenId = TokenArgument();
        var overlap = new Option<string?>("--overlap") { Description = "How long the old secret keeps working: 24h by default, 0s for not at all, at most 30d" };
        var rotate = new Command("rotate", "A new secret for a token; the old one keeps working for --overlap") { tokenId, overlap };
        rotate.SetAction((parse, cancel) =>
        {
            var (span, error) = TokenRequest.Overlap(parse.GetValue(overlap));
            if (error is not null) return UsageError("--" + error);
            return Run(parse, cancel, Reach.Admin, async (grains, output) =>
            {
                var rotated = await grains.RotateTokenAsync(parse.GetValue(tokenId)!, span, TimeProvider.System.GetUtcNow());
                if (rotated.Value is not { } issued) return Fail(Refused, rotated.Missing!);
                output.Write(issued, (console, i) =>
                {
                    console.MarkupLine($"{i.Details.Id}: {Secrets(i.Details)}");
                    console.MarkupLine($"token: {Output.Text(i.Token)}");
                });
                return Done;
            });
        });
        return rotate;
    }

    private static Command RevokeToken()
    {
        var tokenId = TokenArgument();
        var revoke = new Command("revoke", "Stop a token now, every secret of it") { tokenId };
        revoke.SetAction((parse, cancel) => Run(parse, cancel, Reach.Admin, async (grains, output, grant) =>
        {
            var revoked = await grains.RevokeTokenAsync(parse.GetValue(tokenId)!, grant.TokenId, TimeProvider.System.GetUtcNow());
            if (revoked.Value is not { } view) return Fail(Refused, revoked.Missing!);
            output.Write(view, (console, t) => console.MarkupLine($"{t.Id}: {t.Status}"));
            return Done;
        }));
        return revoke;
    }

    private static Argument<string> TokenArgument() =>
        IdArgument("token", "Token id (tok-…)", TokenText.IsTokenId, id => $"'{id}' is not a token id (tok- and 16 letters and digits 2-7).");

    private static string Describe(TokenView token) =>
        Output.Text($"{token.Name}, {(token.Account is null ? "admin" : $"account {token.Account}")}, {token.Status}" +
                    (token.ExpiresAt is { } at ? $", expires {Output.Time(at)}" : ""));

    private static string Secrets(TokenView token) =>
        string.Join("; ", token.Secrets.Select(s => s.RetiresAt is { } at ? $"one retiring {Output.Time(at)}" : "one current"));
}
