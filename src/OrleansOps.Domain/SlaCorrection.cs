using System.Text.Json;

namespace OrleansOps.Domain;

/// <summary>
/// An operator's correction of how an incident counts against the account's commitments: left out of them (all, or
/// the SLOs named), or counted over a corrected impact window. Kept on the incident, chronicled with who made it and
/// why, and read by every evaluation, report and burn-down, which recompute from it.
/// </summary>
[GenerateSerializer, Immutable, Alias("orleansops.sla-correction.v1")]
public sealed record SlaCorrection
{
    /// <summary>Left out: of every SLO, or of those <see cref="Slos"/> names.</summary>
    [Id(0)] public bool Excluded { get; init; }
    /// <summary>The SLOs it is left out of (an availability SLO by name, a clock as <c>sev1-response</c>); empty: all.</summary>
    [Id(1)] public IReadOnlyList<string> Slos { get; init; } = [];
    /// <summary>When its impact really began, when that was not when it opened.</summary>
    [Id(2)] public DateTimeOffset? ImpactStart { get; init; }
    /// <summary>When its impact really ended, when that was not when it was resolved.</summary>
    [Id(3)] public DateTimeOffset? ImpactEnd { get; init; }
    [Id(4)] public required string Actor { get; init; }
    [Id(5)] public required string Reason { get; init; }
    [Id(6)] public DateTimeOffset At { get; init; }

    /// <summary>Whether the incident counts for <paramref name="slo"/> (per-node commitments answer to their SLO's name too).</summary>
    public bool ExcludesFrom(string slo) =>
        Excluded && (Slos.Count == 0 || Slos.Contains(slo, StringComparer.Ordinal) || slo.IndexOf(':') is > 0 and var colon && Slos.Contains(slo[..colon], StringComparer.Ordinal));

    /// <summary>Whether <paramref name="other"/> counts the incident the same way (whoever made it, and why).</summary>
    public bool SameEffect(SlaCorrection other) =>
        Excluded == other.Excluded && ImpactStart == other.ImpactStart && ImpactEnd == other.ImpactEnd && Slos.SequenceEqual(other.Slos, StringComparer.Ordinal);

    /// <summary>What the correction says, for the chronicle and reports.</summary>
    public string Describe() => Excluded
        ? Slos.Count == 0 ? "left out of every SLO" : $"left out of {string.Join(", ", Slos)}"
        : $"impact counted from {ImpactStart?.ToString("u") ?? "its start"} to {ImpactEnd?.ToString("u") ?? "its resolution"}";
}

/// <summary>A correction as an operator asks for it, before it is checked against the account (<see cref="SlaCorrections.Check"/>).</summary>
public sealed record SlaCorrectionRequest(string Actor, string? Reason, bool Withdraw, bool Exclude, IReadOnlyList<string> Slos,
    DateTimeOffset? ImpactStart, DateTimeOffset? ImpactEnd);

/// <summary>Reads and checks an operator's correction against the account's commitments, for the API and opsctl alike.</summary>
public static class SlaCorrections
{
    public const int MaxReasonLength = 2000;
    private const int MaxActorLength = 200;

    /// <summary>
    /// The correction as a JSON body asks for it: <c>{actor, reason, withdraw, exclude, slos, impactStart, impactEnd}</c>,
    /// every field's problem added to <paramref name="errors"/>.
    /// </summary>
    public static SlaCorrectionRequest Read(JsonElement body, List<string> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$: must be a JSON object");
            return new SlaCorrectionRequest("admin", null, false, false, [], null, null);
        }
        var slos = new List<string>();
        if (body.TryGetProperty("slos", out var named) && named.ValueKind != JsonValueKind.Null)
        {
            if (named.ValueKind != JsonValueKind.Array || named.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String)) errors.Add("slos: must be an array of SLO names");
            else slos.AddRange(named.EnumerateArray().Select(s => s.GetString()!));
        }
        return new SlaCorrectionRequest(
            JsonText.OptionalString(body, "actor", MaxActorLength, errors) ?? "admin",
            JsonText.OptionalString(body, "reason", MaxReasonLength + 1, errors),
            JsonText.OptionalFlag(body, "withdraw", errors),
            JsonText.OptionalFlag(body, "exclude", errors),
            slos,
            JsonText.OptionalInstant(body, "impactStart", errors),
            JsonText.OptionalInstant(body, "impactEnd", errors));
    }

    /// <summary><see cref="Check(bool, bool, IReadOnlyList{string}, DateTimeOffset?, DateTimeOffset?, string, string?, AccountConfig, DateTimeOffset, List{string})"/> of a request.</summary>
    public static SlaCorrection? Check(SlaCorrectionRequest request, AccountConfig config, DateTimeOffset now, List<string> errors) =>
        Check(request.Withdraw, request.Exclude, request.Slos, request.ImpactStart, request.ImpactEnd, request.Actor, request.Reason, config, now, errors);

    /// <summary>
    /// The correction asked for (null to withdraw the one in force), or the problems with it: a reason is required, and
    /// exactly one of withdraw, exclude (optionally from named SLOs) or an impact window.
    /// </summary>
    public static SlaCorrection? Check(bool withdraw, bool exclude, IReadOnlyList<string> slos, DateTimeOffset? impactStart, DateTimeOffset? impactEnd,
        string actor, string? reason, AccountConfig config, DateTimeOffset now, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(reason)) errors.Add("reason: is required (it goes on the chronicle and the reports)");
        else if (reason.Length > MaxReasonLength) errors.Add($"reason: at most {MaxReasonLength} characters");
        var window = impactStart is not null || impactEnd is not null;
        if ((withdraw ? 1 : 0) + (exclude ? 1 : 0) + (window ? 1 : 0) != 1)
            errors.Add("give exactly one of: withdraw, exclude (with slos to name some), or impactStart and/or impactEnd");
        if (slos.Count > 0 && !exclude) errors.Add("slos: only with exclude");
        var known = config.Sla.Availability.Select(s => s.Name)
            .Concat(config.Sla.Response.Keys.Select(s => $"{s.ToWire()}-response"))
            .Concat(config.Sla.Resolution.Keys.Select(s => $"{s.ToWire()}-resolution"))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var slo in slos.Where(s => !known.Contains(s)))
            errors.Add($"slos: '{slo}' is not an SLO of the account ({(known.Count == 0 ? "it has none" : string.Join(", ", known.Order(StringComparer.Ordinal)))})");
        if (impactStart is { } start && impactEnd is { } end && end < start) errors.Add("impactEnd: before impactStart");
        if (impactStart > now) errors.Add("impactStart: in the future");
        if (impactEnd > now) errors.Add("impactEnd: in the future");
        if (errors.Count > 0 || withdraw) return null;
        return new SlaCorrection
        {
            Excluded = exclude,
            Slos = slos.Distinct(StringComparer.Ordinal).ToList(),
            ImpactStart = impactStart,
            ImpactEnd = impactEnd,
            Actor = actor,
            Reason = reason!.Trim(),
            At = now,
        };
    }
}
