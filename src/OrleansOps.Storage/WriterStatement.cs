using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace OrleansOps.Storage;

/// <summary>
/// A statement of the journal writer's, prepared once on its connection and bound value by value through SQLite's own
/// API, inside whatever transaction the connection has open. Microsoft.Data.Sqlite would allocate a binder per
/// parameter and a UTF-8 copy per text on every execution; the writer runs one per journal record, a storm thousands
/// a second.
/// </summary>
internal sealed class WriterStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;

    public WriterStatement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle ?? throw new InvalidOperationException("The writer's connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_database, sql, out _statement), _database);
    }

    public WriterStatement Integer(int parameter, long? value) =>
        Bound(value is { } number ? raw.sqlite3_bind_int64(_statement, parameter, number) : raw.sqlite3_bind_null(_statement, parameter));

    /// <summary>Binds the text as UTF-16: SQLite converts it to the database's encoding itself.</summary>
    public WriterStatement Text(int parameter, string? value) => Bound(value switch
    {
        null => raw.sqlite3_bind_null(_statement, parameter),
        // An empty span has no address, and SQLite takes a text without one for NULL.
        "" => raw.sqlite3_bind_text(_statement, parameter, ""),
        _ => raw.sqlite3_bind_text16(_statement, parameter, value.AsSpan()),
    });

    public WriterStatement Blob(int parameter, byte[]? value) => Bound(value switch
    {
        null => raw.sqlite3_bind_null(_statement, parameter),
        [] => raw.sqlite3_bind_zeroblob(_statement, parameter, 0),
        _ => raw.sqlite3_bind_blob(_statement, parameter, value),
    });

    /// <summary>Runs the statement once with the values bound, and resets it for the next.</summary>
    public void Execute()
    {
        var result = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (result != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(result, _database);
    }

    public void Dispose() => _statement.Dispose();

    private WriterStatement Bound(int result)
    {
        SqliteException.ThrowExceptionForRC(result, _database);
        return this;
    }
}
