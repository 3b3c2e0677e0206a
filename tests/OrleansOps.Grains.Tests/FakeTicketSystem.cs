using System.Collections.Concurrent;

namespace OrleansOps.Grains.Tests;

/// <summary>
/// A ticket system in memory behind the gateway: tickets by incident, their notes and transitions. Failures can be
/// injected, including the worst kind: the write lands, but the answer is lost (a timeout after the system applied it).
/// </summary>
public sealed class FakeTicketSystem : ITicketGateway
{
    public sealed class Ticket
    {
        public required string Id { get; init; }
        public List<string> Notes { get; } = [];
        public List<TicketState> Transitions { get; } = [];
    }

    private readonly object _lock = new();
    private readonly ConcurrentQueue<Func<TicketWork, string?>> _faults = new();
    private int _next;

    public ConcurrentDictionary<string, Ticket> Tickets { get; } = new(StringComparer.Ordinal);
    public int Creations;

    /// <summary>The next call fails after applying its write; the caller sees a timeout.</summary>
    public void LoseNextAnswer() => _faults.Enqueue(_ => "lost");

    /// <summary>Every creation is applied at once and then answered only after this long (a slow ServiceNow).</summary>
    public TimeSpan SlowCreations { get; set; }

    /// <summary>The next call fails before doing anything, with a retryable error.</summary>
    public void FailNext(string error) => _faults.Enqueue(_ => error);

    public async Task<TicketOutcome> ExecuteAsync(ItsmSettings settings, TicketWork work, CancellationToken cancellationToken)
    {
        TicketOutcome outcome;
        lock (_lock)
        {
            var fault = _faults.TryDequeue(out var f) ? f(work) : null;
            if (fault is not null && fault != "lost") return Failed(work, fault);
            outcome = Apply(work);
            if (fault == "lost") return Failed(work, "timed out after 10s");
        }
        if (work.Kind == TicketWorkKind.Create && SlowCreations > TimeSpan.Zero) await Task.Delay(SlowCreations, cancellationToken);
        return outcome;
    }

    private TicketOutcome Apply(TicketWork work)
    {
        if (work.Kind == TicketWorkKind.Create)
        {
            if (work.LookFirst && Tickets.TryGetValue(work.IncidentId, out var existing))
                return new TicketOutcome { System = work.System, Kind = work.Kind, Seq = 0, Succeeded = true, TicketId = existing.Id, TicketKey = existing.Id, Found = true };
            var ticket = new Ticket { Id = $"INC{Interlocked.Increment(ref _next):D7}" };
            Interlocked.Increment(ref Creations);
            Tickets.AddOrUpdate(work.IncidentId, ticket, (_, _) => ticket); // without a look first, a second create would be a duplicate: counted above
            return new TicketOutcome { System = work.System, Kind = work.Kind, Seq = 0, Succeeded = true, TicketId = ticket.Id, TicketKey = ticket.Id };
        }
        var target = Tickets[work.IncidentId];
        var already = work.LookFirst && target.Notes.Any(n => n.Contains(work.Marker!));
        if (!already)
        {
            target.Notes.Add(work.Text);
            if (work.State is { } state) target.Transitions.Add(state);
        }
        return new TicketOutcome { System = work.System, Kind = work.Kind, Seq = work.Seq, Succeeded = true, Found = already };
    }

    private static TicketOutcome Failed(TicketWork work, string error) =>
        new() { System = work.System, Kind = work.Kind, Seq = work.Seq, Succeeded = false, Error = error, Retryable = true };
}
