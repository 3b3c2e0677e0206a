using System.Text.Json;

namespace OrleansOps.Domain;

/// <summary>Reading fields of request bodies that people and tools write by hand, with the problem said per field.</summary>
public static class JsonText
{
    /// <summary>A string property that may be absent or null; a wrong type or a value over <paramref name="maxLength"/> adds an error.</summary>
    public static string? OptionalString(JsonElement body, string name, int maxLength, List<string> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) errors.Add($"{name}: must be a string");
        else if (value.GetString()!.Length > maxLength) errors.Add($"{name}: is longer than {maxLength} characters");
        else return value.GetString();
        return null;
    }

    /// <summary>A true/false property that may be absent or null (false); anything else adds an error.</summary>
    public static bool OptionalFlag(JsonElement body, string name, List<string> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.False) return false;
        if (value.ValueKind == JsonValueKind.True) return true;
        errors.Add($"{name}: must be true or false");
        return false;
    }

    /// <summary>A timestamp property (between the years 1970 and 9000) that may be absent or null; anything else adds an error.</summary>
    public static DateTimeOffset? OptionalInstant(JsonElement body, string name, List<string> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var instant)
            && instant.Year is >= 1970 and <= 9000)
            return instant;
        errors.Add($"{name}: not a timestamp like 2026-11-01T10:00:00Z");
        return null;
    }
}
