using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

public static class IncidentsApi
{
    private const long MaxCommandBytes = 64 * 1024;
    private const int MaxActorLength = 200;
    private const int MaxNoteLength = 16 * 1024;

    public static IEndpointRouteBuilder MapIncidentsApi(this IEndpointRouteBuilder app)
    {
        var incidents = app.MapGroup("/api/v1/incidents/{incidentId}").WithTags("Incidents").RequireToken()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        incidents.MapGet("/", GetIncident).WithSummary("One incident with its escalation, notifications, tickets and first 500 alerts (alertCount says how many it holds; /alerts pages them all)");
        incidents.MapGet("/alerts", GetAlerts).WithSummary("The incident's alerts in the order they joined; ?limit=&cursor=");
        incidents.MapGet("/correlation", GetCorrelation)
            .WithSummary("Why each alert is in the incident, in the order they joined: the relation that placed it (opened, group, name, topology, node, zone, service, storm), its rule, and the relations passed over; ?limit=&cursor= as /alerts");
        incidents.MapGet("/chronicle", GetChronicle).WithSummary("The incident's hash-chained record, oldest first; ?limit=&cursor=");
        incidents.MapGet("/chronicle/verify", VerifyChronicle).WithSummary("Recompute the chronicle's hash chain");
        Action(incidents, "/ack", "Acknowledge; {\"actor\"} optional",
            requireText: false, (incident, body) => incident.Acknowledge(body.Actor));
        Action(incidents, "/resolve", "Resolve; {\"actor\", \"note\"} both optional",
            requireText: false, (incident, body) => incident.Resolve(body.Actor, body.Text));
        Action(incidents, "/reopen", "Reopen a resolved incident; {\"actor\", \"note\"} both optional",
            requireText: false, (incident, body) => incident.Reopen(body.Actor, body.Text));
        Action(incidents, "/notes", "Add a note to the chronicle; {\"actor\", \"text\"}, text required",
            requireText: true, (incident, body) => incident.AddNote(body.Actor, body.Text!));
        Action(incidents, "/escalate", "Page the next escalation level now; {\"actor\"} optional",
            requireText: false, (incident, body) => incident.Escalate(body.Actor));
        Action(incidents, "/reassign", "Hand the incident to {\"to\": \"user:<id>\" | \"schedule:<id>\" | \"team:<id>\" | \"channel:<id>\"} and page it now",
            requireText: false, (incident, body) => incident.Reassign(body.Actor, body.To!), requireTarget: true);
        incidents.MapPost("/merge", Merge)
            .WithSummary("Merge the incident into another of its account, one failure after all: {\"into\": \"inc-…\", \"reason\"} (reason required, actor optional); it resolves pointing at the survivor, which takes its alerts; chronicled in both")
            .Produces<IncidentResponse>().ProducesProblem(StatusCodes.Status409Conflict)
            .ReadsJson<MergeBody>();
        incidents.MapPost("/split", Split)
            .WithSummary("Split alerts out into a new incident: {\"alerts\": [fingerprints]} or {\"from\": \"inc-…\"} (the alerts a merged incident brought), with {\"reason\"} (required) and actor (optional); 201 with the new incident")
            .Produces<IncidentResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict)
            .ReadsJson<SplitBody>();
        incidents.MapPost("/sla-correction", CorrectSla).AdminOnly()
            .WithSummary("Correct how the incident counts against its account's SLOs: {actor, reason} and one of {\"exclude\": true, \"slos\": [...]} (all SLOs when none named), {impactStart, impactEnd}, or {\"withdraw\": true}; chronicled, and every SLA figure recomputes")
            .Produces<IncidentResponse>()
            .ReadsJson<SlaCorrectionBody>();
        return app;
    }

    /// <summary>A merge as it is sent (documented in OpenAPI).</summary>
    public sealed record MergeBody(string Into, string Reason, string? Actor);

    /// <summary>A split as it is sent: the alerts by fingerprint, or those a merged incident brought.</summary>
    public sealed record SplitBody(IReadOnlyList<string>? Alerts, string? From, string Reason, string? Actor);

    private const int MaxSplitAlerts = 10_000;

    private static async Task<IResult> Merge(string incidentId, HttpRequest request, IGrainFactory grains)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var (parsed, problem) = await RequestBodies.ReadJsonAsync(request, MaxCommandBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        using var document = parsed!;
        var errors = new List<string>();
        var (actor, reason) = ActorAndReason(document.RootElement, errors);
        var into = document.RootElement.ValueKind == JsonValueKind.Object ? RequestBodies.OptionalString(document.RootElement, "into", MaxActorLength, errors) : null;
        if (errors.Count == 0 && into is null) errors.Add("into: is required (the id of the incident to merge into)");
        else if (into is not null && !Ids.IsIncidentId(into)) errors.Add($"into: '{into}' is not an incident id");
        else if (into == incidentId) errors.Add("into: an incident cannot be merged into itself");
        if (errors.Count > 0) return Problems.Invalid("The merge is invalid; nothing was changed", errors);
        if (await grains.GetGrain<IIncidentGrain>(incidentId).Owner() is not { } accountId) return Problems.NoIncident(incidentId);
        var result = await grains.GetGrain<ICorrelatorGrain>(accountId).Merge(incidentId, into!, actor, reason!);
        return result.Outcome switch
        {
            CommandOutcome.NotFound => Problems.NotFound(result.Message ?? Missing.Incident(incidentId)),
            CommandOutcome.Conflict => Problems.Conflict(result.Message!),
            _ => TypedResults.Ok(IncidentResponse.Of(result.Incident!)),
        };
    }

    private static async Task<IResult> Split(string incidentId, HttpRequest request, IGrainFactory grains)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var (parsed, problem) = await RequestBodies.ReadJsonAsync(request, MaxCommandBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        using var document = parsed!;
        var body = document.RootElement;
        var errors = new List<string>();
        var (actor, reason) = ActorAndReason(body, errors);
        var from = body.ValueKind == JsonValueKind.Object ? RequestBodies.OptionalString(body, "from", MaxActorLength, errors) : null;
        var alerts = new List<string>();
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("alerts", out var list))
        {
            if (list.ValueKind != JsonValueKind.Array) errors.Add("alerts: must be a list of alert fingerprints");
            else if (list.GetArrayLength() > MaxSplitAlerts) errors.Add($"alerts: at most {MaxSplitAlerts} fingerprints");
            else
                foreach (var item in list.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 and <= MaxActorLength } fingerprint) alerts.Add(fingerprint);
                    else errors.Add($"alerts[{alerts.Count}]: must be an alert fingerprint (a non-empty string)");
        }
        if (errors.Count == 0 && (alerts.Count == 0) == (from is null)) errors.Add("alerts, from: give the alerts to split out, or the merged incident (from) whose alerts go back out, not both");
        if (from is not null && !Ids.IsIncidentId(from)) errors.Add($"from: '{from}' is not an incident id");
        if (errors.Count > 0) return Problems.Invalid("The split is invalid; nothing was changed", errors);
        if (await grains.GetGrain<IIncidentGrain>(incidentId).Owner() is not { } accountId) return Problems.NoIncident(incidentId);
        var result = await grains.GetGrain<ICorrelatorGrain>(accountId).Split(incidentId, alerts, from, actor, reason!);
        return result.Outcome switch
        {
            CommandOutcome.NotFound => Problems.NotFound(result.Message ?? Missing.Incident(incidentId)),
            CommandOutcome.Conflict => Problems.Conflict(result.Message!),
            _ => TypedResults.Created($"/api/v1/incidents/{result.Incident!.Summary.Id}", IncidentResponse.Of(result.Incident!)),
        };
    }

    /// <summary>Who acts (admin when not said) and why (required), from a command body.</summary>
    private static (string Actor, string? Reason) ActorAndReason(JsonElement body, List<string> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$: must be a JSON object");
            return ("admin", null);
        }
        var actor = RequestBodies.OptionalString(body, "actor", MaxActorLength, errors) ?? "admin";
        var reason = RequestBodies.OptionalString(body, "reason", MaxNoteLength, errors);
        if (string.IsNullOrWhiteSpace(reason) && errors.Count == 0) errors.Add("reason: is required (it goes on both incidents' chronicles)");
        return (actor, reason);
    }

    /// <summary>A correction as it is sent (documented in OpenAPI).</summary>
    public sealed record SlaCorrectionBody(string? Actor, string Reason, bool? Exclude, IReadOnlyList<string>? Slos,
        DateTimeOffset? ImpactStart, DateTimeOffset? ImpactEnd, bool? Withdraw);

    private static async Task<IResult> CorrectSla(string incidentId, HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var (parsed, problem) = await RequestBodies.ReadJsonAsync(request, MaxCommandBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;
        using var document = parsed!;
        var errors = new List<string>();
        var asked = SlaCorrections.Read(document.RootElement, errors);
        if (errors.Count > 0) return Problems.Invalid("The correction is invalid; nothing was changed", errors);
        var found = await grains.CorrectSlaAsync(incidentId, asked, time.GetUtcNow(), errors);
        if (errors.Count > 0) return Problems.Invalid("The correction is invalid; nothing was changed", errors);
        if (found.Value is not { } result) return Problems.NotFound(found.Missing!);
        return result.Outcome == CommandOutcome.Conflict ? Problems.Conflict(result.Message!) : TypedResults.Ok(IncidentResponse.Of(result.Incident!));
    }

    /// <summary>A POST that acts on the incident and answers it as GET does; 409 when its state does not allow the action.</summary>
    private static void Action(RouteGroupBuilder incidents, string path, string summary, bool requireText,
        Func<IIncidentGrain, CommandBody, Task<CommandResult>> act, bool requireTarget = false) =>
        incidents.MapPost(path, (string incidentId, HttpRequest request, IGrainFactory grains) =>
                Command(incidentId, request, grains, requireText, act, requireTarget))
            .WithSummary(summary)
            .Produces<IncidentResponse>()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ReadsJson<ActionRequest>(optional: true);

    private static async Task<Results<Ok<IncidentResponse>, ProblemHttpResult>> GetIncident(string incidentId, IGrainFactory grains)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var view = await grains.GetGrain<IIncidentGrain>(incidentId).Describe();
        return view is null ? Problems.NoIncident(incidentId) : TypedResults.Ok(IncidentResponse.Of(view));
    }

    private static async Task<Results<Ok<Page<ChronicleEntry>>, ProblemHttpResult>> GetChronicle(
        string incidentId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        if (Position(query!) is not { } after) return Problems.InvalidQuery(["cursor: not a cursor of this list (pass the 'next' of the previous page as it was)"]);
        // Read from storage a page at a time: a chronicle can hold far more entries than one answer should.
        var entries = await grains.GetGrain<IIncidentGrain>(incidentId).GetChronicle(after, query!.Limit + 1);
        return entries is null ? Problems.NoIncident(incidentId) : TypedResults.Ok(PageOf(entries, e => e.Seq, query));
    }

    private static async Task<Results<Ok<Page<IncidentAlert>>, ProblemHttpResult>> GetAlerts(
        string incidentId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        if (Position(query!) is not { } after) return Problems.InvalidQuery(["cursor: not a cursor of this list (pass the 'next' of the previous page as it was)"]);
        var alerts = await grains.GetGrain<IIncidentGrain>(incidentId).GetAlerts((int)after, query!.Limit + 1);
        if (alerts is null) return Problems.NoIncident(incidentId);
        var page = PageOf(alerts.Select((alert, i) => (Alert: alert, Position: after + i + 1)).ToList(), a => a.Position, query);
        return TypedResults.Ok(new Page<IncidentAlert>(page.Items.Select(a => a.Alert).ToList(), page.Next));
    }

    /// <summary>How one alert came to be in its incident; <see cref="MergedFrom"/> names the incident it was in before a merge brought it.</summary>
    public sealed record AlertPlacement(
        string Fingerprint, string? Alertname, string? Service, string? Node, DateTimeOffset FirstSeen, string Relation, string? Rule, IReadOnlyList<string> Considered,
        string? MergedFrom)
    {
        public static AlertPlacement Of(IncidentAlert alert) => new(
            alert.Fingerprint, alert.Labels.GetValueOrDefault("alertname"), alert.Service, alert.Node ?? NodeLabel.Of(alert.Labels), alert.FirstSeen,
            CorrelationRelation.Of(alert.Rule), alert.Rule, alert.Considered ?? [], alert.MergedFrom);
    }

    private static async Task<Results<Ok<Page<AlertPlacement>>, ProblemHttpResult>> GetCorrelation(
        string incidentId, IGrainFactory grains, string? limit = null, string? cursor = null)
    {
        var alerts = await GetAlerts(incidentId, grains, limit, cursor);
        if (alerts.Result is not Ok<Page<IncidentAlert>> { Value: { } page }) return (ProblemHttpResult)alerts.Result;
        return TypedResults.Ok(new Page<AlertPlacement>(page.Items.Select(AlertPlacement.Of).ToList(), page.Next));
    }

    /// <summary>Where a page of a numbered list (chronicle entries by number, alerts by position) starts: after the cursor's number, or 0.</summary>
    private static long? Position(PageQuery query) =>
        query.After is null ? 0
        : long.TryParse(query.After, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number < int.MaxValue ? number
        : null;

    /// <summary>A page of up to the query's limit from <paramref name="items"/> (one more than it, when there is a next page).</summary>
    private static Page<T> PageOf<T>(IReadOnlyList<T> items, Func<T, long> number, PageQuery query) =>
        new(items.Take(query.Limit).ToList(), items.Count > query.Limit ? Paging.Encode(Paging.Ascending(number(items[query.Limit - 1]))) : null);

    private static async Task<Results<Ok<ChronicleVerification>, ProblemHttpResult>> VerifyChronicle(string incidentId, IGrainFactory grains)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var verification = await grains.GetGrain<IIncidentGrain>(incidentId).VerifyChronicle();
        return verification is null ? Problems.NoIncident(incidentId) : TypedResults.Ok(verification);
    }

    private sealed record CommandBody(string Actor, string? Text, EscalationTarget? To);

    /// <summary>An action's body as it is sent (documented in OpenAPI): <c>note</c> is read as <c>text</c>; <c>to</c> only for reassign.</summary>
    public sealed record ActionRequest(string? Actor, string? Text, string? Note, string? To);

    private static async Task<IResult> Command(
        string incidentId, HttpRequest request, IGrainFactory grains, bool requireText, Func<IIncidentGrain, CommandBody, Task<CommandResult>> act,
        bool requireTarget = false)
    {
        if (!Ids.IsIncidentId(incidentId)) return InvalidIncidentId(incidentId);
        var (parsed, problem) = await RequestBodies.ReadOptionalJsonAsync(request, MaxCommandBytes, request.HttpContext.RequestAborted);
        if (problem is not null) return problem;

        var errors = new List<string>();
        string? actor = null, text = null, to = null;
        if (parsed is not null)
        {
            using var document = parsed;
            if (document.RootElement.ValueKind != JsonValueKind.Object) errors.Add("$: must be a JSON object");
            else
            {
                actor = RequestBodies.OptionalString(document.RootElement, "actor", MaxActorLength, errors);
                text = RequestBodies.OptionalString(document.RootElement, "text", MaxNoteLength, errors)
                    ?? RequestBodies.OptionalString(document.RootElement, "note", MaxNoteLength, errors);
                if (requireTarget) to = RequestBodies.OptionalString(document.RootElement, "to", MaxActorLength, errors);
            }
        }
        if (requireText && string.IsNullOrWhiteSpace(text) && errors.Count == 0) errors.Add("text: is required");
        var target = EscalationTarget.Parse(to);
        if (requireTarget && target is null && errors.Count == 0)
            errors.Add(to is null ? "to: is required (user:<id>, schedule:<id>, team:<id> or channel:<id>)" : $"to: '{to}' is not a target; write user:<id>, schedule:<id>, team:<id> or channel:<id>");
        if (errors.Count > 0) return Problems.Invalid("The request is invalid; nothing was changed", errors);

        var result = await act(grains.GetGrain<IIncidentGrain>(incidentId), new CommandBody(actor ?? "admin", text, target));
        return result.Outcome switch
        {
            CommandOutcome.NotFound => Problems.NoIncident(incidentId),
            CommandOutcome.Conflict => Problems.Conflict(result.Message!),
            _ => TypedResults.Ok(IncidentResponse.Of(result.Incident!)),
        };
    }


    private static ProblemHttpResult InvalidIncidentId(string incidentId) => Problems.BadRequest(
        "Invalid incident id", $"'{incidentId}' is not an incident id (inc- followed by 16 lower-case letters and digits 2-7).");

}
