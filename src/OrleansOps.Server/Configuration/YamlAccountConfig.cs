using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace OrleansOps.Server.Configuration;

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
}
