using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.EndToEnd.Tests;

/// <summary>Small helpers over HttpClient that keep the tests reading like the API calls they make.</summary>
public static class Api
{
    public const string Json = "application/json";

    public static async Task<(int Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, string? body = null, string? bearer = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0)
        {
            try { json = JsonNode.Parse(text); } catch (JsonException) { json = JsonValue.Create(text); }
        }
        return ((int)response.StatusCode, json);
    }

    public static Task<(int Status, JsonNode? Body)> PostAsync(HttpClient client, string path, string body, string? bearer = null) =>
        SendAsync(client, HttpMethod.Post, path, body, bearer);

    /// <summary>PUT an account's configuration as YAML, the way operators write it.</summary>
    public static Task<(int Status, JsonNode? Body)> PutYamlConfigAsync(HttpClient client, string accountId, string yaml) =>
        SendAsync(client, HttpMethod.Put, $"/api/v1/accounts/{accountId}/config", yaml, contentType: "application/yaml");

    public static async Task<JsonNode> GetOkAsync(HttpClient client, string path)
    {
        var (status, body) = await SendAsync(client, HttpMethod.Get, path);
        Assert.True(status == 200, $"GET {path} answered {status}: {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>Every item of a list, following each page's <c>next</c> cursor to the end (500 a page unless the path says).</summary>
    public static async Task<JsonArray> GetAllAsync(HttpClient client, string path)
    {
        var items = new JsonArray();
        var first = path.Contains("limit=", StringComparison.Ordinal) ? path : path + (path.Contains('?') ? "&" : "?") + "limit=500";
        for (var page = await GetOkAsync(client, first); ; )
        {
            foreach (var item in page["items"]!.AsArray()) items.Add(item!.DeepClone());
            if (page["next"]?.GetValue<string>() is not { } next) return items;
            page = await GetOkAsync(client, $"{first}&cursor={Uri.EscapeDataString(next)}");
        }
    }

    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            await Task.Delay(250);
        }
    }
}
