using Orleans.Runtime;

namespace OrleansOps.Server.Apis;

/// <summary>The silos of the cluster as Orleans' membership sees them: who is up, who was declared dead, and when.</summary>
public static class ClusterApi
{
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        var cluster = app.MapGroup("/api/v1/cluster").WithTags("Cluster").RequireAdminToken();
        cluster.MapGet("/silos", ListSilos).WithSummary("Every silo in the membership table with its status (active, dead, ...), by name; ?limit=&cursor=")
            .Produces<Page<SiloView>>().ProducesProblem(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<IResult> ListSilos(IGrainFactory grains, ILocalSiloDetails local, string? limit = null, string? cursor = null)
    {
        var (query, problem) = Paging.Read(limit, cursor);
        if (problem is not null) return problem;
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false);
        var silos = hosts
            .Select(h => new SiloView(
                h.SiloName,
                h.SiloAddress.ToParsableString(),
                h.Status.ToString().ToLowerInvariant(),
                h.StartTime,
                h.IAmAliveTime,
                h.SiloAddress.Equals(local.SiloAddress)));
        // A restarted silo may keep its name; the address carries its generation, so name and address tell them apart.
        return TypedResults.Ok(Paging.Slice(silos, s => Paging.Key(s.Name, s.Address), query!));
    }

    public sealed record SiloView(string Name, string Address, string Status, DateTime StartedAt, DateTime LastAliveAt, bool AnsweredThisRequest);
}
