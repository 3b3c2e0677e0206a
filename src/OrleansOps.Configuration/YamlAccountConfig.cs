using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace OrleansOps.Configuration;

/// <summary>Account files in YAML, read alike by the server's start-up loader, its admin API and opsctl's <c>config apply</c>.</summary>
public static class YamlAccountConfig
{
    private static readonly IDeserializer Reader = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>Reads one account document; unknown fields and bad types are errors with their line and column.</summary>
    public static (AccountConfigDocument? Document, string? Error) Read(string yaml)
    {
        try
        {
            var document = Reader.Deserialize<AccountConfigDocument>(yaml);
            return document is null ? (null, "the document is empty") : (document, null);
        }
        catch (YamlException e)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            return (null, $"line {e.Start.Line}, column {e.Start.Column}: {reason}");
        }
    }

    /// <summary>The account configuration a YAML file declares, or every problem that keeps it from being one.</summary>
    public static (AccountConfig? Config, IReadOnlyList<string> Errors) ToDomain(string yaml)
    {
        var (document, parseError) = Read(yaml);
        if (document is null) return (null, [parseError!]);
        var (config, errors) = document.ToDomain();
        return (config, errors);
    }
}
