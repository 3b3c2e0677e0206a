namespace OrleansOps.Server;

public static class OrleansOpsSettings
{
    /// <summary>Reads the OrleansOps section; prints every problem and answers false when the server must not start.</summary>
    public static bool Check(IConfiguration configuration, out OrleansOpsOptions options)
    {
        options = new OrleansOpsOptions();
        List<string> problems;
        try
        {
            options = configuration.GetSection(OrleansOpsOptions.Section).Get<OrleansOpsOptions>() ?? options;
            problems = [.. options.Problems()];
        }
        catch (InvalidOperationException e)
        {
            // The binder's own message names the key and the value, e.g. a misspelt OrleansOps:Storage.
            problems = [e.InnerException?.Message is { } inner ? $"{e.Message} {inner}" : e.Message];
        }
        foreach (var problem in problems) Console.Error.WriteLine($"configuration: {problem}");
        return problems.Count == 0;
    }
}
