using OrleansOps.Server;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args is [MigrateCommand.Name, .. var rest] ? rest : args,
    // The demo configuration and appsettings ship beside the binary, wherever it is started from.
    ContentRootPath = AppContext.BaseDirectory,
});
if (!OrleansOpsSettings.Check(builder.Configuration, out var settings)) return 2;
if (args is [MigrateCommand.Name, ..]) return await MigrateCommand.RunAsync(settings);

builder.AddOrleansOps();
var app = builder.Build();
if (await app.PrepareSchemaAsync() is { } schemaProblem)
{
    Console.Error.WriteLine($"OrleansOps cannot start: {schemaProblem}");
    return 1;
}
app.MapOrleansOps();
await app.RunAsync();
return 0;

/// <summary>Visible to tests that locate the server's build output.</summary>
public partial class Program;
