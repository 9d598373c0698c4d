using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// How <c>dotnet ef</c> builds the PostgreSQL context without starting the app. Adding or scripting a
/// migration never connects, so no server is needed; <c>dotnet ef database update</c> uses
/// <c>ConnectionStrings__Postgres</c> from the environment.
/// </summary>
public sealed class PostgresChatDbContextFactory : IDesignTimeDbContextFactory<PostgresChatDbContext>
{
    private const string Placeholder = "Host=localhost;Database=slicechat";

    public PostgresChatDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
        var options = new DbContextOptionsBuilder<PostgresChatDbContext>()
            .UseNpgsql(string.IsNullOrWhiteSpace(connectionString) ? Placeholder : connectionString)
            .Options;
        return new PostgresChatDbContext(options);
    }
}

/// <summary>How <c>dotnet ef</c> builds the SQLite context without starting the app.</summary>
public sealed class SqliteChatDbContextFactory : IDesignTimeDbContextFactory<SqliteChatDbContext>
{
    public SqliteChatDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SqliteChatDbContext>()
            .UseSqlite("Data Source=slicechat.db")
            .Options;
        return new SqliteChatDbContext(options);
    }
}
