using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Each credential has its own bucket: a noisy key gets 429 with Retry-After and nothing applied; another key and the admin API go on.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task A_key_over_its_limit_gets_429_with_Retry_After_while_another_key_is_served()
    {
        await using var server = await ServerProcess.StartAsync(settings:
        [
            "--OrleansOps:RateLimits:IngestPerSecond=5", "--OrleansOps:RateLimits:IngestBurst=5",
            "--OrleansOps:RateLimits:ApiPerSecond=5", "--OrleansOps:RateLimits:ApiBurst=5",
        ]);
        var account = "acct-rate-" + Guid.NewGuid().ToString("N")[..8];
        var (noisy, quiet) = ("e2e-key-" + Guid.NewGuid().ToString("N"), "e2e-key-" + Guid.NewGuid().ToString("N"));
        var (configured, problem) = await Api.PutYamlConfigAsync(server.Admin, account, $$"""
            id: {{account}}
            name: Rate limits
            services: [{id: api}]
            integrationKeys: [{name: noisy, key: {{noisy}}, defaultService: api}, {name: quiet, key: {{quiet}}, defaultService: api}]
            """);
        Assert.True(configured == 201, problem?.ToJsonString());

        async Task<HttpResponseMessage> PostAsync(string key, int n)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/alerts")
            {
                Content = new StringContent($$$"""[{"labels":{"alertname":"Burst{{{n}}}","severity":"warning"}}]""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return await server.Anonymous.SendAsync(request);
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(n => PostAsync(noisy, n)));
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        var accepted = answers.Count(a => a.StatusCode == HttpStatusCode.OK);
        Assert.InRange(accepted, 5, 15); // the burst, and what a second or two of refill adds
        Assert.Equal(30, accepted + refused.Count);
        var first = refused[0];
        Assert.True(first.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), first.Headers.RetryAfter?.ToString());
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, JsonNode.Parse(await first.Content.ReadAsStringAsync())!["status"]!.GetValue<int>());

        // The other key has a bucket of its own.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(quiet, 100)).StatusCode);

        // A refused batch was not applied: exactly the accepted alerts opened incidents (one per alert name).
        var incidents = await Api.GetOkAsync(server.Admin, $"/api/v1/accounts/{account}/incidents?limit=500");
        Assert.Equal(accepted + 1, incidents["items"]!.AsArray().Count);

        // The admin API is limited per token too.
        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => server.Admin.GetAsync($"/api/v1/accounts/{account}")));
        Assert.Contains(reads, r => r.StatusCode == HttpStatusCode.TooManyRequests);
    }
}
