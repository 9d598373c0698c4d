using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// Raw SQL run through EF (its connection, the context's transaction, the interceptors) with its command built once per
/// app (take it as <c>PerApp&lt;RawSqlCommands&gt;</c>). EF's <c>SqlQuery</c> over interpolated SQL cannot cache its
/// command, because its arguments reach the query as one object[]: on every call it formats the SQL again, maps each
/// argument's type and builds a new command: for the batch send statement, about 31 of the 72 KB a REST send allocated.
/// The command's parameter types are those of the first call's arguments, so an argument must never be null.
/// </summary>
public sealed class RawSqlCommands
{
    private readonly ConcurrentDictionary<string, IRelationalCommandTemplate> templates = new(StringComparer.Ordinal);

    /// <summary>Runs <paramref name="sql"/> (each argument a parameter, as with <c>SqlQuery</c>) and hands each row it returns to <paramref name="readRow"/>.</summary>
    public async Task ReadAsync(DbContext db, FormattableString sql, Action<DbDataReader> readRow, CancellationToken ct)
    {
        var arguments = sql.GetArguments();
        var template = templates.GetOrAdd(sql.Format,
            static (format, state) => state.db.GetService<IRawSqlCommandBuilder>().Build(format, state.arguments!, state.db.Model).RelationalCommand,
            (db, arguments));
        var values = new Dictionary<string, object?>(arguments.Length);
        for (var i = 0; i < arguments.Length; i++)
        {
            values.Add(template.Parameters[i].InvariantName, arguments[i] ?? throw new ArgumentException($"Argument {i} of a cached raw SQL command is null.", nameof(sql)));
        }
        // A command keeps the reader of its last execution, so one command must not run twice at once: each execution
        // takes the connection's spare command and fills it from the shared template, as EF's own queries do.
        var connection = db.GetService<IRelationalConnection>();
        var command = connection.RentCommand();
        command.PopulateFrom(template);
        await using (var reader = await command.ExecuteReaderAsync(new RelationalCommandParameterObject(connection, values, null, db,
            db.GetService<IRelationalCommandDiagnosticsLogger>(), CommandSource.FromSqlQuery), ct))
        {
            while (await reader.ReadAsync(ct))
            {
                readRow(reader.DbDataReader);
            }
        }
        connection.ReturnCommand(command);
    }
}
