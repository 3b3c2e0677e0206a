using System.Globalization;
using Microsoft.Data.Sqlite;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace OrleansOps.Storage;

/// <summary>
/// Grain state in SQLite, keyed by state name and grain id, with an integer version as the ETag
/// (a write with a stale ETag is refused, as Orleans expects). State is stored in the Orleans binary format,
/// which tolerates added and removed [Id] fields.
/// </summary>
public sealed class SqliteGrainStorage(SqliteStore store, Serializer serializer, TimeProvider time) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var row = await store.ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT etag, payload FROM grain_state WHERE state_name = $state AND grain_id = $grain";
            command.Parameters.AddWithValue("$state", stateName);
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            await using var reader = await command.ExecuteReaderAsync();
            return await reader.ReadAsync() ? (ETag: reader.GetInt64(0), Payload: (byte[])reader[1]) : ((long ETag, byte[] Payload)?)null;
        });
        if (row is { } found)
        {
            grainState.State = serializer.Deserialize<T>(found.Payload);
            grainState.ETag = found.ETag.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.SerializeToArray(grainState.State);
        var expected = ParseETag(grainState.ETag);
        var modified = time.GetUtcNow().ToString("O");
        var written = await store.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            if (expected is null)
            {
                command.CommandText = """
                    INSERT INTO grain_state (state_name, grain_id, etag, payload, modified_utc)
                    VALUES ($state, $grain, 1, $payload, $modified)
                    ON CONFLICT (state_name, grain_id) DO NOTHING
                    """;
            }
            else
            {
                command.CommandText = """
                    UPDATE grain_state SET etag = etag + 1, payload = $payload, modified_utc = $modified
                    WHERE state_name = $state AND grain_id = $grain AND etag = $etag
                    """;
                command.Parameters.AddWithValue("$etag", expected.Value);
            }
            command.Parameters.AddWithValue("$state", stateName);
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$payload", payload);
            command.Parameters.AddWithValue("$modified", modified);
            return command.ExecuteNonQuery() == 1 ? (expected ?? 0) + 1 : (long?)null;
        });
        if (written is null)
            throw new InconsistentStateException(
                $"The stored version of {stateName} for {grainId} is not {grainState.ETag ?? "absent"}; another activation wrote it.",
                storedEtag: "unknown", currentEtag: grainState.ETag ?? "");
        grainState.ETag = written.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var expected = ParseETag(grainState.ETag);
        await store.WriteAsync((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM grain_state WHERE state_name = $state AND grain_id = $grain AND ($etag IS NULL OR etag = $etag)";
            command.Parameters.AddWithValue("$state", stateName);
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            command.Parameters.AddWithValue("$etag", (object?)expected ?? DBNull.Value);
            return command.ExecuteNonQuery();
        });
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private static long? ParseETag(string? etag) =>
        etag is null ? null
        : long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version
        : throw new InconsistentStateException($"'{etag}' is not an ETag of this storage.");
}
