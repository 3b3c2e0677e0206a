using Orleans.Runtime;

namespace OrleansOps.Server.Apis;

/// <summary>The silos of the cluster as Orleans' membership sees them: who is up, who was declared dead, and when.</summary>
public static class ClusterApi
{
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        var cluster = app.MapGroup("/api/v1/cluster").WithTags("Cluster").RequireToken().AdminOnly();
        cluster.MapGet("/silos", ListSilos).WithSummary("Every silo in the membership table with its status (active, dead, ...), by name; ?limit=&cursor=")
            .Produces<Page<SiloView>>().ProducesProblem(StatusCodes.Status400BadRequest);
        cluster.MapGet("/grains", ListActivations).WithSummary("Grain activations per grain type and silo: where the cluster's work lives right now")
            .Produces<GrainActivationsView>();
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

    private static async Task<IResult> ListActivations(IGrainFactory grains)
    {
        var statistics = await grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        var types = statistics
            .GroupBy(s => GrainTypeName(s.GrainType), StringComparer.Ordinal)
            .Select(type => new GrainTypeView(type.Key, type.Sum(s => s.ActivationCount),
                type.GroupBy(s => s.SiloAddress.ToParsableString(), StringComparer.Ordinal)
                    .Select(silo => new SiloActivations(silo.Key, silo.Sum(s => s.ActivationCount)))
                    .OrderBy(s => s.Silo, StringComparer.Ordinal).ToList()))
            .OrderByDescending(t => t.Activations).ThenBy(t => t.GrainType, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new GrainActivationsView(types.Sum(t => t.Activations), types));
    }

    /// <summary>The class name without namespace and assembly: "OrleansOps.Grains.IncidentGrain,OrleansOps.Grains" is IncidentGrain.</summary>
    private static string GrainTypeName(string grainType)
    {
        var name = grainType.Split(',')[0];
        return name[(name.LastIndexOf('.') + 1)..];
    }

    public sealed record GrainActivationsView(int Total, IReadOnlyList<GrainTypeView> GrainTypes);
    public sealed record GrainTypeView(string GrainType, int Activations, IReadOnlyList<SiloActivations> Silos);
    public sealed record SiloActivations(string Silo, int Activations);

    public sealed record SiloView(string Name, string Address, string Status, DateTime StartedAt, DateTime LastAliveAt, bool AnsweredThisRequest);
}
