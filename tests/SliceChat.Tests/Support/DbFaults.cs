using System.Data.Common;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Tests.Support;

/// <summary>
/// Faults for the SQL commands of one app instance (PostgreSQL): commands that <see cref="Fail"/> matches throw as
/// if the server were unreachable; the next command <see cref="DelayNext"/> armed is held for a while first.
/// </summary>
public sealed class DbFaults : DbCommandInterceptor
{
    private Func<string, bool>? fail;
    private (Func<string, bool> Match, TimeSpan Delay)? delay;
    private int failures;

    /// <summary>Commands matching this fail (null: none).</summary>
    public Func<string, bool>? Fail
    {
        get => Volatile.Read(ref fail);
        set => Volatile.Write(ref fail, value);
    }

    /// <summary>How many commands <see cref="Fail"/> has failed.</summary>
    public int Failures => Volatile.Read(ref failures);

    /// <summary>The next command matching <paramref name="match"/> waits <paramref name="by"/> before it runs.</summary>
    public void DelayNext(Func<string, bool> match, TimeSpan by)
    {
        lock (this)
        {
            delay = (match, by);
        }
    }

    /// <summary>Hooks these faults into the instance's DbContexts.</summary>
    public void Install(IWebHostBuilder host) =>
        host.ConfigureTestServices(services => services.ConfigureDbContext<PostgresChatDbContext>(o => o.AddInterceptors(this)));

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await ApplyAsync(command.CommandText);
        return result;
    }

    public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await ApplyAsync(command.CommandText);
        return result;
    }

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await ApplyAsync(command.CommandText);
        return result;
    }

    private async Task ApplyAsync(string sql)
    {
        if (Fail is { } failing && failing(sql))
        {
            Interlocked.Increment(ref failures);
            throw new NpgsqlException("test fault: the database is unreachable", new SocketException((int)SocketError.ConnectionRefused));
        }
        TimeSpan? wait = null;
        lock (this)
        {
            if (delay is { } armed && armed.Match(sql))
            {
                delay = null;
                wait = armed.Delay;
            }
        }
        if (wait is { } by)
        {
            await Task.Delay(by);
        }
    }
}
