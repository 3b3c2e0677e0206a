using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Integrations.Notifications;

/// <summary>
/// Slack's interactive buttons on a page: the actions they carry, Slack's request signature, and reading the
/// interaction Slack posts when one is pressed. Slack signs each request with the app's signing secret:
/// <c>X-Slack-Signature: v0=</c> and the hex HMAC-SHA256 of <c>v0:{X-Slack-Request-Timestamp}:{raw body}</c>.
/// </summary>
public static class SlackInteractions
{
    public const string TimestampHeader = "X-Slack-Request-Timestamp";
    public const string SignatureHeader = "X-Slack-Signature";
    private const string Version = "v0";

    /// <summary>Slack's own advice: refuse a request whose timestamp is more than five minutes away, so a captured one cannot be replayed.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public const string Acknowledge = "orleansops.acknowledge";
    public const string Resolve = "orleansops.resolve";
    public const string Escalate = "orleansops.escalate";
    public static readonly IReadOnlyList<(string ActionId, string Label)> Actions = [(Acknowledge, "Acknowledge"), (Resolve, "Resolve"), (Escalate, "Escalate")];

    /// <summary>The <c>X-Slack-Signature</c> value of a body sent at <paramref name="unixSeconds"/>.</summary>
    public static string Sign(string secret, long unixSeconds, string body) =>
        Version + "=" + Convert.ToHexStringLower(Mac(secret, unixSeconds.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes(body)));

    /// <summary>Whether the request is Slack's: signed with <paramref name="secret"/>, and sent within <see cref="Tolerance"/> of <paramref name="now"/>.</summary>
    public static bool Verify(string secret, string? timestampHeader, ReadOnlySpan<byte> body, string? signatureHeader, DateTimeOffset now)
    {
        // Slack's scheme is our own webhook's in other words: the same freshness and hex MAC checks.
        if (!WebhookSignature.IsFresh(timestampHeader, now, Tolerance) || !WebhookSignature.TryDecode(signatureHeader, Version + "=", out var presented)) return false;
        return CryptographicOperations.FixedTimeEquals(presented, Mac(secret, timestampHeader!, body));
    }

    private static byte[] Mac(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes($"{Version}:{timestamp}:"));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    /// <summary>A button pressed on a page: who pressed it (their Slack member id), which action, on which incident, and where to answer.</summary>
    public sealed record Pressed(string SlackUserId, string ActionId, string IncidentId, string? ResponseUrl, JsonArray? MessageBlocks);

    /// <summary>
    /// Reads the form Slack posts (<c>payload=</c> and the interaction's JSON); null when it is not a press of one of our
    /// buttons (another kind of interaction, or another app's button).
    /// </summary>
    public static Pressed? Read(string formBody)
    {
        var payload = FormValue(formBody, "payload");
        if (payload is null) return null;
        JsonNode? root;
        try { root = JsonNode.Parse(payload); }
        catch (JsonException) { return null; }
        if (root?["type"]?.GetValueKind() != JsonValueKind.String || root["type"]!.GetValue<string>() != "block_actions") return null;
        var action = root["actions"] is JsonArray { Count: > 0 } actions ? actions[0] : null;
        var actionId = Text(action?["action_id"]);
        var incidentId = Text(action?["value"]);
        var user = Text(root["user"]?["id"]);
        if (actionId is null || Actions.All(a => a.ActionId != actionId) || incidentId is null || user is null) return null;
        return new Pressed(user, actionId, incidentId, Text(root["response_url"]), root["message"]?["blocks"] as JsonArray);
    }

    /// <summary>
    /// The page as it reads after the press: its blocks without the buttons, a line saying what was done, by whom and
    /// when, and the buttons still meaningful (none once resolved). Sent to the interaction's <c>response_url</c>.
    /// </summary>
    public static JsonObject Updated(Pressed pressed, string outcome, bool resolved)
    {
        var blocks = new JsonArray();
        string? incidentLink = null;
        foreach (var block in pressed.MessageBlocks ?? [])
        {
            if (Text(block?["type"]) == "actions")
                incidentLink ??= (block!["elements"] as JsonArray ?? []).Select(e => Text(e?["url"])).FirstOrDefault(u => u is not null);
            else if (Text(block?["type"]) != "context") blocks.Add(block!.DeepClone());
        }
        blocks.Add(new JsonObject { ["type"] = "context", ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = outcome }) });
        if (ActionsBlock(pressed.IncidentId, incidentLink, buttons: !resolved) is { } actions) blocks.Add(actions);
        return new JsonObject { ["replace_original"] = true, ["text"] = outcome, ["blocks"] = blocks };
    }

    /// <summary>A note only the presser sees, the page left as it was (a refusal).</summary>
    public static JsonObject Ephemeral(string text) =>
        new() { ["response_type"] = "ephemeral", ["replace_original"] = false, ["text"] = text };

    /// <summary>The page's actions: the incident's link, and with <paramref name="buttons"/> the three actions; null when there is neither.</summary>
    internal static JsonObject? ActionsBlock(string incidentId, string? incidentLink, bool buttons)
    {
        var elements = new JsonArray();
        if (buttons)
            foreach (var (actionId, label) in Actions)
            {
                var button = new JsonObject
                {
                    ["type"] = "button", ["action_id"] = actionId, ["value"] = incidentId,
                    ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = label },
                };
                if (actionId == Acknowledge) button["style"] = "primary";
                elements.Add(button);
            }
        if (incidentLink is not null)
            elements.Add(new JsonObject { ["type"] = "button", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = "Open incident" }, ["url"] = incidentLink });
        return elements.Count == 0 ? null : new JsonObject { ["type"] = "actions", ["elements"] = elements };
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is { Length: > 0 } text ? text : null;

    private static string? FormValue(string form, string name)
    {
        foreach (var pair in form.Split('&'))
        {
            var equals = pair.IndexOf('=');
            if (equals > 0 && Uri.UnescapeDataString(pair[..equals].Replace('+', ' ')) == name)
                return Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
        }
        return null;
    }
}
