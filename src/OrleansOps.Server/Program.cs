using OrleansOps.Server;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The demo configuration and appsettings ship beside the binary, wherever it is started from.
    ContentRootPath = AppContext.BaseDirectory,
});
builder.AddOrleansOps();

var app = builder.Build();
app.MapOrleansOps();
app.Run();

/// <summary>Visible to tests that locate the server's build output.</summary>
public partial class Program;
