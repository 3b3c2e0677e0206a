using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OrleansOps.Server.Apis;

/// <summary>A page request every list reads alike: <c>limit</c> (1–500, default 50) and the <c>cursor</c> a previous page answered as <c>next</c>.</summary>
public sealed record PageQuery(int Limit, string? After);

/// <summary>
/// Keyset paging for every list of the API. A list orders its items by a sort key (a string that orders ordinally as
/// the list does, unique per item); the cursor is the key of a page's last item, so the next page starts right after
/// it even when items were added or removed meanwhile: an item that stays in the list is seen exactly once.
/// </summary>
public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>Reads <c>limit</c> and <c>cursor</c>, or answers a 400 problem that names the parameter.</summary>
    public static (PageQuery? Query, ProblemHttpResult? Problem) Read(string? limit, string? cursor)
    {
        var errors = new List<string>();
        var query = Read(limit, cursor, errors);
        return errors.Count > 0 ? (null, Problems.InvalidQuery(errors)) : (query, null);
    }

    /// <summary>Reads <c>limit</c> and <c>cursor</c>, adding what is wrong with them to <paramref name="errors"/>.</summary>
    public static PageQuery Read(string? limit, string? cursor, List<string> errors)
    {
        var size = ReadLimit(limit, errors);
        string? after = null;
        if (!string.IsNullOrEmpty(cursor) && (after = Decode(cursor)) is null)
            errors.Add("cursor: not a cursor this server issued (pass the 'next' of the previous page as it was)");
        return new PageQuery(size, after);
    }

    /// <summary><c>limit</c>: absent is <see cref="DefaultLimit"/>; anything but a whole number from 1 to <see cref="MaxLimit"/> adds an error.</summary>
    public static int ReadLimit(string? limit, List<string> errors)
    {
        if (limit is null) return DefaultLimit;
        if (int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= MaxLimit) return size;
        errors.Add($"limit: '{limit}' is not a whole number from 1 to {MaxLimit}");
        return DefaultLimit;
    }

    /// <summary>The page of <paramref name="items"/> after the query's cursor, in the order of <paramref name="sortKey"/>.</summary>
    public static Page<T> Slice<T>(IEnumerable<T> items, Func<T, string> sortKey, PageQuery query)
    {
        var page = items
            .Select(item => (Key: sortKey(item), Item: item))
            .Where(entry => query.After is null || string.CompareOrdinal(entry.Key, query.After) > 0)
            .OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .Take(query.Limit + 1)
            .ToList();
        var next = page.Count > query.Limit ? Encode(page[query.Limit - 1].Key) : null;
        return new Page<T>(page.Take(query.Limit).Select(entry => entry.Item).ToList(), next);
    }

    /// <summary>Parts of a sort key, joined so that the key orders as its parts do, part by part.</summary>
    public static string Key(params string[] parts) => string.Join('\u0001', parts);

    /// <summary>An instant as a key part that orders oldest first.</summary>
    public static string Ascending(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>An instant as a key part that orders newest first.</summary>
    public static string Descending(DateTimeOffset at) => (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>A number of 0 or more as a key part that orders by value.</summary>
    public static string Ascending(long number) => number.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>Opaque to clients: base64url of the key, with a version letter so a later format can tell its own apart.</summary>
    public static string Encode(string key) =>
        "1" + Convert.ToBase64String(Encoding.UTF8.GetBytes(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string? Decode(string cursor)
    {
        if (cursor.Length < 2 || cursor[0] != '1' || cursor.Length > 4096) return null;
        var body = cursor[1..].Replace('-', '+').Replace('_', '/');
        body += new string('=', (4 - body.Length % 4) % 4);
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(body));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
