using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Optimistic concurrency on account configuration: ETags from the config version, If-Match and If-None-Match on PUT.</summary>
[Collection(SharedServer.Name)]
public sealed class ConfigETagTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static string NewAccountId() => "acct-etag-" + Guid.NewGuid().ToString("N")[..10];

    private static string Yaml(string id, string name) => $"id: {id}\nname: {name}\nservices:\n  - id: web\n";

    private sealed record Answer(int Status, string? ETag, string? ContentType, JsonNode? Body);

    private async Task<Answer> SendAsync(HttpMethod method, string path, string? yaml = null, string? ifMatch = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (yaml is not null) request.Content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        using var response = await Server.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer((int)response.StatusCode, response.Headers.ETag?.ToString(), response.Content.Headers.ContentType?.MediaType,
            text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    private Task<Answer> PutAsync(string id, string name, string? ifMatch = null, string? ifNoneMatch = null) =>
        SendAsync(HttpMethod.Put, $"/api/v1/accounts/{id}/config", Yaml(id, name), ifMatch, ifNoneMatch);

    private Task<Answer> GetConfigAsync(string id, string? ifNoneMatch = null) =>
        SendAsync(HttpMethod.Get, $"/api/v1/accounts/{id}/config", ifNoneMatch: ifNoneMatch);

    private static void AssertProblem(Answer answer, int status, string mentions)
    {
        Assert.Equal(status, answer.Status);
        Assert.Equal("application/problem+json", answer.ContentType);
        Assert.Equal(status, answer.Body!["status"]!.GetValue<int>());
        Assert.Contains(mentions, answer.Body["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_write_with_the_current_etag_applies_and_a_stale_one_gets_412_and_changes_nothing()
    {
        var id = NewAccountId();
        // If-Match on an account that does not exist matches nothing, and creates nothing.
        AssertProblem(await PutAsync(id, "Ghost", ifMatch: "\"v1\""), 412, "no configuration");
        Assert.Equal(404, (await GetConfigAsync(id)).Status);

        var created = await PutAsync(id, "First", ifNoneMatch: "*");
        Assert.Equal(201, created.Status);
        Assert.Equal("\"v1\"", created.ETag);
        // If-None-Match: * only creates: the account is there now.
        var again = await PutAsync(id, "Clobber", ifNoneMatch: "*");
        AssertProblem(again, 412, "already exists");
        Assert.Equal("\"v1\"", again.ETag);

        var read = await GetConfigAsync(id);
        Assert.Equal(200, read.Status);
        Assert.Equal("\"v1\"", read.ETag);
        Assert.Equal("First", read.Body!["name"]!.GetValue<string>());
        Assert.Equal(304, (await GetConfigAsync(id, ifNoneMatch: read.ETag)).Status);

        var replaced = await PutAsync(id, "Second", ifMatch: read.ETag);
        Assert.Equal(200, replaced.Status);
        Assert.Equal("\"v2\"", replaced.ETag);
        Assert.Equal("Second", replaced.Body!["name"]!.GetValue<string>());
        Assert.Equal(200, (await GetConfigAsync(id, ifNoneMatch: read.ETag)).Status); // no longer current

        // The tag read before that write is stale now.
        var stale = await PutAsync(id, "Lost update", ifMatch: read.ETag);
        AssertProblem(stale, 412, "\"v2\"");
        Assert.Equal("\"v2\"", stale.ETag);
        var after = await GetConfigAsync(id);
        Assert.Equal("\"v2\"", after.ETag);
        Assert.Equal("Second", after.Body!["name"]!.GetValue<string>());
        Assert.Equal(2, (await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}"))["configVersion"]!.GetValue<int>());

        // A weak tag never matches a write; If-Match: * matches any existing configuration.
        AssertProblem(await PutAsync(id, "Weak", ifMatch: "W/\"v2\""), 412, "\"v2\"");
        Assert.Equal("\"v3\"", (await PutAsync(id, "Any", ifMatch: "*")).ETag);
        // Without a precondition a write applies as it always has.
        var unconditional = await PutAsync(id, "Last writer wins");
        Assert.Equal(200, unconditional.Status);
        Assert.Equal("\"v4\"", unconditional.ETag);
    }

    [Fact]
    public async Task The_same_configuration_sent_again_keeps_its_version_and_a_changed_one_gets_the_next()
    {
        var id = NewAccountId();
        Assert.Equal("\"v1\"", (await PutAsync(id, "Steady")).ETag);

        // A client that retries, or applies the file it applied before, changes nothing: the version and ETag stay.
        var again = await PutAsync(id, "Steady");
        Assert.Equal(200, again.Status);
        Assert.Equal("\"v1\"", again.ETag);
        Assert.Equal("Steady", again.Body!["name"]!.GetValue<string>());
        var again2 = await PutAsync(id, "Steady", ifMatch: "\"v1\"");
        Assert.Equal("\"v1\"", again2.ETag);
        Assert.Equal("\"v1\"", (await GetConfigAsync(id)).ETag);
        var account = await Api.GetOkAsync(Server.Admin, $"/api/v1/accounts/{id}");
        Assert.Equal(1, account["configVersion"]!.GetValue<long>());

        Assert.Equal("\"v2\"", (await PutAsync(id, "Changed")).ETag);
    }

    [Fact]
    public async Task Malformed_preconditions_are_refused_with_400_naming_the_header()
    {
        var id = NewAccountId();
        Assert.Equal(201, (await PutAsync(id, "First")).Status);
        AssertProblem(await PutAsync(id, "Second", ifMatch: "v1"), 400, "If-Match");
        AssertProblem(await PutAsync(id, "Second", ifNoneMatch: "\"v1\""), 400, "If-None-Match");
        Assert.Equal("First", (await GetConfigAsync(id)).Body!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Of_concurrent_writes_holding_the_same_etag_exactly_one_wins()
    {
        var id = NewAccountId();
        var etag = (await PutAsync(id, "Base")).ETag;
        Assert.Equal("\"v1\"", etag);

        const int writers = 8;
        var answers = await Task.WhenAll(Enumerable.Range(0, writers).Select(i => PutAsync(id, $"Writer {i}", ifMatch: etag)));

        var winners = answers.Where(a => a.Status == 200).ToList();
        var winner = Assert.Single(winners);
        Assert.Equal("\"v2\"", winner.ETag);
        Assert.All(answers.Where(a => a != winner), a => AssertProblem(a, 412, "\"v2\""));
        var stored = await GetConfigAsync(id);
        Assert.Equal("\"v2\"", stored.ETag);
        Assert.Equal(winner.Body!["name"]!.GetValue<string>(), stored.Body!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Json_writes_take_the_same_preconditions()
    {
        var id = NewAccountId();
        Assert.Equal(201, (await PutAsync(id, "Yaml")).Status);
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/accounts/{id}/config")
        {
            Content = new StringContent($$"""{"id":"{{id}}","name":"Json","services":[{"id":"web"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"v1\""));
        using var response = await Server.Admin.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("\"v2\"", response.Headers.ETag?.ToString());
    }
}
