using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// opsctl with --token acts with that token's reach, refusing what the HTTP API refuses it, in the same words; and
/// opsctl tokens issues, lists, rotates and revokes the tokens the API takes.
/// </summary>
[Collection(SharedServer.Name)]
public sealed class OpsctlTokenTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private Task<(int ExitCode, string Out, string Err)> OpsctlAsync(params string[] args) => Opsctl.RunAsync(Server, args);

    private async Task<(string Account, string Incident)> NewAccountWithIncidentAsync(string what)
    {
        var account = $"acct-tok-{what}-{Guid.NewGuid():N}"[..24]; // acct-: other tests tell test accounts from the demo ones
        var key = $"key-{Guid.NewGuid():N}";
        Server.TreatAsSecret(key);
        var (status, problem) = await Api.PutYamlConfigAsync(Server.Admin, account, $$"""
            id: {{account}}
            name: {{what}}
            services: [{id: web}]
            integrationKeys:
              - {name: main, key: {{key}}, defaultService: web}
            """);
        Assert.True(status == 201, problem?.ToJsonString());
        var (ingested, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Down","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, ingested);
        return (account, receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_account_token_reaches_its_account_only_in_opsctl_as_over_http()
    {
        var (mine, myIncident) = await NewAccountWithIncidentAsync("mine");
        var (theirs, theirIncident) = await NewAccountWithIncidentAsync("theirs");

        var (created, issued, createError) = await OpsctlAsync("tokens", "create", "--account", mine, "--name", "noc", "--json");
        Assert.True(created == 0, createError);
        var token = JsonNode.Parse(issued)!["token"]!.GetValue<string>();
        Server.TreatAsSecret(token);

        var (listCode, list, _) = await OpsctlAsync("--token", token, "accounts", "list", "--json");
        Assert.Equal(0, listCode);
        Assert.Equal([mine], JsonNode.Parse(list)!["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()));
        var (ackCode, _, ackError) = await OpsctlAsync("--token", token, "incidents", "ack", myIncident, "--actor", "noc");
        Assert.True(ackCode == 0, ackError);

        // Another account's things: the same words as for things that do not exist, exit code 1.
        foreach (var (args, refusal) in new[]
        {
            (new[] { "accounts", "show", theirs }, $"No account '{theirs}'."),
            (["sla", theirs], $"No account '{theirs}'."),
            (["incidents", "list", theirs], $"No account '{theirs}'."),
            (["incidents", "show", theirIncident], $"No incident '{theirIncident}'."),
            (["incidents", "resolve", theirIncident], $"No incident '{theirIncident}'."),
            (["silence", "add", theirs, "--matcher", "alertname=Down", "--ends", "1h", "--comment", "quiet"], $"No account '{theirs}'."),
            (["tokens", "list"], "needs an admin token"),
        })
        {
            var (code, output, error) = await OpsctlAsync(["--token", token, .. args]);
            Assert.True(code == 1, $"opsctl {string.Join(' ', args)} exited {code}: {output}{error}");
            Assert.Contains(refusal, error);
        }
        Assert.Equal("triggered", (await Api.GetOkAsync(Server.Admin, $"/api/v1/incidents/{theirIncident}"))["status"]!.GetValue<string>());

        // An integration key is not a token.
        var (keyCode, _, keyError) = await OpsctlAsync("--token", "demo-key-healthnet", "accounts", "list");
        Assert.Equal(1, keyCode);
        Assert.Contains("not a working API token", keyError);
    }

    [Fact]
    public async Task Tokens_issued_listed_rotated_and_revoked_from_opsctl_are_the_ones_the_api_takes()
    {
        var (account, _) = await NewAccountWithIncidentAsync("rotate");
        var (_, issued, _) = await OpsctlAsync("tokens", "create", "--account", account, "--name", "ci", "--json");
        var first = JsonNode.Parse(issued)!;
        var tokenId = first["details"]!["id"]!.GetValue<string>();
        var firstToken = first["token"]!.GetValue<string>();
        Server.TreatAsSecret(firstToken);
        Assert.Equal("opsctl", first["details"]!["createdBy"]!.GetValue<string>());

        var (tableCode, table, _) = await OpsctlAsync("tokens", "list", "--account", account);
        Assert.Equal(0, tableCode);
        Assert.Matches($@"{tokenId}\s+ci\s+account {account}\s+active\s", table);
        Assert.DoesNotContain(firstToken[(firstToken.IndexOf('.') + 1)..], table);
        var (_, json, _) = await OpsctlAsync("tokens", "list", "--account", account, "--json");
        Assert.True(JsonNode.DeepEquals(await Api.GetOkAsync(Server.Admin, $"/api/v1/tokens?account={account}"), JsonNode.Parse(json)));

        var (rotateCode, rotated, rotateError) = await OpsctlAsync("tokens", "rotate", tokenId, "--overlap", "0s", "--json");
        Assert.True(rotateCode == 0, rotateError);
        var secondToken = JsonNode.Parse(rotated)!["token"]!.GetValue<string>();
        Server.TreatAsSecret(secondToken);
        Assert.Equal(401, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: firstToken)).Status);
        Assert.Equal(200, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: secondToken)).Status);
        var (oldCode, _, oldError) = await OpsctlAsync("--token", firstToken, "sla", account);
        Assert.Equal(1, oldCode);
        Assert.Contains("not a working API token", oldError);

        var (revokeCode, revoked, _) = await OpsctlAsync("tokens", "revoke", tokenId);
        Assert.Equal(0, revokeCode);
        Assert.Equal($"{tokenId}: revoked", revoked.Trim());
        Assert.Equal(401, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: secondToken)).Status);

        var (usageCode, _, usage) = await OpsctlAsync("tokens", "create", "--name", "both", "--admin", "--account", account);
        Assert.Equal(2, usageCode);
        Assert.Contains("either --account", usage);
    }
}
