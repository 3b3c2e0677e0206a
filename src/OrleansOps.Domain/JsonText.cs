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
}
