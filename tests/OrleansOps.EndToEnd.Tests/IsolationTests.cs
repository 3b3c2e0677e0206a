using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// Tenants are isolated: an account token reaches its own account and nothing else, on every endpoint the API
/// publishes; another account's resources answer exactly as missing ones do; integration keys read nothing; and tokens
/// rotate with an overlap and revoke.
/// </summary>
[Collection(SharedServer.Name)]
public sealed partial class IsolationTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private sealed record Tenant(string Account, string IntegrationKey, string Incident, string Silence, string Schedule, string Token, string TokenId);

    /// <summary>Ids of nothing: what an account token gets for another account's resources must not differ from these.</summary>
    private static readonly Tenant Ghost = new(
        "ghost-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), "", "inc-" + RandomBase32(), "sil-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
        "primary", "", "tok-" + RandomBase32());

    [Fact]
    public async Task Every_endpoint_answers_another_accounts_token_as_if_the_resource_did_not_exist_and_changes_nothing()
    {
        var mine = await NewTenantAsync("iso-mine");
        var theirs = await NewTenantAsync("iso-theirs");
        var before = await SnapshotAsync(theirs);
        var operations = await TokenOperationsAsync();
        Assert.True(operations.Count >= 37, $"only {operations.Count} operations take an API token");

        var refused = 0;
        foreach (var (method, template) in operations)
        {
            var name = $"{method} {template}";
            if (template is "/api/v1/accounts" or "/api/v1/me" or "/api/v1/fleet/incidents") continue; // the caller's own view, checked below and in the next test
            var (status, problem) = await SendAsync(method, template, theirs, mine.Token);
            Assert.True(status is 403 or 404, $"{name} answered {status} to another account's token: {problem?.ToJsonString()}");

            // The same request about nothing answers alike, word for word once the ids are set aside.
            var (ghostStatus, ghostProblem) = await SendAsync(method, template, Ghost, mine.Token);
            Assert.Equal(status, ghostStatus);
            Assert.Equal(Normalize(ghostProblem, Ghost), Normalize(problem, theirs));
            if (status == 404 && method != HttpMethod.Put) // an admin's PUT about nothing would create it
            {
                // And as an admin learns that it does not exist: the refusal says nothing an admin would not hear.
                var (adminStatus, adminProblem) = await SendAsync(method, template, Ghost, ServerProcess.AdminToken);
                Assert.True(adminStatus == 404, $"{name} about nothing answered the admin {adminStatus}");
                Assert.Equal(Normalize(adminProblem, Ghost), Normalize(problem, theirs));
            }

            // An integration key reads nothing, even its own account's.
            var (keyStatus, _) = await SendAsync(method, template, theirs, theirs.IntegrationKey);
            Assert.True(keyStatus == 401, $"{name} answered {keyStatus} to an integration key");
            refused++;
        }
        Assert.Equal(operations.Count - 3, refused);

        // The routes that take other credentials (ingest keys, ITSM inbound secrets) take no API token either, not
        // even in a key's place: an account token there is an unknown credential.
        var others = await OperationsAsync(security => security is "integrationKey" or "inboundSecret");
        others.AddRange((await OperationsAsync(security => security is null)).Where(o => o.Template.StartsWith("/i/{key}/", StringComparison.Ordinal)));
        Assert.True(others.Count >= 10, $"only {others.Count} ingest and ITSM operations");
        foreach (var (method, template) in others)
        {
            var path = template.Replace("{key}", mine.Token).Replace("{accountId}", theirs.Account);
            var body = template.Contains("enqueue") ? $$$"""{"routing_key":"{{{mine.Token}}}","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"critical"}}"""
                : template.Contains("integrations/alertmanager") ? """{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Injected"}}]}"""
                : template.Contains("/api/v1/alerts") ? """{"alerts":[{"labels":{"alertname":"Injected"}}]}"""
                : template.Contains("/api/v2/alerts") ? """[{"labels":{"alertname":"Injected"}}]"""
                : """{"number":"INC0010001","state":"6"}""";
            var (status, problem) = await Api.SendAsync(Server.Anonymous, method, path, body, mine.Token);
            Assert.True(status == 401, $"{method} {template} answered {status} to an account token: {problem?.ToJsonString()}");
        }

        // Nothing of theirs changed, and their token still works (mine could not revoke or rotate it).
        Assert.Equal(before, await SnapshotAsync(theirs));
        var (meStatus, me) = await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: theirs.Token);
        Assert.Equal(200, meStatus);
        Assert.Equal(theirs.Account, me!["account"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_account_token_reads_and_acts_on_its_own_account_and_sees_only_it()
    {
        var mine = await NewTenantAsync("iso-own");
        await NewTenantAsync("iso-other");

        var (listStatus, list) = await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: mine.Token);
        Assert.Equal(200, listStatus);
        Assert.Equal([mine.Account], list!["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()));
        var (meStatus, me) = await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: mine.Token);
        Assert.Equal(200, meStatus);
        Assert.Equal(("account", mine.Account, mine.TokenId),
            (me!["scope"]!.GetValue<string>(), me["account"]!.GetValue<string>(), me["tokenId"]!.GetValue<string>()));

        // Every read of its own account and incidents answers; the live feed is skipped here (it streams).
        foreach (var (method, template) in (await TokenOperationsAsync()).Where(o => o.Method == HttpMethod.Get && IsAccountResource(o.Template)))
        {
            if (template == "/api/v1/live") continue;
            var (status, body) = await SendAsync(method, template, mine, mine.Token);
            Assert.True(status == 200, $"GET {template} answered {status} to its own account's token: {body?.ToJsonString()}");
        }
        // Across the fleet it finds its own incidents and none of the other account's.
        var (fleetStatus, fleetIncidents) = await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/fleet/incidents?limit=500", bearer: mine.Token);
        Assert.Equal(200, fleetStatus);
        Assert.Equal([mine.Account], fleetIncidents!["items"]!.AsArray().Select(i => i!["account"]!.GetValue<string>()).Distinct());
        Assert.Contains(mine.Incident, fleetIncidents["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
        // It acts on its incidents and silences.
        var (ackStatus, acked) = await Api.PostAsync(Server.Anonymous, $"/api/v1/incidents/{mine.Incident}/ack", """{"actor":"noc"}""", mine.Token);
        Assert.Equal(200, ackStatus);
        Assert.Equal("acknowledged", acked!["status"]!.GetValue<string>());

        // What belongs to the platform, not to a tenant, is refused with 403: the fleet, the cluster, tokens, writing
        // the contract (configuration) and rewriting its history (import).
        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Get, "/api/v1/fleet/sla", null), (HttpMethod.Get, "/api/v1/cluster/silos", null), (HttpMethod.Get, "/api/v1/correlation", null),
            (HttpMethod.Get, "/api/v1/tokens", null), (HttpMethod.Post, "/api/v1/tokens", """{"name":"escalate","scope":"admin"}"""),
            (HttpMethod.Post, $"/api/v1/tokens/{mine.TokenId}/rotate", "{}"), (HttpMethod.Delete, $"/api/v1/tokens/{mine.TokenId}", null),
            (HttpMethod.Put, $"/api/v1/accounts/{mine.Account}/config", $$"""{"id":"{{mine.Account}}","name":"Renamed"}"""),
            (HttpMethod.Post, $"/api/v1/accounts/{mine.Account}/incidents/import", """{"incidents":[]}"""),
            (HttpMethod.Get, "/api/v1/live?topic=fleet", null),
        })
        {
            var (status, problem) = await Api.SendAsync(Server.Anonymous, method, path, body, mine.Token);
            Assert.True(status == 403, $"{method} {path} answered {status} to an account token: {problem?.ToJsonString()}");
        }
        Assert.Equal(1, (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{mine.Account}"))["configVersion"]!.GetValue<int>());

        // /metrics carries every account's figures: not for an account token.
        using var metrics = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        metrics.Headers.Authorization = new("Bearer", mine.Token);
        using var scrape = await Server.Anonymous.SendAsync(metrics);
        Assert.Equal(401, (int)scrape.StatusCode);
    }

    [Fact]
    public async Task Tokens_rotate_with_an_overlap_revoke_and_are_stored_only_as_hashes()
    {
        var tenant = await NewTenantAsync("iso-rotate");
        async Task<int> Me(string token) => (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: token)).Status;

        // Rotation with an overlap: the old and the new secret both work, the old one retiring in an hour.
        var (rotated, second) = await Api.PostAsync(Server.Admin, $"/api/v1/tokens/{tenant.TokenId}/rotate", """{"overlap":"1h"}""");
        Assert.Equal(200, rotated);
        var secondToken = second!["token"]!.GetValue<string>();
        Server.TreatAsSecret(secondToken);
        Assert.StartsWith(tenant.TokenId + ".", secondToken);
        Assert.Equal((200, 200), (await Me(tenant.Token), await Me(secondToken)));
        var secrets = second["details"]!["secrets"]!.AsArray();
        Assert.Equal(2, secrets.Count);
        var retiresIn = secrets[0]!["retiresAt"]!.GetValue<DateTimeOffset>() - secrets[1]!["issuedAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(retiresIn, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
        Assert.Null(secrets[1]!["retiresAt"]);

        // Rotation without an overlap: both earlier secrets stop at once.
        var (cut, third) = await Api.PostAsync(Server.Admin, $"/api/v1/tokens/{tenant.TokenId}/rotate", """{"overlap":"0s"}""");
        Assert.Equal(200, cut);
        var thirdToken = third!["token"]!.GetValue<string>();
        Server.TreatAsSecret(thirdToken);
        Assert.Equal((401, 401, 200), (await Me(tenant.Token), await Me(secondToken), await Me(thirdToken)));

        // Neither the list nor the token's page shows a secret or its hash.
        var listed = (await Api.GetOkAsync(Server.Admin, $"/api/v1/tokens?account={tenant.Account}")).ToJsonString();
        var shown = (await Api.GetOkAsync(Server.Admin, $"/api/v1/tokens/{tenant.TokenId}")).ToJsonString();
        foreach (var token in new[] { tenant.Token, secondToken, thirdToken })
        {
            var secret = token[(token.IndexOf('.') + 1)..];
            var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
            Assert.DoesNotContain(secret, listed + shown);
            Assert.DoesNotContain(hash, listed + shown);
        }
        Assert.Contains($"\"id\":\"{tenant.TokenId}\"", listed);

        // Revoked: nothing of it works, and it says so.
        var (revoked, view) = await Api.SendAsync(Server.Admin, HttpMethod.Delete, $"/api/v1/tokens/{tenant.TokenId}");
        Assert.Equal(200, revoked);
        Assert.Equal("revoked", view!["status"]!.GetValue<string>());
        Assert.Equal(401, await Me(thirdToken));
        var (again, _) = await Api.PostAsync(Server.Admin, $"/api/v1/tokens/{tenant.TokenId}/rotate", "{}");
        Assert.Equal(404, again); // a revoked token is not brought back by rotating it
    }

    [Fact]
    public async Task An_issued_admin_token_reaches_every_account_and_bad_token_requests_issue_nothing()
    {
        var tenant = await NewTenantAsync("iso-admin");
        var (issued, admin) = await Api.PostAsync(Server.Admin, "/api/v1/tokens", """{"name":"platform-oncall","scope":"admin"}""");
        Assert.Equal(201, issued);
        var adminToken = admin!["token"]!.GetValue<string>();
        Server.TreatAsSecret(adminToken);
        Assert.Equal("admin", admin["details"]!["scope"]!.GetValue<string>());
        foreach (var path in new[] { "/api/v1/fleet/sla", $"/api/v1/accounts/{tenant.Account}/incidents", $"/api/v1/incidents/{tenant.Incident}", "/api/v1/tokens" })
        {
            var (status, body) = await Api.SendAsync(Server.Anonymous, HttpMethod.Get, path, bearer: adminToken);
            Assert.True(status == 200, $"GET {path} answered {status} to an issued admin token: {body?.ToJsonString()}");
        }

        var count = (await Api.GetAllAsync(Server.Admin, "/api/v1/tokens")).Count;
        foreach (var (body, field) in new[]
        {
            ("""{"scope":"admin"}""", "name"),
            ("""{"name":"x","scope":"root"}""", "scope"),
            ("""{"name":"x","scope":"account"}""", "account"),
            ("""{"name":"x","scope":"account","account":"no-such-account-here"}""", "account"),
            ("""{"name":"x","scope":"admin","account":"healthnet"}""", "account"),
            ("""{"name":"x","scope":"admin","expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt"),
            ("""{"name":"x","scope":"admin","expiresAt":"soon"}""", "expiresAt"),
            ("""["admin"]""", "$"),
        })
        {
            var (status, problem) = await Api.PostAsync(Server.Admin, "/api/v1/tokens", body);
            Assert.True(status == 400, $"{body} answered {status}");
            Assert.Contains(field + ":", problem!["detail"]!.GetValue<string>());
        }
        var (overlapStatus, overlapProblem) = await Api.PostAsync(Server.Admin, $"/api/v1/tokens/{tenant.TokenId}/rotate", """{"overlap":"31d"}""");
        Assert.Equal(400, overlapStatus);
        Assert.Contains("overlap", overlapProblem!["detail"]!.GetValue<string>());
        Assert.Equal(count, (await Api.GetAllAsync(Server.Admin, "/api/v1/tokens")).Count);
        Assert.Equal(200, (await Api.SendAsync(Server.Anonymous, HttpMethod.Get, "/api/v1/me", bearer: tenant.Token)).Status); // not rotated
    }

    [Fact]
    public async Task The_configured_admin_token_may_be_given_as_its_hash_alone()
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        await using var server = await ServerProcess.StartAsync(settings: ["--OrleansOps:AdminToken=", $"--OrleansOps:AdminTokenSha256={hash}"]);
        server.TreatAsSecret(token);
        Assert.Equal(200, (await Api.SendAsync(server.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: token)).Status);
        Assert.Equal(401, (await Api.SendAsync(server.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: ServerProcess.AdminToken)).Status);
        Assert.Equal(401, (await Api.SendAsync(server.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: hash)).Status);
        Assert.Contains("admin token: as configured", server.Output);
    }

    [Fact]
    public async Task Without_a_configured_admin_token_the_generated_one_is_kept_in_the_data_folder_for_the_next_start()
    {
        var data = ServerProcess.NewTempFolder("orleansops-e2e-token");
        try
        {
            string token;
            await using (var first = await ServerProcess.StartAsync(dataPath: data, settings: ["--OrleansOps:AdminToken="]))
            {
                var banner = await Api.EventuallyAsync(() => Task.FromResult<string?>(first.Output.Contains("admin token:") ? first.Output : null),
                    TimeSpan.FromSeconds(10), "the banner");
                token = System.Text.RegularExpressions.Regex.Match(banner, @"admin token: ([0-9a-f]{32}) ").Groups[1].Value;
                Assert.Equal(32, token.Length);
                // What a new user reads: what the server is doing first, then the banner, without the host's repeats.
                Assert.StartsWith($"OrleansOps is starting: opening the data folder {data} and the silo", banner);
                Assert.Matches(@"OrleansOps is running at http://127\.0\.0\.1:\d+ \(started in \d+\.\d s\)", banner);
                Assert.DoesNotContain("Now listening on", banner);
                Assert.DoesNotContain("MembershipAgent", banner);
                Assert.Contains($"(new; kept in {Path.Combine(data, "admin-token")} for the next start", first.Output);
                Assert.Equal(200, (await Api.SendAsync(first.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: token)).Status);
            }
            var kept = Path.Combine(data, "admin-token");
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kept));

            Assert.Equal(token, (await File.ReadAllTextAsync(kept)).Trim());

            // Restarted on the same folder: the same token, so a signed-in dashboard and scripts go on working. The banner
            // now says where it is, not what it is: a log kept for months should not hold it.
            await using (var second = await ServerProcess.StartAsync(dataPath: data, settings: ["--OrleansOps:AdminToken="]))
            {
                var again = await Api.EventuallyAsync(() => Task.FromResult<string?>(second.Output.Contains("admin token:") ? second.Output : null),
                    TimeSpan.FromSeconds(10), "the banner");
                Assert.Contains($"admin token: in {kept}   (cat it to sign in", again);
                Assert.DoesNotContain(token, again);
                Assert.Equal(200, (await Api.SendAsync(second.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: token)).Status);
                Assert.Equal(401, (await Api.SendAsync(second.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: ServerProcess.AdminToken)).Status);
                Assert.DoesNotContain("could be read by other users", again);
            }

            // Restored with loose permissions (a copy, a backup): the next start makes it the owner's only again, and says so.
            if (OperatingSystem.IsWindows()) return;
            File.SetUnixFileMode(kept, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            await using var third = await ServerProcess.StartAsync(dataPath: data, settings: ["--OrleansOps:AdminToken="]);
            var told = await Api.EventuallyAsync(() => Task.FromResult<string?>(third.Output.Contains("admin token:") ? third.Output : null),
                TimeSpan.FromSeconds(10), "the banner");
            Assert.Contains($"note: {kept} could be read by other users; it is now readable by its owner only", told);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kept));
            Assert.Equal(200, (await Api.SendAsync(third.Anonymous, HttpMethod.Get, "/api/v1/accounts", bearer: token)).Status);
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { /* best effort */ }
        }
    }

    /// <summary>A fresh account with a service, a schedule, an integration key, an open incident, a silence and an account token.</summary>
    private async Task<Tenant> NewTenantAsync(string prefix)
    {
        var account = $"acct-{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}"; // acct-: other tests tell test accounts from the demo ones
        var key = "key-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        Server.TreatAsSecret(key);
        var (created, problem) = await Api.SendAsync(Server.Admin, HttpMethod.Put, $"/api/v1/accounts/{account}/config", $$"""
            id: {{account}}
            name: {{prefix}} tenant
            services:
              - id: web
            integrationKeys:
              - {name: main, key: {{key}}, defaultService: web}
            users:
              - id: ana
                name: Ana
                contacts:
                  - {id: work, kind: email, address: ana@example.test}
            schedules:
              - id: primary
                layers:
                  - {start: "2026-11-02T09:00", turn: 1w, users: [ana]}
            """, contentType: "application/yaml");
        Assert.True(created == 201, problem?.ToJsonString());
        var (ingested, receipt) = await Api.PostAsync(Server.Anonymous, "/api/v2/alerts",
            """[{"labels":{"alertname":"HighErrorRate","severity":"critical"}}]""", bearer: key);
        Assert.Equal(200, ingested);
        var incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        var (silenced, silence) = await Api.PostAsync(Server.Admin, $"/api/v1/accounts/{account}/silences",
            $$"""{"matchers":["alertname=\"DiskFull\""],"endsAt":"{{DateTimeOffset.UtcNow.AddHours(1):O}}","createdBy":"ana","comment":"disk swap"}""");
        Assert.Equal(201, silenced);
        var (issued, token) = await Api.PostAsync(Server.Admin, "/api/v1/tokens", $$"""{"name":"{{prefix}}-noc","scope":"account","account":"{{account}}"}""");
        Assert.True(issued == 201, token?.ToJsonString());
        var text = token!["token"]!.GetValue<string>();
        Server.TreatAsSecret(text);
        return new Tenant(account, key, incident, silence!["id"]!.GetValue<string>(), "primary", text, token["details"]!["id"]!.GetValue<string>());
    }

    /// <summary>Every operation the API publishes behind an API token, from its OpenAPI document: new endpoints join the matrix by themselves.</summary>
    private Task<List<(HttpMethod Method, string Template)>> TokenOperationsAsync() => OperationsAsync(security => security == "apiToken");

    /// <summary>The published operations whose bearer scheme (null: none) satisfies <paramref name="scheme"/>.</summary>
    private async Task<List<(HttpMethod Method, string Template)>> OperationsAsync(Func<string?, bool> scheme)
    {
        var document = await Api.GetOkAsync(Server.Anonymous, "/openapi/v1.json");
        return document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject()
                .Where(op => scheme(op.Value!["security"]?.AsArray().SelectMany(s => s!.AsObject().Select(r => r.Key)).FirstOrDefault()))
                .Select(op => (new HttpMethod(op.Key.ToUpperInvariant()), path.Key)))
            .ToList();
    }

    private static bool IsAccountResource(string template) =>
        template.StartsWith("/api/v1/accounts/{accountId}", StringComparison.Ordinal) || template.StartsWith("/api/v1/incidents/", StringComparison.Ordinal);

    /// <summary>The operation about <paramref name="tenant"/>'s resources, with a body that would be accepted: a refusal is the scope's doing, not the body's.</summary>
    /// <summary>An incident a merge names as the one to merge into: another id of nothing.</summary>
    private static readonly string Elsewhere = "inc-" + RandomBase32();

    private Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string template, Tenant tenant, string bearer)
    {
        var path = RouteParameter().Replace(template, match => match.Groups[1].Value switch
        {
            "accountId" => tenant.Account,
            "incidentId" => tenant.Incident,
            "silenceId" => tenant.Silence,
            "scheduleId" => tenant.Schedule,
            "tokenId" => tenant.TokenId,
            var other => throw new InvalidOperationException($"The isolation matrix does not know route parameter {{{other}}} of {template}; teach it."),
        });
        path += template switch
        {
            "/api/v1/live" => $"?topic=account:{tenant.Account}",
            "/api/v1/accounts/{accountId}/reports/sla" => $"?period={DateTimeOffset.UtcNow:yyyy-MM}",
            _ => "",
        };
        var body = (method.Method, template) switch
        {
            ("PUT", "/api/v1/accounts/{accountId}/config") => $$"""{"id":"{{tenant.Account}}","name":"Taken over"}""",
            ("POST", "/api/v1/accounts/{accountId}/silences") =>
                $$"""{"matchers":["alertname=~\".*\""],"endsAt":"{{DateTimeOffset.UtcNow.AddHours(1):O}}","createdBy":"mallory","comment":"quiet"}""",
            ("POST", "/api/v1/accounts/{accountId}/incidents/import") =>
                $$"""{"incidents":[{"service":"web","severity":"sev1","title":"Rewritten history","startedAt":"{{DateTimeOffset.UtcNow.AddDays(-2):O}}","resolvedAt":"{{DateTimeOffset.UtcNow.AddDays(-2).AddHours(1):O}}"}]}""",
            ("POST", "/api/v1/tokens") => $$"""{"name":"mallory","scope":"account","account":"{{tenant.Account}}"}""",
            ("POST", "/api/v1/incidents/{incidentId}/merge") => $$"""{"actor":"mallory","into":"{{Elsewhere}}","reason":"mine now"}""",
            ("POST", "/api/v1/incidents/{incidentId}/split") => """{"actor":"mallory","alerts":["0123456789abcdef"],"reason":"mine now"}""",
            ("POST", _) when template.StartsWith("/api/v1/incidents/", StringComparison.Ordinal) => """{"actor":"mallory","text":"mine now","to":"user:ana"}""",
            ("POST", _) => "{}",
            _ => null,
        };
        return Api.SendAsync(Server.Anonymous, method, path, body, bearer);
    }

    /// <summary>Admin-held state of the tenant that no other account's token may change.</summary>
    private async Task<string> SnapshotAsync(Tenant tenant)
    {
        var parts = new List<string>();
        foreach (var path in new[]
        {
            $"/api/v1/accounts/{tenant.Account}", $"/api/v1/accounts/{tenant.Account}/config", $"/api/v1/accounts/{tenant.Account}/incidents",
            $"/api/v1/incidents/{tenant.Incident}", $"/api/v1/incidents/{tenant.Incident}/chronicle", $"/api/v1/accounts/{tenant.Account}/silences",
            $"/api/v1/tokens?account={tenant.Account}",
        })
            parts.Add((await Api.GetOkAsync(Server.Admin, path)).ToJsonString());
        return string.Join("\n", parts);
    }

    /// <summary>A problem's status, title and detail with the tenant's ids replaced by their names.</summary>
    private static string Normalize(JsonNode? problem, Tenant tenant)
    {
        var text = $"{problem?["status"]} {problem?["title"]} {problem?["detail"]}";
        foreach (var (id, name) in new[] { (tenant.Account, "{account}"), (tenant.Incident, "{incident}"), (tenant.Silence, "{silence}"), (tenant.TokenId, "{token}") })
            if (id.Length > 0) text = text.Replace(id, name, StringComparison.Ordinal);
        return text;
    }

    private static string RandomBase32() =>
        string.Concat(RandomNumberGenerator.GetBytes(16).Select(b => "abcdefghijklmnopqrstuvwxyz234567"[b & 31]));

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex RouteParameter();
}
