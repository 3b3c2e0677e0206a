using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansOps.Server.Apis;

/// <summary>
/// Compile-time JSON metadata for the answers on the ingest path, the server's hottest; it sits first in the HTTP
/// JSON options' resolver chain, so the options' converters still apply, and every other type falls back to reflection.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(IngestApi.IngestAnswer))]
[JsonSerializable(typeof(IngestApi.PagerDutyAnswerBody))]
internal sealed partial class IngestJson : JsonSerializerContext;
