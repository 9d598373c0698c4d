using Microsoft.EntityFrameworkCore;

namespace SliceChat.Infrastructure.Persistence;

public static class PersistenceServices
{
    /// <summary>PostgreSQL when <c>ConnectionStrings:Postgres</c> is set; otherwise an SQLite file in the data folder.</summary>
    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var postgres = builder.Configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            builder.Services.AddDbContext<ChatDbContext, PostgresChatDbContext>(o => o.UseNpgsql(postgres));
        }
        else
        {
            var path = Path.Combine(DataDirectory(builder), "slicechat.db");
            builder.Services.AddDbContext<ChatDbContext, SqliteChatDbContext>(o => o.UseSqlite($"Data Source={path};Default Timeout=30"));
        }
        builder.Services.AddScoped<SeqAllocator>();
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

    /// <summary>Applies pending migrations. EF Core takes a database-wide lock around them, so instances may start together.</summary>
    public static async Task MigrateDatabaseAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        if (db.Database.IsSqlite())
        {
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }
        await db.Database.MigrateAsync();
    }
}
