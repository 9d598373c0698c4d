using Npgsql;

namespace SliceChat.Tests.Support;

/// <summary>The PostgreSQL and Redis servers that scripts/test.sh starts on loopback (or that the environment names).</summary>
public static class TestServers
{
    public static string Postgres => Environment.GetEnvironmentVariable("SLICECHAT_TEST_POSTGRES")
        ?? throw new InvalidOperationException("SLICECHAT_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts PostgreSQL and Redis.");

    public static string Redis => Environment.GetEnvironmentVariable("SLICECHAT_TEST_REDIS")
        ?? throw new InvalidOperationException("SLICECHAT_TEST_REDIS is not set: run the tests with scripts/test.sh, which starts PostgreSQL and Redis.");

    /// <summary>Creates an empty database of its own for one fixture and returns its connection string.</summary>
    public static string CreatePostgresDatabase()
    {
        var name = "slicechat_" + Guid.NewGuid().ToString("N")[..12];
        var admin = new NpgsqlConnectionStringBuilder(Postgres) { Database = "postgres", Pooling = false };
        using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(Postgres) { Database = name, MaxPoolSize = 50 }.ConnectionString;
    }

    public static void DropPostgresDatabase(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        var admin = new NpgsqlConnectionStringBuilder(Postgres) { Database = "postgres", Pooling = false };
        using var connection = new NpgsqlConnection(admin.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }
}
