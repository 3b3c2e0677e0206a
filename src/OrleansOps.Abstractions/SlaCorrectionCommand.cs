namespace OrleansOps.Abstractions;

/// <summary>An SLA correction as the HTTP API and opsctl both make it: checked against the incident's account, then applied.</summary>
public static class SlaCorrectionCommand
{
    /// <summary>
    /// Applies <paramref name="request"/> to the incident; what is wrong with it goes to <paramref name="errors"/> and
    /// changes nothing, and a missing incident or account is <see cref="Lookup{T}.Missing"/>.
    /// </summary>
    public static async Task<Lookup<CommandResult>> CorrectSlaAsync(this IGrainFactory grains, string incidentId, SlaCorrectionRequest request,
        DateTimeOffset now, List<string> errors)
    {
        var incident = grains.GetGrain<IIncidentGrain>(incidentId);
        if (await incident.Owner() is not { } accountId) return Lookup<CommandResult>.NotFound(Missing.Incident(incidentId));
        if (await grains.GetGrain<IAccountGrain>(accountId).GetConfig() is not { } config) return Lookup<CommandResult>.NotFound(Missing.Account(accountId));
        var correction = SlaCorrections.Check(request, config, now, errors);
        if (errors.Count > 0) return Lookup<CommandResult>.NotFound("The correction is invalid; nothing was changed.");
        var result = await incident.CorrectSla(request.Actor, request.Reason!.Trim(), correction);
        return result.Outcome == CommandOutcome.NotFound ? Lookup<CommandResult>.NotFound(Missing.Incident(incidentId)) : Lookup<CommandResult>.Found(result);
    }
}
