using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace OrleansOps.Cli;

/// <summary>Tables for people, JSON (the HTTP API's shapes) for scripts.</summary>
public sealed class Output(bool json)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly IAnsiConsole _console = CreateConsole();

    private static IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        // Piped into a file or grep, tables should not wrap at 80 columns.
        if (Console.IsOutputRedirected) console.Profile.Width = 200;
        return console;
    }

    public void Write<T>(T value, Action<IAnsiConsole, T> human)
    {
        if (json) Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));
        else human(_console, value);
    }

    public static void Error(string message) => Console.Error.WriteLine($"opsctl: {message}");

    public static string Time(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'") ?? "-";

    public static string Word<TEnum>(TEnum value) where TEnum : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns) table.AddColumn(new TableColumn(column));
        return table;
    }

    public static string Text(string? value) => Markup.Escape(value ?? "-");
}
