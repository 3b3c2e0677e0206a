namespace OrleansOps.Domain;

/// <summary>Incident severity; lower number is more severe.</summary>
[GenerateSerializer]
public enum Severity
{
    Sev1 = 1,
    Sev2 = 2,
    Sev3 = 3,
    Sev4 = 4,
}

/// <summary>
/// The explicit mappings from every sender's vocabulary onto <see cref="Severity"/>.
/// Unknown words map to nothing, so the caller decides the default (and can say so).
/// </summary>
public static class SeverityMapping
{
    public const Severity Default = Severity.Sev3;

    /// <summary>Every severity, most severe first; one array, for loops on the ingest path.</summary>
    public static readonly IReadOnlyList<Severity> All = Enum.GetValues<Severity>();

    private static readonly Dictionary<string, Severity> Words = new(StringComparer.OrdinalIgnoreCase)
    {
        // Our own names
        ["sev1"] = Severity.Sev1, ["sev2"] = Severity.Sev2, ["sev3"] = Severity.Sev3, ["sev4"] = Severity.Sev4,
        // Opsgenie-style priorities: P5 is informational, like P4
        ["p1"] = Severity.Sev1, ["p2"] = Severity.Sev2, ["p3"] = Severity.Sev3, ["p4"] = Severity.Sev4, ["p5"] = Severity.Sev4,
        // PagerDuty Events API v2 payload.severity and common Alertmanager `severity` label values
        ["critical"] = Severity.Sev1, ["page"] = Severity.Sev1, ["emergency"] = Severity.Sev1, ["fatal"] = Severity.Sev1,
        ["error"] = Severity.Sev2, ["high"] = Severity.Sev2, ["major"] = Severity.Sev2,
        ["warning"] = Severity.Sev3, ["warn"] = Severity.Sev3, ["medium"] = Severity.Sev3, ["minor"] = Severity.Sev3,
        ["info"] = Severity.Sev4, ["informational"] = Severity.Sev4, ["low"] = Severity.Sev4, ["none"] = Severity.Sev4,
    };

    private static readonly string[] PagerDutyWords = ["critical", "error", "warning", "info"];

    /// <summary>Maps any known word (sevN, PN, critical/error/warning/info and their usual synonyms).</summary>
    public static Severity? FromWord(string? word) =>
        word is not null && Words.TryGetValue(word.Trim(), out var severity) ? severity : null;

    /// <summary>PagerDuty accepts exactly critical, error, warning and info.</summary>
    public static Severity? FromPagerDuty(string? word) =>
        word is not null && PagerDutyWords.Contains(word, StringComparer.Ordinal) ? FromWord(word) : null;

    /// <summary>Opsgenie-style P1–P5.</summary>
    public static Severity? FromPriority(string? priority) =>
        priority is { Length: 2 } && (priority[0] is 'P' or 'p') && priority[1] is >= '1' and <= '5'
            ? FromWord(priority)
            : null;

    public static string ToWire(this Severity severity) => severity switch
    {
        Severity.Sev1 => "sev1",
        Severity.Sev2 => "sev2",
        Severity.Sev3 => "sev3",
        Severity.Sev4 => "sev4",
        _ => throw new ArgumentOutOfRangeException(nameof(severity), severity, null),
    };

    public static bool TryParseWire(string? text, out Severity severity)
    {
        var mapped = text is { Length: 4 } && text.StartsWith("sev", StringComparison.OrdinalIgnoreCase) ? FromWord(text) : null;
        severity = mapped ?? Default;
        return mapped is not null;
    }

    /// <summary>The more severe of two severities.</summary>
    public static Severity Worst(Severity a, Severity b) => (Severity)Math.Min((int)a, (int)b);
}
