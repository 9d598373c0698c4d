using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SliceChat.Infrastructure.Persistence;

public static class DbErrors
{
    private const int SqliteConstraint = 19;

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
