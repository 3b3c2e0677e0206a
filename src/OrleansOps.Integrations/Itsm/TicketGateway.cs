using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace OrleansOps.Integrations.Itsm;

/// <summary>
/// Carries one piece of an incident's ticket work to ServiceNow or Jira through their clients. Where an earlier attempt
/// may have landed, it looks first: the incident's ticket by its correlation id or label, a note by its marker. A
/// transition goes after its note, so a retry whose note is found only repeats the transition: ServiceNow sets the same
/// state again; Jira refuses a transition already made, which then counts as done.
/// </summary>
public sealed class TicketGateway(IConfiguration configuration, IHttpClientFactory http, TimeProvider time) : ITicketGateway
{
    public async Task<TicketOutcome> ExecuteAsync(ItsmSettings settings, TicketWork work, CancellationToken cancellationToken)
    {
        var client = Client(settings, work.System);
        if (client is null)
            return Failed(work, new ItsmException($"{work.System} is not configured for this account", retryable: false));
        try
        {
            switch (work.Kind)
            {
                case TicketWorkKind.Create:
                {
                    if (work.LookFirst && await client.FindAsync(work.IncidentId, cancellationToken) is { } found)
                        return Succeeded(work, found, wasThere: true);
                    var created = await client.CreateAsync(new TicketDraft(work.IncidentId, work.Title, work.Text, work.Severity, null), cancellationToken);
                    return Succeeded(work, created, wasThere: false);
                }
                default:
                {
                    var ticket = new TicketRef(work.System, work.TicketId!, work.TicketKey ?? work.TicketId!);
                    var noted = work.LookFirst && await client.HasNoteAsync(ticket, work.Marker!, cancellationToken);
                    if (!noted) await client.AddNoteAsync(ticket, work.Text, cancellationToken);
                    if (work.State is { } state)
                    {
                        try
                        {
                            await client.TransitionAsync(ticket, state, state == TicketState.Resolved ? work.Text : null, cancellationToken);
                        }
                        catch (ItsmException e) when (noted && !e.Retryable)
                        {
                            // The note was there, so this transition most likely went through before; Jira refuses a
                            // transition the issue has already made. Counted as done rather than stopping the sync.
                        }
                    }
                    return Succeeded(work, null, wasThere: noted);
                }
            }
        }
        catch (ItsmException e)
        {
            return Failed(work, e);
        }
    }

    private ITicketClient? Client(ItsmSettings settings, TicketSystem system) => system switch
    {
        TicketSystem.ServiceNow when settings.ServiceNow is { } sn => TicketClients.ServiceNow(sn, configuration, http, time),
        TicketSystem.Jira when settings.Jira is { } jira => TicketClients.Jira(jira, configuration, http, time),
        _ => null,
    };

    private static TicketOutcome Succeeded(TicketWork work, TicketRef? ticket, bool wasThere) => new()
    {
        System = work.System,
        Kind = work.Kind,
        Seq = work.Seq,
        Succeeded = true,
        TicketId = ticket?.Id,
        TicketKey = ticket?.Key,
        Found = wasThere,
    };

    private static TicketOutcome Failed(TicketWork work, ItsmException e) => new()
    {
        System = work.System,
        Kind = work.Kind,
        Seq = work.Seq,
        Succeeded = false,
        Error = e.Message,
        Retryable = e.Retryable,
        RetryAfter = e.RetryAfter,
    };
}

public static class TicketGatewayExtensions
{
    /// <summary>The ticket gateway and the HTTP clients it uses.</summary>
    public static IServiceCollection AddTicketGateway(this IServiceCollection services)
    {
        services.AddItsmHttpClients();
        services.AddSingleton<ITicketGateway, TicketGateway>();
        return services;
    }
}
