using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SliceChat.Infrastructure.Persistence;

public static class DbErrors
{
    private const int SqliteConstraint = 19;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    /// <summary>
    /// The database could not be reached or could not take the work now (connection refused or broken, a
    /// timeout, the server shutting down, SQLite busy or locked), also when wrapped by EF (DbUpdateException,
    /// a retry strategy's exceptions): worth retrying shortly, unlike a wrong query or a violated constraint.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A unique index refused the write: another request got there first.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteConstraint && sqlite.Message.Contains("UNIQUE", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>A foreign key refused the write: the row it points at is gone.</summary>
    public static bool IsForeignKeyViolation(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.ForeignKeyViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteConstraint && sqlite.Message.Contains("FOREIGN KEY", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>The name of the violated index (PostgreSQL) or the columns (SQLite), to tell which value was taken.</summary>
    public static string ConstraintDetail(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException pg => pg.ConstraintName ?? "",
        SqliteException sqlite => sqlite.Message,
        _ => "",
    };
}
