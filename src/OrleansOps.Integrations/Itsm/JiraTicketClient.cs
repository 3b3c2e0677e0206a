using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Integrations.Itsm;

/// <summary>
/// Jira Cloud REST v3: issues in <see cref="JiraSettings.ProjectKey"/> labelled <c>orleansops-&lt;incident id&gt;</c>,
/// found with <c>search/jql</c>; description and comments in Atlassian Document Format; transitions by configured id.
/// </summary>
internal sealed class JiraTicketClient(JiraSettings settings, ItsmHttp http) : ITicketClient
{
    private const string Issues = "/rest/api/3/issue";
    private const string Search = "/rest/api/3/search/jql";
    private const int SummaryLength = 255;
    /// <summary>Comments read per page when looking for a note; Jira caps a page at 100 (and may serve fewer).</summary>
    internal const int CommentPage = 100;

    public TicketSystem System => TicketSystem.Jira;

    public static string Label(string incidentId) => "orleansops-" + incidentId;

    public async Task<TicketRef?> FindAsync(string incidentId, CancellationToken ct)
    {
        ItsmText.RequireQuerySafeId(System, incidentId);
        var query = $"jql={Uri.EscapeDataString("labels=" + Label(incidentId))}&fields=key&maxResults=1";
        var answer = await http.SendAsync(HttpMethod.Get, Search, query, null, ct).ConfigureAwait(false);
        if (answer is not { ValueKind: JsonValueKind.Object } root || !root.TryGetProperty("issues", out var issues) || issues.ValueKind != JsonValueKind.Array)
            throw http.Unreadable(HttpMethod.Get, Search, "issues list");
        return issues.GetArrayLength() == 0 ? null : Ticket(issues[0], HttpMethod.Get, Search);
    }

    public async Task<TicketRef> CreateAsync(TicketDraft draft, CancellationToken ct)
    {
        // The label is how FindAsync knows the issue again, so it is checked like the query that searches for it.
        ItsmText.RequireQuerySafeId(System, draft.IncidentId);
        var priority = settings.Priority.TryGetValue(draft.Severity, out var name) ? name
            : JiraSettings.DefaultPriority.GetValueOrDefault(draft.Severity, "Medium");
        var body = new JsonObject
        {
            ["fields"] = new JsonObject
            {
                ["project"] = new JsonObject { ["key"] = settings.ProjectKey },
                ["issuetype"] = new JsonObject { ["name"] = settings.IssueType },
                ["summary"] = ItsmText.Summary(draft.Title, SummaryLength),
                ["labels"] = new JsonArray(Label(draft.IncidentId)),
                ["priority"] = new JsonObject { ["name"] = priority },
                ["description"] = ItsmText.Adf(ItsmText.Description(draft)),
            },
        };
        var answer = await http.SendAsync(HttpMethod.Post, Issues, null, body, ct).ConfigureAwait(false);
        return Ticket(answer ?? default, HttpMethod.Post, Issues);
    }

    /// <summary>Reads the issue's comments page by page (one request each) until one contains the marker or there are no more.</summary>
    public async Task<bool> HasNoteAsync(TicketRef ticket, string marker, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(marker)) throw new ItsmException("Jira: a note marker is non-empty", retryable: false);
        var path = $"{IssuePath(ticket)}/comment";
        for (var startAt = 0; ;)
        {
            var query = $"startAt={startAt.ToString(CultureInfo.InvariantCulture)}&maxResults={CommentPage.ToString(CultureInfo.InvariantCulture)}";
            var answer = await http.SendAsync(HttpMethod.Get, path, query, null, ct).ConfigureAwait(false);
            if (answer is not { ValueKind: JsonValueKind.Object } root || !root.TryGetProperty("comments", out var comments) || comments.ValueKind != JsonValueKind.Array)
                throw http.Unreadable(HttpMethod.Get, path, "comments list");
            foreach (var comment in comments.EnumerateArray())
                if (comment.ValueKind == JsonValueKind.Object && comment.TryGetProperty("body", out var adf) &&
                    ItsmText.PlainText(adf).Contains(marker, StringComparison.Ordinal))
                    return true;
            var count = comments.GetArrayLength();
            var total = root.TryGetProperty("total", out var t) && t.TryGetInt32(out var n) ? n : 0;
            startAt += count;
            // An empty page ends the search even when total claims more, so a miscounting server cannot loop us.
            if (count == 0 || startAt >= total) return false;
        }
    }

    public async Task AddNoteAsync(TicketRef ticket, string text, CancellationToken ct) =>
        await http.SendAsync(HttpMethod.Post, $"{IssuePath(ticket)}/comment", null, new JsonObject { ["body"] = ItsmText.Adf(text) }, ct)
            .ConfigureAwait(false);

    /// <summary>Posts the configured transition id; without one for <paramref name="state"/> nothing is sent. The note is not written here.</summary>
    public async Task TransitionAsync(TicketRef ticket, TicketState state, string? note, CancellationToken ct)
    {
        var path = $"{IssuePath(ticket)}/transitions";
        var id = state switch
        {
            TicketState.Acknowledged => settings.AcknowledgedTransition,
            TicketState.Resolved => settings.ResolvedTransition,
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
        };
        if (string.IsNullOrWhiteSpace(id)) return;
        var body = new JsonObject { ["transition"] = new JsonObject { ["id"] = id.Trim() } };
        await http.SendAsync(HttpMethod.Post, path, null, body, ct).ConfigureAwait(false);
    }

    private static string IssuePath(TicketRef ticket)
    {
        if (ticket.System != TicketSystem.Jira)
            throw new ItsmException($"Jira: ticket {ticket.Key} belongs to {ticket.System}", retryable: false);
        if (string.IsNullOrWhiteSpace(ticket.Key)) throw new ItsmException("Jira: the ticket has no issue key", retryable: false);
        return $"{Issues}/{Uri.EscapeDataString(ticket.Key)}";
    }

    private TicketRef Ticket(JsonElement issue, HttpMethod method, string path) =>
        ItsmText.StringProperty(issue, "id") is { } id && ItsmText.StringProperty(issue, "key") is { } key
            ? new TicketRef(TicketSystem.Jira, id, key)
            : throw http.Unreadable(method, path, "issue id and key");
}
