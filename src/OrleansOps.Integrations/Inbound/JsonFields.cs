using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrleansOps.Integrations.Inbound;

/// <summary>Reads typed fields out of a JSON body, collecting one clear error per bad field instead of stopping at the first.</summary>
public sealed partial class JsonFields
{
    public const int MaxLabels = 128;
    public const int MaxNameLength = 256;
    public const int MaxValueLength = 16 * 1024;

    public List<FieldError> Errors { get; } = [];

    public void Fail(string path, string message) => Errors.Add(new FieldError(path, message));

    public bool IsObject(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object) return true;
        Fail(path, $"must be an object, not {Describe(element)}");
        return false;
    }

    public string? String(JsonElement parent, string name, string path, bool required = false, int maxLength = MaxValueLength)
    {
        // The field's path is built only for an error: this runs for several fields of every alert.
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) Fail(Join(path, name), "is required");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            Fail(Join(path, name), $"must be a string, not {Describe(value)}");
            return null;
        }
        var text = value.GetString()!;
        if (text.Length > maxLength)
        {
            Fail(Join(path, name), $"is longer than {maxLength} characters");
            return null;
        }
        if (required && text.Length == 0)
        {
            Fail(Join(path, name), "must not be empty");
            return null;
        }
        return text;
    }

    /// <summary>"firing" or "resolved"; absent means <paramref name="absent"/>.</summary>
    public AlertStatus Status(JsonElement parent, string path, AlertStatus absent, bool required = false) =>
        String(parent, "status", path, required) switch
        {
            null => absent,
            "firing" => AlertStatus.Firing,
            "resolved" => AlertStatus.Resolved,
            var other => Invalid(Join(path, "status"), $"'{other}' is neither \"firing\" nor \"resolved\"", absent),
        };

    private T Invalid<T>(string path, string message, T fallback)
    {
        Fail(path, message);
        return fallback;
    }

    /// <summary>An object of string values; empty values are dropped, as Alertmanager and Prometheus treat them as absent.</summary>
    public Dictionary<string, string> StringMap(JsonElement parent, string name, string path, bool required = false)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) Fail(Join(path, name), "is required");
            return map;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            Fail(Join(path, name), $"must be an object of strings, not {Describe(value)}");
            return map;
        }
        foreach (var property in value.EnumerateObject())
        {
            var entryName = property.Name;
            if (entryName.Length == 0 || entryName.Length > MaxNameLength)
                Fail(Join(path, name), $"has a name that is empty or longer than {MaxNameLength} characters");
            else if (property.Value.ValueKind != JsonValueKind.String)
                Fail($"{Join(path, name)}.{entryName}", $"must be a string, not {Describe(property.Value)}");
            else if (property.Value.GetString()! is var text && text.Length > MaxValueLength)
                Fail($"{Join(path, name)}.{entryName}", $"is longer than {MaxValueLength} characters");
            else if (text.Length > 0)
                map[entryName] = text;
        }
        if (map.Count > MaxLabels) Fail(Join(path, name), $"has more than {MaxLabels} entries");
        return map;
    }

    /// <summary>An RFC 3339 timestamp. Go's zero time (0001-01-01T00:00:00Z) means "not set".</summary>
    public DateTimeOffset? Timestamp(JsonElement parent, string name, string path)
    {
        var text = String(parent, name, path);
        if (text is null or "") return null;
        if (TryParseTimestamp(text, out var value)) return value == DateTimeOffset.MinValue ? null : value;
        Fail(Join(path, name), $"'{Truncate(text)}' is not an RFC 3339 timestamp such as 2026-11-26T10:00:00Z");
        return null;
    }

    public static bool TryParseTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        if (!Rfc3339().IsMatch(text)) return false;
        // Accept +hhmm as well as +hh:mm (PagerDuty's own examples use +0000). The pattern has matched, so a sign five
        // from the end can only open such a zone.
        var normalized = text[^5] is '+' or '-'
            ? string.Concat(text.AsSpan(0, text.Length - 2), ":", text.AsSpan(text.Length - 2))
            : text;
        return DateTimeOffset.TryParse(normalized, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value);
    }

    public List<AlertLink> Links(JsonElement parent, string name, string path)
    {
        var links = new List<AlertLink>();
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return links;
        if (value.ValueKind != JsonValueKind.Array)
        {
            Fail(Join(path, name), $"must be an array, not {Describe(value)}");
            return links;
        }
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var itemPath = $"{Join(path, name)}[{index++}]";
            if (!IsObject(item, itemPath)) continue;
            var href = String(item, "href", itemPath, required: true, maxLength: 2048);
            var text = String(item, "text", itemPath, maxLength: 1024);
            if (href is not null) links.Add(new AlertLink(href, text));
        }
        return links;
    }

    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})$")]
    private static partial Regex Rfc3339();
}
