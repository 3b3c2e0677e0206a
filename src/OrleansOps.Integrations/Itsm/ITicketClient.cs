namespace OrleansOps.Integrations.Itsm;

/// <summary>A ticket in an ITSM: ServiceNow's <c>sys_id</c> and <c>number</c> (INC0010001), or Jira's <c>id</c> and <c>key</c> (OPS-1).</summary>
public sealed record TicketRef(TicketSystem System, string Id, string Key);

/// <summary>What a new ticket says. <see cref="Title"/> and <see cref="Description"/> are untrusted text, sent as plain text.</summary>
public sealed record TicketDraft(string IncidentId, string Title, string Description, Severity Severity, string? IncidentUrl);

/// <summary>
/// A call to an ITSM that failed. <see cref="Retryable"/> for 5xx, 408, 429, timeouts and network errors (with the
/// server's <c>Retry-After</c> in <see cref="RetryAfter"/> when it sent one); not for other 4xx, a missing credential,
/// an argument the ITSM's query language cannot carry safely, or an answer that cannot be read.
/// The message names the system, method, path and status, and never a credential.
/// </summary>
public sealed class ItsmException : Exception
{
    public ItsmException(string message, bool retryable, TimeSpan? retryAfter = null, int? statusCode = null)
        : base(message)
    {
        Retryable = retryable;
        RetryAfter = retryAfter;
        StatusCode = statusCode;
    }

    public bool Retryable { get; }
    public TimeSpan? RetryAfter { get; }
    /// <summary>The HTTP status of the answer, null when there was none (timeout, network error, configuration).</summary>
    public int? StatusCode { get; }
}

/// <summary>
/// One ITSM, one HTTP request per call: no retry loop here, the caller retries durably (looking up before creating,
/// and checking <see cref="HasNoteAsync"/> before adding a note, so that a retried call writes nothing twice).
/// Every call has its own timeout (10 s unless configured), which surfaces as a retryable <see cref="ItsmException"/>;
/// the caller's cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
public interface ITicketClient
{
    TicketSystem System { get; }

    /// <summary>The ticket created for the incident, or null when there is none.</summary>
    Task<TicketRef?> FindAsync(string incidentId, CancellationToken ct);

    Task<TicketRef> CreateAsync(TicketDraft draft, CancellationToken ct);

    /// <summary>Whether a work note (ServiceNow) or comment (Jira) on the ticket contains <paramref name="marker"/>.</summary>
    Task<bool> HasNoteAsync(TicketRef ticket, string marker, CancellationToken ct);

    /// <summary>Appends a work note (ServiceNow) or a comment (Jira); <paramref name="text"/> is untrusted plain text.</summary>
    Task AddNoteAsync(TicketRef ticket, string text, CancellationToken ct);

    /// <summary>
    /// Moves the ticket. <paramref name="note"/> is ServiceNow's <c>close_notes</c> on resolve and is otherwise not
    /// written (write notes with <see cref="AddNoteAsync"/>). Jira posts the configured transition id and does nothing
    /// when that id is not configured.
    /// </summary>
    Task TransitionAsync(TicketRef ticket, TicketState state, string? note, CancellationToken ct);
}
