using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace SliceChat.Tests.Support;

public enum Provider
{
    Postgres,
    Sqlite,
}

/// <summary>One app instance over real servers; several instances may share a database and a Redis.</summary>
public sealed class AppFactory(IReadOnlyDictionary<string, string?> settings, ILoggerProvider? extraLogger = null, Action<IWebHostBuilder>? configureHost = null)
    : WebApplicationFactory<Program>
{
    public const string SigningKey = "test-signing-key-that-is-long-enough-0123456789";

    public static Dictionary<string, string?> Settings(Provider provider, string database, string? redis = null, string? channelPrefix = null) => new()
    {
        ["ConnectionStrings:Postgres"] = provider == Provider.Postgres ? database : null,
        ["Storage:DataDirectory"] = provider == Provider.Sqlite ? database : null,
        // Instances of one database share one directory (SQLite's sits in its data folder).
        ["Storage:AttachmentsDirectory"] = provider == Provider.Postgres ? AttachmentsDirectory(database) : null,
        ["Redis:Configuration"] = redis,
        ["Redis:ChannelPrefix"] = channelPrefix,
        ["Jwt:SigningKey"] = SigningKey,
        ["Limits:RateLimitingEnabled"] = "false",
        // The lowest bcrypt cost: tests sign up hundreds of users.
        ["Passwords:BcryptWorkFactor"] = "4",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static string AttachmentsDirectory(string database) => Path.Combine(Path.GetTempPath(), "slicechat-test-attachments",
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(database)))[..16]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        if (extraLogger is not null)
        {
            builder.ConfigureLogging(logging => logging.AddProvider(extraLogger));
        }
        configureHost?.Invoke(builder);
    }
}
