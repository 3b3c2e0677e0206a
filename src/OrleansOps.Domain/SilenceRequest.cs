using System.Globalization;
using System.Text.Json;

namespace OrleansOps.Domain;

/// <summary>
/// A new silence as someone asks for it, over HTTP (a JSON body) or from opsctl (its options), checked by one set of
/// rules: at least one matcher (a silence of everything is too easy to make by mistake), an end after the start and
/// in the future, and who asks.
/// </summary>
public static class SilenceRequest
{
    public const int MaxMatchers = 32, MaxAuthorLength = 200, MaxCommentLength = 2000;

    /// <summary>
    /// A silence from JSON: <c>matchers</c> as strings (<c>name=~"regex"</c>) or Alertmanager objects
    /// (<c>{name, value, isRegex, isEqual}</c>), <c>startsAt</c> (default now), <c>endsAt</c>, <c>createdBy</c>, <c>comment</c>.
    /// </summary>
    public static (Silence? Silence, List<string> Errors) Read(JsonElement body, DateTimeOffset now)
    {
        if (body.ValueKind != JsonValueKind.Object) return (null, ["$: must be a JSON object"]);
        var errors = new List<string>();
        var items = body.TryGetProperty("matchers", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : null;
        var matchers = Matchers(items, (item, path) => item.ValueKind switch
        {
            JsonValueKind.String => LabelMatcher.Parse(item.GetString()!, out var error) ?? Fail(errors, $"{path}: {error}"),
            JsonValueKind.Object => MatcherObject(item, path, errors),
            _ => Fail(errors, $"{path}: must be a string like name=\"value\" or an object {{name, value, isRegex, isEqual}}"),
        }, errors);
        var startsAt = Instant(body, "startsAt", errors);
        var endsAt = Instant(body, "endsAt", errors);
        var author = JsonText.OptionalString(body, "createdBy", MaxAuthorLength, errors);
        var comment = JsonText.OptionalString(body, "comment", MaxCommentLength, errors);
        return Complete(matchers, startsAt, endsAt, author, comment, now, errors);
    }

    /// <summary>A silence from parts already read, such as opsctl's options: matchers as written (<c>alertname=~"Disk.*"</c>).</summary>
    public static (Silence? Silence, List<string> Errors) Create(
        IReadOnlyList<string> matchers, DateTimeOffset? startsAt, DateTimeOffset? endsAt, string? createdBy, string? comment, DateTimeOffset now)
    {
        var errors = new List<string>();
        var parsed = Matchers(matchers, (text, path) => LabelMatcher.Parse(text, out var error) ?? Fail(errors, $"{path}: {error}"), errors);
        if (createdBy is { Length: > MaxAuthorLength }) errors.Add($"createdBy: is longer than {MaxAuthorLength} characters");
        if (comment is { Length: > MaxCommentLength }) errors.Add($"comment: is longer than {MaxCommentLength} characters");
        return Complete(parsed, startsAt, endsAt, createdBy, comment, now, errors);
    }

    private static List<LabelMatcher> Matchers<T>(IReadOnlyList<T>? items, Func<T, string, LabelMatcher?> read, List<string> errors)
    {
        var matchers = new List<LabelMatcher>();
        if (items is null || items.Count == 0)
            errors.Add("matchers: at least one matcher is required (a silence of everything is too easy to make by mistake)");
        else if (items.Count > MaxMatchers) errors.Add($"matchers: at most {MaxMatchers}");
        else
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (read(items[i], $"matchers[{i}]") is { } matcher) matchers.Add(matcher);
            }
        }
        return matchers;
    }

    /// <summary>The rules on times and author, once each field is read; <paramref name="errors"/> holds what reading found.</summary>
    private static (Silence? Silence, List<string> Errors) Complete(
        List<LabelMatcher> matchers, DateTimeOffset? startsAt, DateTimeOffset? endsAt, string? author, string? comment, DateTimeOffset now, List<string> errors)
    {
        var start = startsAt ?? now;
        // A field that could not be read is already named; "required" on top of it would only repeat it.
        if (endsAt is null && !errors.Any(e => e.StartsWith("endsAt", StringComparison.Ordinal))) errors.Add("endsAt: required");
        else if (endsAt is { } end && end <= start) errors.Add("endsAt: must be after startsAt");
        else if (endsAt is { } past && past <= now) errors.Add("endsAt: must be in the future");
        if (string.IsNullOrWhiteSpace(author) && !errors.Any(e => e.StartsWith("createdBy", StringComparison.Ordinal)))
            errors.Add("createdBy: required (who silences, for the record)");
        if (errors.Count > 0) return (null, errors);
        return (new Silence
        {
            Id = Ids.NewSilenceId(),
            Matchers = matchers,
            StartsAt = start,
            EndsAt = endsAt!.Value,
            CreatedBy = author!,
            Comment = comment ?? "",
            CreatedAt = now,
        }, errors);
    }

    private static LabelMatcher? MatcherObject(JsonElement item, string path, List<string> errors)
    {
        var name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var value = item.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (name is null || value is null) return Fail(errors, $"{path}: needs string name and value");
        var isRegex = item.TryGetProperty("isRegex", out var r) && r.ValueKind == JsonValueKind.True;
        var isEqual = !item.TryGetProperty("isEqual", out var e) || e.ValueKind != JsonValueKind.False;
        var op = (isRegex, isEqual) switch
        {
            (false, true) => MatchOperator.Equal,
            (false, false) => MatchOperator.NotEqual,
            (true, true) => MatchOperator.Regex,
            _ => MatchOperator.NotRegex,
        };
        return LabelMatcher.Create(name, op, value, out var error) ?? Fail(errors, $"{path}: {error}");
    }

    private static DateTimeOffset? Instant(JsonElement body, string name, List<string> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
            return instant;
        errors.Add($"{name}: must be an RFC 3339 timestamp like 2026-12-01T02:00:00Z");
        return null;
    }

    private static LabelMatcher? Fail(List<string> errors, string error)
    {
        errors.Add(error);
        return null;
    }
}
