using OrleansOps.Cli;

var parse = Commands.Build().Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Output.Error(error.Message);
    Output.Error("see opsctl --help");
    return Commands.Usage;
}
return await parse.InvokeAsync();
