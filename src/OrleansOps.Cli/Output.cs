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

    /// <summary>A number as the JSON has it, without noise digits: 21.6, 0.8333, 14.4; "-" for none.</summary>
    public static string Number(double? value, string format = "0.####") =>
        value?.ToString(format, System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    /// <summary>A fraction (0.8333) as a percentage (83.33%).</summary>
    public static string Percent(double? fraction) => fraction is { } f ? Number(f * 100, "0.##") + "%" : "-";

    /// <summary>Minutes as people say them: 45s, 7m30s, 2h, 1d4h (the two largest units).</summary>
    public static string Duration(double? minutes)
    {
        if (minutes is not { } m) return "-";
        var span = TimeSpan.FromSeconds(Math.Round(m * 60));
        if (span <= TimeSpan.Zero) return "0s";
        var parts = new (long Amount, string Unit)[] { ((long)span.TotalDays, "d"), (span.Hours, "h"), (span.Minutes, "m"), (span.Seconds, "s") }
            .SkipWhile(p => p.Amount == 0).Take(2).Where(p => p.Amount > 0);
        return string.Concat(parts.Select(p => $"{p.Amount}{p.Unit}"));
    }

    /// <summary>An SLO status in its JSON word, coloured for a terminal.</summary>
    public static string Health(SloHealth health) =>
        $"[{health switch { SloHealth.Healthy => "green", SloHealth.AtRisk => "yellow", _ => "red" }}]{Word(health)}[/]";
}
