using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace OrleansOps.Server.Apis;

/// <summary>Which bearer credential an endpoint takes, for the OpenAPI document (the filters enforce it).</summary>
public sealed record BearerAuth(string Scheme);

/// <summary>
/// The OpenAPI document (<see cref="DocumentPath"/>) and a browsable reference of it (<see cref="UiPath"/>, Scalar).
/// Both are open without a token: they describe the API, and every call made from the page still needs its own.
/// The page's script is served from the Scalar package itself and asks for no web fonts, so it works offline.
/// </summary>
public static class ApiDocs
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string UiPath = "/docs";

    public const string TokenScheme = "apiToken";
    public const string IntegrationKeyScheme = "integrationKey";
    public const string InboundSecretScheme = "inboundSecret";

    private static readonly Dictionary<string, string> Schemes = new()
    {
        [TokenScheme] = "An API token: Authorization: Bearer <token>. The admin token (OrleansOps:AdminToken; the server prints a generated one at start) or an admin token issued at /api/v1/tokens reaches everything; an account token reaches one account, and answers 404 for any other account's resources.",
        [IntegrationKeyScheme] = "An account's integration key: Authorization: Bearer <key>. Senders that cannot set headers put it in the path instead (/i/{key}/…), or, for PagerDuty-style events, in routing_key.",
        [InboundSecretScheme] = "The account's ITSM inbound secret (itsm.inboundSecretRef): Authorization: Bearer <secret>; Jira may sign the body instead (X-Hub-Signature: sha256=<HMAC>).",
    };

    public static IServiceCollection AddApiDocs(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "OrleansOps API";
            document.Info.Description = "Alert ingest, incidents, SLA budgets and KPIs per account. Errors are RFC 7807 problems "
                + "(application/problem+json). Lists answer {\"items\": [...], \"next\": cursor|null}; pass next as ?cursor= for the following page. "
                + "See docs/api.md for the contract.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            foreach (var (name, description) in Schemes)
                document.Components.SecuritySchemes[name] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = description,
                };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<BearerAuth>().LastOrDefault() is { } auth)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(auth.Scheme, context.Document)] = [] });
            }
            if (metadata.OfType<RequestBodyDoc>().LastOrDefault() is { } body)
            {
                var schema = await context.GetOrCreateSchemaAsync(body.Type, cancellationToken: cancellationToken);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = !body.Optional,
                    Content = body.ContentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
                };
            }
        });
    });

    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        app.MapScalarApiReference(UiPath, page => page
            .WithTitle("OrleansOps API")
            .WithOpenApiRoutePattern(DocumentPath)
            .AddPreferredSecuritySchemes([TokenScheme])
            // Nothing from outside: an operator's network may reach only this server.
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp());
        return app;
    }

    /// <summary>The group's endpoints take <paramref name="scheme"/>: documented as such, and as answering 401 without it.</summary>
    public static RouteGroupBuilder DocumentBearer(this RouteGroupBuilder group, string scheme) =>
        group.WithMetadata(new BearerAuth(scheme)).ProducesProblem(StatusCodes.Status401Unauthorized);
}
