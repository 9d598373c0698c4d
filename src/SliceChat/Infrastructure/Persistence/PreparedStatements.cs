using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// Prepares, on PostgreSQL, the few statements every send and history page runs (those tagged with
/// <see cref="Tag"/>), so the server parses and plans each once per connection instead of on every
/// call: planning the batch statement cost more than running it. Explicit preparation of chosen
/// statements, not Npgsql's <c>Max Auto Prepare</c>: with that on, a connection cut mid-command later
/// failed sends with protocol errors. Npgsql keeps a connection's prepared statements while it is pooled
/// and finds them again by their SQL, so preparing again costs no round trip. EF has no per-query
/// switch for this, hence an interceptor.
/// </summary>
public sealed class PreparedStatements : DbCommandInterceptor
{
    /// <summary>For <c>TagWith</c>; raw SQL starts with <c>-- prepared</c> itself.</summary>
    public const string Tag = "prepared";

    private const string Marker = "-- " + Tag + "\n";

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.StartsWith(Marker, StringComparison.Ordinal))
        {
            await command.PrepareAsync(cancellationToken);
        }
        return result;
    }
}
