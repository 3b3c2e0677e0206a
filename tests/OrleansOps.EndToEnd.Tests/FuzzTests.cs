using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>
/// Ten thousand and more generated malformed and hostile requests, seeded, across the ingest routes and the admin
/// API: none gets a 5xx, the server stays up, and what it stores is exactly what it stored before.
/// Every request is invalid by construction (broken JSON, a wrong type where the schema says otherwise, a missing
/// required field, over a limit), often with valid alerts beside the bad one: a batch is taken whole or not at all.
/// Only the ServiceNow webhook may answer 200, when it says it applied nothing (a change that is not for an incident).
/// </summary>
public sealed class FuzzTests
{
    private const int Seed = 20261127;
    private const int RequestsPerTarget = 1100;

    private sealed record Target(string Name, HttpMethod Method, string Path, string? Bearer, string ContentType, Func<Random, byte[]> Body);

    [Fact]
    public async Task Ten_thousand_malformed_requests_get_4xx_and_change_nothing()
    {
        var inboundSecret = "fuzz-inbound-" + Guid.NewGuid().ToString("N");
        // Rate limits off: every request should reach the parsers, not a 429.
        await using var server = await ServerProcess.StartAsync(settings:
            [$"--E2E_ITSM_SECRET={inboundSecret}", "--OrleansOps:RateLimits:ApiPerSecond=0", "--OrleansOps:RateLimits:IngestPerSecond=0"]);
        var account = "acct-fuzz-" + Guid.NewGuid().ToString("N")[..8];
        var key = "e2e-key-" + Guid.NewGuid().ToString("N");
        var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
            id: {{account}}
            name: Fuzz
            services: [{id: api}]
            integrationKeys: [{name: e2e, key: {{key}}, defaultService: api}]
            itsm:
              serviceNow: {instanceUrl: "http://127.0.0.1:9/", usernameRef: E2E_SN_USER, passwordRef: E2E_SN_PASSWORD}
              inboundSecretRef: E2E_ITSM_SECRET
            """);
        Assert.True(configured == 201, problem?.ToJsonString());
        var (opened, receipt) = await Api.PostAsync(server.Anonymous, "/api/v2/alerts", """[{"labels":{"alertname":"Seed","severity":"warning"}}]""", bearer: key);
        Assert.Equal(200, opened);
        var incident = receipt!["alerts"]![0]!["incidentId"]!.GetValue<string>();
        var before = await SnapshotAsync(server, account, incident);

        var admin = ServerProcess.AdminToken;
        Target[] targets =
        [
            new("alertmanager v2", HttpMethod.Post, "/api/v2/alerts", key, "application/json", r => Alerts(r, AlertmanagerAlert, wrapInObject: null)),
            new("canonical", HttpMethod.Post, "/api/v1/alerts", key, "application/json", r => Alerts(r, CanonicalAlert, wrapInObject: "alerts")),
            new("alertmanager webhook", HttpMethod.Post, "/api/v1/integrations/alertmanager", key, "application/json", r => Webhook(r)),
            new("pagerduty", HttpMethod.Post, "/v2/enqueue", null, "application/json", r => PagerDuty(r, key)),
            new("config json", HttpMethod.Put, $"/api/v1/accounts/{account}/config", admin, "application/json", r => Config(r, account)),
            new("config yaml", HttpMethod.Put, $"/api/v1/accounts/{account}/config", admin, "application/yaml", r => Yaml(r, account)),
            new("silence", HttpMethod.Post, $"/api/v1/accounts/{account}/silences", admin, "application/json", r => Silence(r)),
            new("note", HttpMethod.Post, $"/api/v1/incidents/{incident}/notes", admin, "application/json", r => Command(r, "text")),
            new("resolve", HttpMethod.Post, $"/api/v1/incidents/{incident}/resolve", admin, "application/json", r => Command(r, "note")),
            new("import", HttpMethod.Post, $"/api/v1/accounts/{account}/incidents/import", admin, "application/json", r => Import(r)),
            new("token", HttpMethod.Post, "/api/v1/tokens", admin, "application/json", r => Token(r, account)),
            new("servicenow inbound", HttpMethod.Post, $"/api/v1/integrations/servicenow/{account}", inboundSecret, "application/json", r => Inbound(r)),
        ];

        var random = new Random(Seed);
        var requests = targets.SelectMany(t => Enumerable.Range(0, RequestsPerTarget).Select(_ => (Target: t, Body: t.Body(random)))).ToList();
        Assert.True(requests.Count >= 10_000);
        var serverErrors = new List<string>();
        var accepted = new List<string>();
        var statuses = new Dictionary<int, int>();
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (request, cancellationToken) =>
        {
            using var message = new HttpRequestMessage(request.Target.Method, request.Target.Path) { Content = new ByteArrayContent(request.Body) };
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.Target.ContentType);
            if (request.Target.Bearer is { } bearer) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            using var response = await client.SendAsync(message, cancellationToken);
            var status = (int)response.StatusCode;
            var ignored = request.Target.Name == "servicenow inbound" && status == 200
                && (await response.Content.ReadAsStringAsync(cancellationToken)).Contains("\"applied\":false", StringComparison.Ordinal);
            lock (statuses)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var text = Encoding.UTF8.GetString(request.Body);
                var sample = $"{request.Target.Name} {status}: {text[..Math.Min(200, text.Length)]}";
                if (status >= 500) serverErrors.Add(sample);
                else if (status < 400 && !ignored) accepted.Add(sample);
            }
        });

        var summary = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
        Assert.True(serverErrors.Count == 0, $"{serverErrors.Count} server errors ({summary}):\n" + string.Join("\n", serverErrors.Take(10)));
        Assert.True(accepted.Count == 0, $"{accepted.Count} accepted ({summary}):\n" + string.Join("\n", accepted.Take(10)));
        Assert.Equal(200, (await Api.SendAsync(server.Anonymous, HttpMethod.Get, "/healthz")).Status);
        var after = await SnapshotAsync(server, account, incident);
        Assert.Equal(before, after);
        Assert.DoesNotContain("Unhandled exception", server.Output);
    }

    /// <summary>What the server stores about the account: configuration, incidents, the incident's chronicle, silences, counters.</summary>
    private static async Task<string> SnapshotAsync(ServerProcess server, string account, string incident)
    {
        var parts = new List<string>();
        foreach (var path in new[]
        {
            $"/api/v1/accounts/{account}", $"/api/v1/accounts/{account}/config", $"/api/v1/accounts/{account}/incidents?limit=500",
            $"/api/v1/incidents/{incident}/chronicle", $"/api/v1/accounts/{account}/silences", $"/api/v1/accounts/{account}/correlation",
            "/api/v1/tokens?limit=500",
        })
        {
            var (status, body) = await Api.SendAsync(server.Admin, HttpMethod.Get, path);
            Assert.True(status == 200, $"{path}: {status}");
            parts.Add($"{path} {body!.ToJsonString()}");
        }
        return string.Join("\n", parts);
    }

    // ---- payloads: a valid document of each kind, then one way of breaking it ----

    private static byte[] Alerts(Random r, Func<Random, JsonObject> alert, string? wrapInObject)
    {
        var alerts = new JsonArray();
        var count = r.Next(1, 5);
        for (var i = 0; i < count; i++) alerts.Add(alert(r));
        // One alert of the batch is broken; the others are fine.
        Break(r, alerts[r.Next(count)]!.AsObject(), AlertBreakers);
        JsonNode document = wrapInObject is null ? alerts : new JsonObject { [wrapInObject] = alerts };
        return Serialize(r, document);
    }

    private static JsonObject AlertmanagerAlert(Random r) => new()
    {
        ["labels"] = new JsonObject { ["alertname"] = Word(r), ["service"] = "api", ["severity"] = "critical" },
        ["annotations"] = new JsonObject { ["summary"] = Hostile(r) },
        ["startsAt"] = "2026-11-27T10:00:00Z",
    };

    private static JsonObject CanonicalAlert(Random r) => new()
    {
        ["labels"] = new JsonObject { ["alertname"] = Word(r) },
        ["summary"] = Hostile(r),
        ["severity"] = "sev2",
        ["status"] = "firing",
    };

    /// <summary>Ways to make one alert invalid under its schema.</summary>
    private static readonly Action<Random, JsonObject>[] AlertBreakers =
    [
        (_, a) => a.Remove("labels"),
        (r, a) => a["labels"] = WrongType(r, except: "object"),
        (r, a) => a["labels"]!["alertname"] = r.Next(2) == 0 ? new JsonArray(1, 2) : new JsonObject { ["x"] = 1 },
        (_, a) => a["labels"] = new JsonObject(),
        (r, a) => a["labels"]!.AsObject()[r.Next(2) == 0 ? "" : new string('n', 257)] = "x",
        (_, a) => a["labels"]!["alertname"] = new string('v', 16 * 1024 + 1),
        (r, a) => { var labels = a["labels"]!.AsObject(); for (var i = 0; i < 129; i++) labels[$"l{i}"] = "v"; },
        (r, a) => a["annotations"] = WrongType(r, except: "object"),
        (_, a) => a["startsAt"] = "yesterday at noon",
        (r, a) => a["startsAt"] = r.Next(2) == 0 ? 1732700000 : new JsonArray(),
        (_, a) => a["endsAt"] = "2026-13-45T99:99:99Z",
    ];

    private static byte[] Webhook(Random r)
    {
        var document = new JsonObject
        {
            ["version"] = "4", ["status"] = "firing", ["receiver"] = "orleansops", ["groupKey"] = "{}:{}",
            ["groupLabels"] = new JsonObject(), ["commonLabels"] = new JsonObject(), ["commonAnnotations"] = new JsonObject(), ["externalURL"] = "http://am",
            ["alerts"] = new JsonArray(new JsonObject
            {
                ["status"] = "firing", ["labels"] = new JsonObject { ["alertname"] = Word(r) }, ["annotations"] = new JsonObject(),
                ["startsAt"] = "2026-11-27T10:00:00Z", ["endsAt"] = "0001-01-01T00:00:00Z", ["fingerprint"] = "abc",
            }),
        };
        Break(r, document,
        [
            (_, d) => d["version"] = "3",
            (r2, d) => d["version"] = WrongType(r2, except: "string"),
            (_, d) => d.Remove("alerts"),
            (r2, d) => d["alerts"] = WrongType(r2, except: "array"),
            (r2, d) => Break(r2, d["alerts"]![0]!.AsObject(), AlertBreakers),
            (_, d) => d["alerts"]![0]!["status"] = "exploded",
        ]);
        return Serialize(r, document);
    }

    private static byte[] PagerDuty(Random r, string key)
    {
        var document = new JsonObject
        {
            ["routing_key"] = key, ["event_action"] = "trigger",
            ["payload"] = new JsonObject { ["summary"] = Hostile(r), ["source"] = "prod-03", ["severity"] = "critical" },
        };
        Break(r, document,
        [
            (_, d) => d["event_action"] = "detonate",
            (_, d) => d["payload"]!.AsObject().Remove("summary"),
            (_, d) => d["payload"]!["summary"] = new string('s', 1025),
            (_, d) => d["payload"]!["severity"] = "apocalyptic",
            (r2, d) => d["payload"] = WrongType(r2, except: "object"),
            (_, d) => { d["event_action"] = "acknowledge"; d.Remove("dedup_key"); },
            (r2, d) => d["routing_key"] = WrongType(r2, except: "string"),
            (_, d) => d["payload"]!["timestamp"] = "the day after tomorrow",
        ]);
        return Serialize(r, document);
    }

    private static byte[] Config(Random r, string account)
    {
        var document = new JsonObject { ["id"] = account, ["name"] = "Fuzz", ["services"] = new JsonArray(new JsonObject { ["id"] = "api" }) };
        Break(r, document,
        [
            (_, d) => d["id"] = "someone-else",
            (_, d) => d["id"] = "Not An Id!",
            (r2, d) => d["services"] = WrongType(r2, except: "array"),
            (_, d) => d["services"] = new JsonArray(new JsonObject { ["id"] = "api" }, new JsonObject { ["id"] = "api" }),
            (_, d) => d["timeZone"] = "Mars/Olympus_Mons",
            (_, d) => d["sla"] = new JsonObject { ["availability"] = new JsonArray(new JsonObject { ["name"] = "a", ["target"] = 100.5, ["window"] = "30d" }) },
            (_, d) => d["sla"] = new JsonObject { ["availability"] = new JsonArray(new JsonObject { ["name"] = "a", ["target"] = 99.9, ["window"] = "forever" }) },
            (_, d) => d["correlation"] = new JsonObject { ["window"] = "-5m" },
            (_, d) => d["integrationKeys"] = new JsonArray(new JsonObject { ["name"] = "k" }),
            (_, d) => d["escalationPolicies"] = new JsonArray(new JsonObject { ["id"] = "p", ["levels"] = new JsonArray(new JsonObject { ["delay"] = "soon", ["targets"] = new JsonArray("user:nobody") }) }),
        ]);
        return Serialize(r, document);
    }

    private static byte[] Yaml(Random r, string account)
    {
        string[] broken =
        [
            $"id: {account}\nname: [unclosed\nservices: [{{id: api}}]",
            $"id: {account}\nname: Fuzz\nservices: {{id: api}}: nested: wrong",
            "\t- - - : :\n\t\t:",
            $"id: {account}\nname: Fuzz\nservices: [{{id: api}}]\nsla: {{availability: [{{name: a, target: abc, window: 30d}}]}}",
            $"id: &a [*a]\nname: Fuzz",
            $"id: {account}\nname: Fuzz\nservices: [{{id: api, dependsOn: [ghost]}}]",
            "!!binary AAAA",
            $"id: {account}\n" + string.Concat(Enumerable.Repeat("x: [", 200)),
        ];
        // Not damaged further: a cut YAML document can be a valid one.
        return Encoding.UTF8.GetBytes(broken[r.Next(broken.Length)]);
    }

    private static byte[] Silence(Random r)
    {
        var document = new JsonObject
        {
            ["matchers"] = new JsonArray(new JsonObject { ["name"] = "alertname", ["value"] = "Seed", ["isRegex"] = false, ["isEqual"] = true }),
            ["startsAt"] = "2026-11-27T10:00:00Z", ["endsAt"] = "2026-11-27T12:00:00Z", ["createdBy"] = "fuzz", ["comment"] = Hostile(r),
        };
        Break(r, document,
        [
            (_, d) => d.Remove("matchers"),
            (_, d) => d["matchers"] = new JsonArray(),
            (r2, d) => d["matchers"] = WrongType(r2, except: "array"),
            (_, d) => { d["matchers"]![0]!["isRegex"] = true; d["matchers"]![0]!["value"] = "(unclosed"; },
            (_, d) => d["matchers"]![0]!["name"] = "",
            (_, d) => d["endsAt"] = "2026-11-27T09:00:00Z",
            (_, d) => d["startsAt"] = "whenever",
            (_, d) => d["comment"] = new string('c', 2001),
            (_, d) => { var m = new JsonArray(); for (var i = 0; i < 33; i++) m.Add(new JsonObject { ["name"] = $"l{i}", ["value"] = "v", ["isRegex"] = false, ["isEqual"] = true }); d["matchers"] = m; },
        ]);
        // The valid form above may differ from the API's; only broken ones are sent, and 2xx fails the test.
        return Serialize(r, document);
    }

    private static byte[] Token(Random r, string account)
    {
        var document = new JsonObject { ["name"] = "fuzz", ["scope"] = "account", ["account"] = account, ["expiresAt"] = "2030-01-01T00:00:00Z" };
        Break(r, document,
        [
            (_, d) => d.Remove("name"),
            (r2, d) => d["name"] = WrongType(r2, except: "string"),
            (_, d) => d["name"] = new string('n', 101),
            (_, d) => d["name"] = "line\nbreak",
            (_, d) => d["scope"] = "root",
            (r2, d) => d["scope"] = WrongType(r2, except: "string"),
            (_, d) => d.Remove("account"),
            (_, d) => d["account"] = "no-such-account-" + account,
            (_, d) => d["account"] = "Not_An_Id",
            (_, d) => { d["scope"] = "admin"; },
            (_, d) => d["expiresAt"] = "2001-01-01T00:00:00Z",
            (_, d) => d["expiresAt"] = Hostile(r),
        ]);
        return Serialize(r, document);
    }

    private static byte[] Command(Random r, string textField)
    {
        var document = new JsonObject { ["actor"] = "fuzz", [textField] = "x" };
        Break(r, document,
        [
            (r2, d) => d["actor"] = WrongType(r2, except: "string"),
            (_, d) => d["actor"] = new string('a', 201),
            (_, d) => d[textField] = new string('t', 16 * 1024 + 1),
            (r2, d) => d[textField] = WrongType(r2, except: "string"),
        ]);
        return Serialize(r, document);
    }

    private static byte[] Import(Random r)
    {
        var past = new JsonObject
        {
            ["service"] = "api", ["severity"] = "sev1", ["title"] = Hostile(r),
            ["startedAt"] = "2026-11-01T10:00:00Z", ["acknowledgedAt"] = "2026-11-01T10:05:00Z", ["resolvedAt"] = "2026-11-01T11:00:00Z",
        };
        var document = new JsonObject { ["incidents"] = new JsonArray(past) };
        Break(r, past,
        [
            (_, p) => p["resolvedAt"] = "2026-10-01T00:00:00Z",
            (_, p) => p["severity"] = "sev9",
            (_, p) => p.Remove("startedAt"),
            (_, p) => p["startedAt"] = "2999-01-01T00:00:00Z",
            (r2, p) => p["title"] = WrongType(r2, except: "string"),
        ]);
        return Serialize(r, document);
    }

    private static byte[] Inbound(Random r)
    {
        var document = new JsonObject { ["correlation_id"] = "inc-doesnotexist", ["state"] = "6", ["sys_updated_by"] = "someone" };
        Break(r, document,
        [
            (r2, d) => d["correlation_id"] = WrongType(r2, except: "string"),
            (_, d) => d.Remove("correlation_id"),
            (r2, d) => d["state"] = WrongType(r2, except: "string"),
        ]);
        return Serialize(r, document);
    }

    // ---- the breaking tools ----

    private static void Break<T>(Random r, T node, Action<Random, T>[] breakers) => breakers[r.Next(breakers.Length)](r, node);

    /// <summary>A value of another JSON type (never null: a null may mean "not given", which can be allowed).</summary>
    private static JsonNode WrongType(Random r, string except)
    {
        var choices = new (string Type, Func<JsonNode> Make)[]
        {
            ("number", () => JsonValue.Create(r.Next(2) == 0 ? 42 : -1e308)),
            ("string", () => JsonValue.Create("<script>alert(1)</script>")),
            ("array", () => new JsonArray("a", 1, null)),
            ("object", () => new JsonObject { ["unexpected"] = true }),
            ("bool", () => JsonValue.Create(true)),
        }.Where(c => c.Type != except).ToArray();
        return choices[r.Next(choices.Length)].Make();
    }

    /// <summary>The document as JSON, sometimes also broken at the byte level (which makes it invalid JSON as well).</summary>
    private static byte[] Serialize(Random r, JsonNode document)
    {
        var bytes = Encoding.UTF8.GetBytes(document.ToJsonString());
        return r.Next(3) == 0 ? Mangle(r, bytes) : bytes;
    }

    /// <summary>
    /// Byte-level damage on top of a document already broken under its schema: truncation, stray structure, invalid
    /// UTF-8, NUL, deep nesting, a BOM and garbage, a number too large for anything.
    /// </summary>
    private static byte[] Mangle(Random r, byte[] bytes)
    {
        var text = new List<byte>(bytes);
        switch (r.Next(7))
        {
            case 0: return bytes[..Math.Max(1, r.Next(bytes.Length))];
            case 1:
                text.Insert(r.Next(text.Count), (byte)"{[\":,]}"[r.Next(7)]);
                text.Insert(r.Next(text.Count), (byte)'{');
                // Inside a string the stray characters are just text: keep the damage only where it breaks the JSON.
                if (ParsesAsJson([.. text])) return bytes[..Math.Max(1, bytes.Length - 1)];
                break;
            case 2: text.InsertRange(r.Next(text.Count), [0xC3, 0x28, 0xFF]); break;
            case 3: text.InsertRange(r.Next(text.Count), [0x00, 0x00]); text.Insert(0, (byte)'{'); break;
            case 4: return Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("[", 64 + r.Next(10_000))));
            case 5: text.InsertRange(0, [0xEF, 0xBB, 0xBF, (byte)'@', (byte)'#']); break;
            default: return Encoding.UTF8.GetBytes("{\"a\":" + new string('9', 400) + "e99999,}");
        }
        return [.. text];
    }

    private static bool ParsesAsJson(byte[] bytes)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(bytes);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static string Word(Random r) => "Fuzz" + r.Next(1000);

    private static string Hostile(Random r) => r.Next(4) switch
    {
        0 => "<script>alert(1)</script>",
        1 => "=HYPERLINK(\"https://evil.example\")",
        2 => "\u202E\u0007 <!channel> [x](https://evil.example)",
        _ => new string('x', r.Next(1, 2000)),
    };
}
