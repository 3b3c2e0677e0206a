using System.Text.Json.Nodes;
using OrleansOps.Integrations.Notifications;

namespace OrleansOps.Integrations.Itsm;

/// <summary>Text as the ITSMs take it: plain text for ServiceNow, Atlassian Document Format for Jira.</summary>
internal static partial class ItsmText
{
    /// <summary>The description with the incident link (when it is an http(s) URL) on a line of its own.</summary>
    public static string Description(TicketDraft draft) =>
        HttpDelivery.IsHttpUrl(draft.IncidentUrl, out var uri)
            ? $"{draft.Description.TrimEnd()}\n\nOrleansOps incident: {uri.AbsoluteUri}"
            : draft.Description;

    /// <summary>
    /// An ADF document with one paragraph per line of <paramref name="text"/>, each line one text node: the text is
    /// untrusted and stays text (no marks, no links, no wiki markup). A blank line is an empty paragraph; control
    /// characters other than tab are dropped, as ADF refuses them.
    /// </summary>
    public static JsonObject Adf(string text)
    {
        var paragraphs = new JsonArray();
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            var clean = new string([.. line.Where(c => c == '\t' || !char.IsControl(c))]);
            var content = new JsonArray();
            if (clean.Length > 0) content.Add(new JsonObject { ["type"] = "text", ["text"] = clean });
            paragraphs.Add(new JsonObject { ["type"] = "paragraph", ["content"] = content });
        }
        return new JsonObject { ["type"] = "doc", ["version"] = 1, ["content"] = paragraphs };
    }

    /// <summary>The text of an ADF node: its text nodes in order, blocks separated by line breaks.</summary>
    public static string PlainText(System.Text.Json.JsonElement node)
    {
        var builder = new System.Text.StringBuilder();
        Append(node, builder);
        return builder.ToString();

        static void Append(System.Text.Json.JsonElement node, System.Text.StringBuilder builder)
        {
            if (node.ValueKind != System.Text.Json.JsonValueKind.Object) return;
            if (node.TryGetProperty("text", out var text) && text.ValueKind == System.Text.Json.JsonValueKind.String) builder.Append(text.GetString());
            if (!node.TryGetProperty("content", out var content) || content.ValueKind != System.Text.Json.JsonValueKind.Array) return;
            foreach (var child in content.EnumerateArray()) Append(child, builder);
            builder.Append('\n');
        }
    }

    /// <summary>
    /// Text for a ServiceNow field. Journal fields render what stands between [code] and [/code] as HTML (where the
    /// instance allows code tags), so an untrusted [code] gets a zero-width space after its bracket: it reads the same
    /// and is no tag. Nothing else in plain text is markup there.
    /// </summary>
    public static string ServiceNowText(string text) => CodeTag().Replace(text, "[\u200B$1]");

    [System.Text.RegularExpressions.GeneratedRegex(@"\[(/?code)\]", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex CodeTag();

    /// <summary>A non-empty string property of a JSON object, or null.</summary>
    public static string? StringProperty(System.Text.Json.JsonElement element, string name) =>
        element.ValueKind == System.Text.Json.JsonValueKind.Object && element.TryGetProperty(name, out var value) &&
        value.ValueKind == System.Text.Json.JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    /// <summary>An incident id as it goes into a ServiceNow query or a JQL label: letters, digits, '-' and '_'.</summary>
    public static void RequireQuerySafeId(TicketSystem system, string incidentId)
    {
        if (string.IsNullOrEmpty(incidentId) || incidentId.Length > 100 || !incidentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ItsmException($"{system}: an incident id for a ticket query is letters, digits, '-' and '_' (at most 100)", retryable: false);
    }

    /// <summary>A one-line summary: ServiceNow's short_description holds 160 characters, Jira's summary 255.</summary>
    public static string Summary(string title, int max) => NotificationText.Truncate(NotificationText.OneLine(title), max);
}
