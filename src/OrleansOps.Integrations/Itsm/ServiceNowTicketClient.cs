using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansOps.Integrations.Itsm;

/// <summary>
/// ServiceNow's Table API: incidents in <c>/api/now/table/incident</c> with <c>correlation_id</c> = our incident id,
/// work notes read back from <c>sys_journal_field</c>. Text is sent as plain text.
/// </summary>
internal sealed class ServiceNowTicketClient(ServiceNowSettings settings, ItsmHttp http) : ITicketClient
{
    private const string Incidents = "/api/now/table/incident";
    private const string Journal = "/api/now/table/sys_journal_field";
    private const int ShortDescriptionLength = 160;

    public TicketSystem System => TicketSystem.ServiceNow;

    public async Task<TicketRef?> FindAsync(string incidentId, CancellationToken ct)
    {
        ItsmText.RequireQuerySafeId(System, incidentId);
        var query = $"sysparm_query={Uri.EscapeDataString("correlation_id=" + incidentId)}&sysparm_fields=sys_id,number,state&sysparm_limit=1";
        var answer = await http.SendAsync(HttpMethod.Get, Incidents, query, null, ct).ConfigureAwait(false);
        var records = Results(answer, HttpMethod.Get, Incidents);
        return records.Count == 0 ? null : Ticket(records[0], HttpMethod.Get, Incidents);
    }

    public async Task<TicketRef> CreateAsync(TicketDraft draft, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["short_description"] = ItsmText.ServiceNowText(ItsmText.Summary(draft.Title, ShortDescriptionLength)),
            ["description"] = ItsmText.ServiceNowText(ItsmText.Description(draft)),
            ["urgency"] = Level(settings.Urgency, ServiceNowSettings.DefaultUrgency, draft.Severity),
            ["impact"] = Level(settings.Impact, ServiceNowSettings.DefaultImpact, draft.Severity),
            ["correlation_id"] = draft.IncidentId,
            ["correlation_display"] = "OrleansOps",
        };
        if (!string.IsNullOrWhiteSpace(settings.AssignmentGroup)) body["assignment_group"] = settings.AssignmentGroup.Trim();
        var answer = await http.SendAsync(HttpMethod.Post, Incidents, null, body, ct).ConfigureAwait(false);
        if (answer is not { ValueKind: JsonValueKind.Object } root || !root.TryGetProperty("result", out var result))
            throw http.Unreadable(HttpMethod.Post, Incidents, "result");
        return Ticket(result, HttpMethod.Post, Incidents);
    }

    public async Task<bool> HasNoteAsync(TicketRef ticket, string marker, CancellationToken ct)
    {
        var sysId = SysId(ticket);
        // '^' joins conditions in an encoded query: a marker holding one would change the query, not be searched for.
        if (string.IsNullOrEmpty(marker) || marker.Contains('^') || marker.Any(char.IsControl))
            throw new ItsmException("ServiceNow: a note marker is non-empty, one line and without '^'", retryable: false);
        var condition = $"element_id={sysId}^element=work_notes^valueLIKE{marker}";
        var query = $"sysparm_query={Uri.EscapeDataString(condition)}&sysparm_fields=sys_id&sysparm_limit=1";
        var answer = await http.SendAsync(HttpMethod.Get, Journal, query, null, ct).ConfigureAwait(false);
        return Results(answer, HttpMethod.Get, Journal).Count > 0;
    }

    public Task AddNoteAsync(TicketRef ticket, string text, CancellationToken ct) =>
        PatchAsync(ticket, new JsonObject { ["work_notes"] = ItsmText.ServiceNowText(text) }, ct);

    public Task TransitionAsync(TicketRef ticket, TicketState state, string? note, CancellationToken ct) =>
        PatchAsync(ticket, state switch
        {
            TicketState.Acknowledged => new JsonObject { ["state"] = "2" },
            TicketState.Resolved => new JsonObject
            {
                ["state"] = "6",
                ["close_code"] = "Solved (Permanently)",
                ["close_notes"] = string.IsNullOrWhiteSpace(note) ? "Resolved in OrleansOps" : ItsmText.ServiceNowText(note),
            },
            _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
        }, ct);

    private async Task PatchAsync(TicketRef ticket, JsonObject body, CancellationToken ct)
    {
        var path = $"{Incidents}/{Uri.EscapeDataString(SysId(ticket))}";
        await http.SendAsync(HttpMethod.Patch, path, null, body, ct).ConfigureAwait(false);
    }

    private static string Level(IReadOnlyDictionary<Severity, int> configured, IReadOnlyDictionary<Severity, int> defaults, Severity severity) =>
        (configured.TryGetValue(severity, out var level) ? level : defaults.GetValueOrDefault(severity, 3)).ToString(CultureInfo.InvariantCulture);

    private string SysId(TicketRef ticket)
    {
        if (ticket.System != TicketSystem.ServiceNow)
            throw new ItsmException($"ServiceNow: ticket {ticket.Key} belongs to {ticket.System}", retryable: false);
        // A sys_id is 32 hex digits; anything else cannot be one and must not reach a query.
        if (ticket.Id.Length != 32 || !ticket.Id.All(char.IsAsciiHexDigit))
            throw new ItsmException($"ServiceNow: ticket {ticket.Key} has no valid sys_id", retryable: false);
        return ticket.Id;
    }

    private List<JsonElement> Results(JsonElement? answer, HttpMethod method, string path) =>
        answer is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Array
            ? [.. result.EnumerateArray()]
            : throw http.Unreadable(method, path, "result list");

    private TicketRef Ticket(JsonElement record, HttpMethod method, string path) =>
        ItsmText.StringProperty(record, "sys_id") is { } id && ItsmText.StringProperty(record, "number") is { } key
            ? new TicketRef(TicketSystem.ServiceNow, id, key)
            : throw http.Unreadable(method, path, "sys_id and number");
}
