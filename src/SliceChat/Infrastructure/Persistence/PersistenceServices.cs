using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace SliceChat.Infrastructure.Persistence;

public static class PersistenceServices
{
    /// <summary>
    /// PostgreSQL when <c>ConnectionStrings:Postgres</c> is set; otherwise an SQLite file in the data folder.
    /// Contexts are pooled: every send, socket frame and feed query takes one, and building a fresh
    /// context (its service scope, options and dependencies) cost more CPU than the query it ran.
    /// </summary>
    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var postgres = builder.Configuration.GetConnectionString("Postgres");
        // EF's check that no context runs two operations at once writes an AsyncLocal twice for every row it reads (a
        // sixth of what a conversations list of 200 allocated): on where a bug should fail loudly, off in Production.
        var threadSafetyChecks = builder.Configuration.GetValue("Storage:ThreadSafetyChecks", !builder.Environment.IsProduction());
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            // No session state to reset between checkouts (no SET, LISTEN or temporary table; the migration's advisory
            // lock is released by the migration): Npgsql's reset ran three statements per checkout, about a tenth of
            // PostgreSQL's time under load. An open transaction is still rolled back when a connection goes back.
            var connection = new Npgsql.NpgsqlConnectionStringBuilder(postgres) { NoResetOnClose = true }.ConnectionString;
            builder.Services.AddDbContextPool<ChatDbContext, PostgresChatDbContext>(o => o.UseNpgsql(connection).AddInterceptors(new PreparedStatements()).EnableThreadSafetyChecks(threadSafetyChecks));
        }
        else
        {
            var path = Path.Combine(DataDirectory(builder), "slicechat.db");
            builder.Services.AddDbContextPool<ChatDbContext, SqliteChatDbContext>(o => o.UseSqlite($"Data Source={path};Default Timeout=30").EnableThreadSafetyChecks(threadSafetyChecks));
            // SQLite writes one transaction at a time: more send writers would only queue on its lock.
            builder.Services.PostConfigure<Limits.LimitsOptions>(o => o.SendWriters = 1);
        }
        builder.Services.AddScoped<SeqAllocator>();
        builder.Services.AddSingleton(typeof(PerApp<>));
        return builder;
    }

    /// <summary>Where the embedded database and the development signing key live (<c>Storage:DataDirectory</c>).</summary>
    public static string DataDirectory(WebApplicationBuilder builder)
    {
        var configured = builder.Configuration["Storage:DataDirectory"];
        var path = Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? Path.Combine(builder.Environment.ContentRootPath, "data") : configured);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Any number that other advisory locks of this database do not use.</summary>
    private const long MigrationLockKey = 0x5C_C4A7_0001;

    /// <summary>
    /// Applies pending migrations, safe when several instances start at once. On PostgreSQL, EF Core's own
    /// migration lock did not keep instances starting together from applying the same later migration twice
    /// (PersistenceTests shows it), so a session-level advisory lock serialises the whole run.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        await MigrateAsync(scope.ServiceProvider.GetRequiredService<ChatDbContext>());
    }

    public static async Task MigrateAsync(ChatDbContext db)
    {
        if (!db.Database.IsSqlite())
        {
            await CreatePostgresDatabaseAsync(db);
        }
        await db.Database.OpenConnectionAsync();
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            await db.Database.MigrateAsync();
            return;
        }
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})");
        // The history table first: on an empty database EF's migrator probes it with a query that fails and logs an error.
        await db.GetService<Microsoft.EntityFrameworkCore.Migrations.IHistoryRepository>().CreateIfNotExistsAsync();
        await db.Database.MigrateAsync();
        // On failure the lock goes with the connection; an unlock then would only hide the migration's error.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})");
    }

    /// <summary>Creates the configured database when it does not exist yet, as EF's migrator would (one of several instances wins).</summary>
    private static async Task CreatePostgresDatabaseAsync(ChatDbContext db)
    {
        var creator = db.GetService<Microsoft.EntityFrameworkCore.Storage.IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync())
        {
            return;
        }
        try
        {
            await creator.CreateAsync();
        }
        catch (Npgsql.PostgresException e) when (e.SqlState is Npgsql.PostgresErrorCodes.DuplicateDatabase or Npgsql.PostgresErrorCodes.UniqueViolation)
        {
            // another instance created it first
        }
    }
}
