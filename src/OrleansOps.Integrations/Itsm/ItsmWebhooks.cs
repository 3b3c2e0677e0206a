using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OrleansOps.Integrations.Itsm;

public enum InboundActionKind
{
    Acknowledge,
    Resolve,
    Note,
}

/// <summary>What a ticket system's webhook asks of an incident.</summary>
public sealed record InboundAction(string IncidentId, InboundActionKind Kind, string Actor, string? Text);

/// <summary>
/// Reads ServiceNow's and Jira's webhooks into actions on incidents, and refuses our own echoes: a comment or work note
/// carrying OrleansOps' marker, and any change made by the integration's own user, change nothing.
/// </summary>
public static class ItsmWebhooks
{
    /// <summary>Jira's labels name the incident as orleansops-&lt;incident id&gt;.</summary>
    public const string JiraLabelPrefix = "orleansops-";
    private const string OurMarker = "[OrleansOps ";

    /// <summary>
    /// Whether the request carries the account's inbound secret: <c>Authorization: Bearer &lt;secret&gt;</c> (a ServiceNow
    /// REST message) or <c>X-Hub-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c> (a Jira webhook with a secret).
    /// Compared in constant time.
    /// </summary>
    public static bool Authentic(string secret, string? authorization, string? hubSignature, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(secret)) return false;
        if (authorization is { } bearer && bearer.StartsWith("Bearer ", StringComparison.Ordinal))
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(bearer[7..].Trim()), Encoding.UTF8.GetBytes(secret));
        if (hubSignature is { } signature && signature.StartsWith("sha256=", StringComparison.Ordinal))
        {
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
            try
            {
                return CryptographicOperations.FixedTimeEquals(Convert.FromHexString(signature[7..]), expected);
            }
            catch (FormatException)
            {
                return false;
            }
        }
        return false;
    }

    /// <summary>
    /// A Jira Cloud webhook: <c>jira:issue_updated</c> whose changelog moves the status to a done category (resolve) or
    /// to an in-progress one (acknowledge), and <c>comment_created</c> (a note). Null when it asks nothing of an incident.
    /// </summary>
    public static InboundAction? Jira(JsonElement body, string? ourEmail)
    {
        if (body.ValueKind != JsonValueKind.Object) return null;
        var incidentId = Strings(body, "issue", "fields", "labels")
            .FirstOrDefault(l => l.StartsWith(JiraLabelPrefix, StringComparison.Ordinal))?[JiraLabelPrefix.Length..];
        if (incidentId is null || !Ids.IsIncidentId(incidentId)) return null;
        var actorEmail = String(body, "user", "emailAddress") ?? String(body, "comment", "author", "emailAddress");
        if (ourEmail is not null && string.Equals(actorEmail, ourEmail, StringComparison.OrdinalIgnoreCase)) return null;
        var actor = String(body, "user", "displayName") ?? String(body, "comment", "author", "displayName") ?? "jira";
        switch (String(body, "webhookEvent"))
        {
            case "comment_created":
                var text = AdfText(body.TryGetProperty("comment", out var comment) && comment.TryGetProperty("body", out var adf) ? adf : default);
                return string.IsNullOrWhiteSpace(text) || text.Contains(OurMarker, StringComparison.Ordinal)
                    ? null : new InboundAction(incidentId, InboundActionKind.Note, "jira:" + actor, text);
            case "jira:issue_updated":
                if (!body.TryGetProperty("changelog", out var changelog) || !changelog.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
                    return null;
                foreach (var item in items.EnumerateArray())
                {
                    if (String(item, "field") != "status") continue;
                    var to = (String(item, "toString") ?? "").ToLowerInvariant();
                    if (to is "done" or "resolved" or "closed") return new InboundAction(incidentId, InboundActionKind.Resolve, "jira:" + actor, null);
                    if (to is "in progress" or "acknowledged") return new InboundAction(incidentId, InboundActionKind.Acknowledge, "jira:" + actor, null);
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>
    /// A ServiceNow business rule's outbound REST message: <c>{"correlation_id", "state", "previous_state", "work_notes", "sys_updated_by"}</c>;
    /// a work note is a note, then state 6 (Resolved) or 7 (Closed) resolves and 2 (In Progress) acknowledges. Both are
    /// read from one message: the rule sends the ticket's latest work note with every update, and that is often our own
    /// (marked, so not taken again) when an agent resolves the ticket.
    /// </summary>
    public static IReadOnlyList<InboundAction> ServiceNow(JsonElement body, string? ourUser)
    {
        if (body.ValueKind != JsonValueKind.Object) return [];
        var incidentId = String(body, "correlation_id");
        if (incidentId is null || !Ids.IsIncidentId(incidentId)) return [];
        var by = String(body, "sys_updated_by") ?? "servicenow";
        if (ourUser is not null && string.Equals(by, ourUser, StringComparison.OrdinalIgnoreCase)) return [];
        var actor = "servicenow:" + by;
        var actions = new List<InboundAction>(2);
        if (String(body, "work_notes") is { } note && !string.IsNullOrWhiteSpace(note) && !note.Contains(OurMarker, StringComparison.Ordinal))
            actions.Add(new InboundAction(incidentId, InboundActionKind.Note, actor, note));
        // The rule sends the ticket's state with every update; with the state before it, only a change of state acts, so a
        // note on a resolved ticket does not resolve an incident an operator reopened since.
        var state = String(body, "state");
        if (String(body, "previous_state") is { } before && before == state) return actions;
        switch (state)
        {
            case "6" or "7":
                actions.Add(new InboundAction(incidentId, InboundActionKind.Resolve, actor, String(body, "close_notes")));
                break;
            case "2":
                actions.Add(new InboundAction(incidentId, InboundActionKind.Acknowledge, actor, null));
                break;
        }
        return actions;
    }

    private static string? String(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : element.ValueKind == JsonValueKind.Number ? element.GetRawText() : null;
    }

    private static IEnumerable<string> Strings(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return [];
        }
        return element.ValueKind == JsonValueKind.Array
            ? element.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : [];
    }

    /// <summary>The plain text of an Atlassian Document Format node (or a plain string body), paragraphs on lines; at most 16 KB.</summary>
    private static string AdfText(JsonElement node)
    {
        var text = new StringBuilder();
        void Walk(JsonElement n)
        {
            if (text.Length > 16_384) return;
            if (n.ValueKind == JsonValueKind.String) { text.Append(n.GetString()); return; }
            if (n.ValueKind != JsonValueKind.Object) return;
            if (n.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) text.Append(t.GetString());
            if (n.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var child in content.EnumerateArray()) Walk(child);
                if (String(n, "type") == "paragraph") text.Append('\n');
            }
        }
        Walk(node);
        var result = text.ToString().Trim();
        return result.Length > 16_384 ? result[..16_384] : result;
    }
}
