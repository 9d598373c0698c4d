using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Tests.Infrastructure;

public sealed class DbErrorsTests
{
    private static readonly NpgsqlException Refused = new("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));

    public static TheoryData<Exception> Unavailable => new()
    {
        Refused,
        new NpgsqlException("Exception while reading from stream", new EndOfStreamException()),
        new NpgsqlException("The operation has timed out", new TimeoutException()),
        new PostgresException("the database system is shutting down", "FATAL", "FATAL", PostgresErrorCodes.CannotConnectNow),
        new DbUpdateException("An error occurred while saving the entity changes.", Refused),
        new RetryLimitExceededException("Retried too often.", Refused),
        new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", Refused),
        new SqliteException("database is locked", 5),
    };

    public static TheoryData<Exception> Other => new()
    {
        new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation),
        new DbUpdateException("An error occurred while saving the entity changes.",
            new PostgresException("violates foreign key", "ERROR", "ERROR", PostgresErrorCodes.ForeignKeyViolation)),
        new SqliteException("UNIQUE constraint failed", 19),
        new InvalidOperationException("Sequence contains no elements."),
        new TimeoutException("A Redis command timed out."),
    };

    [Theory]
    [MemberData(nameof(Unavailable))]
    public void IsUnavailable_ConnectionFailuresTimeoutsAndTheirWrappers_True(Exception exception) =>
        DbErrors.IsUnavailable(exception).ShouldBeTrue();

    [Theory]
    [MemberData(nameof(Other))]
    public void IsUnavailable_ConstraintsBugsAndOtherTimeouts_False(Exception exception) =>
        DbErrors.IsUnavailable(exception).ShouldBeFalse();
}
