using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace OrleansOps.Server.Apis;

/// <summary>
/// An account configuration's entity tag is its version (<c>"v7"</c>): every write, from a file or the API, makes a
/// new one, so a tag names exactly one configuration of that account.
/// </summary>
public static class ConfigETags
{
    public static string Of(long version) => $"\"v{version.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>
    /// If-Match and If-None-Match of a configuration write as the grain judges them; null without either. A malformed
    /// header adds an error naming it. If-Match compares strongly: a weak tag (W/"v7") never matches a write.
    /// </summary>
    public static ConfigPrecondition? ReadPrecondition(HttpRequest request, List<string> errors)
    {
        var ifMatch = request.Headers.IfMatch;
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (StringValues.IsNullOrEmpty(ifMatch) && StringValues.IsNullOrEmpty(ifNoneMatch)) return null;

        var precondition = new ConfigPrecondition();
        if (!StringValues.IsNullOrEmpty(ifMatch))
        {
            if (!EntityTagHeaderValue.TryParseStrictList(ifMatch, out var tags) || tags.Count == 0)
                errors.Add($"If-Match: '{ifMatch}' is not * or a list of entity tags such as \"v7\"");
            else if (tags.Any(t => t.Equals(EntityTagHeaderValue.Any)))
                precondition = precondition with { IfExists = true };
            else
                precondition = precondition with { IfVersionIn = tags.Where(t => !t.IsWeak).Select(t => VersionOf(t.Tag)).OfType<long>().ToList() };
        }
        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            // Only * means something for a write: "create, never replace". A tag list would ask for a write that
            // happens unless the configuration is at that version, which no client needs.
            if (ifNoneMatch.ToString().Trim() == "*") precondition = precondition with { IfNew = true };
            else errors.Add($"If-None-Match: a configuration write takes only * (create, never replace), not '{ifNoneMatch}'");
        }
        return precondition;
    }

    /// <summary>Whether a GET's If-None-Match names the current tag (weakly, as RFC 9110 has it for GET), so 304 will do.</summary>
    public static bool NotModified(HttpRequest request, long version)
    {
        var ifNoneMatch = request.Headers.IfNoneMatch;
        if (StringValues.IsNullOrEmpty(ifNoneMatch) || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)) return false;
        var current = new EntityTagHeaderValue(Of(version));
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(current, useStrongComparison: false));
    }

    private static long? VersionOf(StringSegment tag) =>
        tag.Length > 3 && tag[1] == 'v' && long.TryParse(tag.AsSpan(2, tag.Length - 3), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version : null;
}
