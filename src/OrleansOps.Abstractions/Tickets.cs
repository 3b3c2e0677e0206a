namespace OrleansOps.Abstractions;

/// <summary>How one piece of ticket work went.</summary>
[GenerateSerializer, Immutable]
public sealed record TicketOutcome
{
    [Id(0)] public required TicketSystem System { get; init; }
    [Id(1)] public required TicketWorkKind Kind { get; init; }
    [Id(2)] public required long Seq { get; init; }
    [Id(3)] public required bool Succeeded { get; init; }
    [Id(4)] public string? TicketId { get; init; }
    [Id(5)] public string? TicketKey { get; init; }
    /// <summary>The ticket (or the note) was already there from an earlier attempt.</summary>
    [Id(6)] public bool Found { get; init; }
    [Id(7)] public string? Error { get; init; }
    [Id(8)] public bool Retryable { get; init; }
    [Id(9)] public TimeSpan? RetryAfter { get; init; }
}

/// <summary>The incident's ticket settings and the writes due now, one per system.</summary>
[GenerateSerializer, Immutable]
public sealed record TicketBatch([property: Id(0)] ItsmSettings Settings, [property: Id(1)] IReadOnlyList<TicketWork> Work);

/// <summary>Carries ticket work to ServiceNow or Jira: one attempt, its outcome; retries are the incident's, durable.</summary>
public interface ITicketGateway
{
    Task<TicketOutcome> ExecuteAsync(ItsmSettings settings, TicketWork work, CancellationToken cancellationToken);
}

/// <summary>
/// Works through an incident's ticket outbox, one write at a time per system, away from the incident's turn (the
/// systems may be slow). A stateless worker on the caller's silo; the incident leases the sync to one worker at a time.
/// </summary>
public interface ITicketSyncGrain : IGrainWithIntegerKey
{
    [Orleans.Concurrency.OneWay]
    Task Sync(string incidentId, string holder);
}
