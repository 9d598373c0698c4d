using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace SliceChat.Tests.Support;

/// <summary>An app over a database of its own, shared by one test class; tests keep apart by unique names.</summary>
public abstract class AppFixture : IAsyncLifetime
{
    private readonly List<AppFactory> instances = [];

    public abstract Provider Provider { get; }

    /// <summary>Postgres connection string, or the SQLite data folder.</summary>
    public string Database { get; private set; } = "";

    public AppFactory App => instances[0];

    public Api Api => new(App.CreateClient());

    protected virtual bool UseRedis => false;

    protected virtual string RedisConfiguration => TestServers.Redis;

    protected string ChannelPrefix { get; } = "test-" + Guid.NewGuid().ToString("N")[..8];

    public virtual Task InitializeAsync()
    {
        Database = Provider == Provider.Postgres
            ? TestServers.CreatePostgresDatabase()
            : Directory.CreateTempSubdirectory("slicechat-test-").FullName;
        StartInstance();
        return Task.CompletedTask;
    }

    /// <summary>Another app instance on the same database (and Redis, when the fixture uses it).</summary>
    public AppFactory StartInstance(Action<Dictionary<string, string?>>? configure = null, Microsoft.Extensions.Logging.ILoggerProvider? logger = null,
        bool kestrel = false, Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? configureHost = null)
    {
        var settings = AppFactory.Settings(Provider, Database, UseRedis ? RedisConfiguration : null, ChannelPrefix);
        Configure(settings);
        configure?.Invoke(settings);
        var factory = new AppFactory(settings, logger, configureHost);
        if (kestrel)
        {
            factory.UseKestrel(0);
            factory.StartServer();
        }
        else
        {
            _ = factory.Server; // start now, so start-up failures surface here
        }
        instances.Add(factory);
        return factory;
    }

    /// <summary>Settings of every instance of this fixture, before a test's own.</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    /// <summary>
    /// A Kestrel instance whose sockets have small kernel send buffers, so that what a client does not read
    /// stays in the server's queues after a few frames.
    /// </summary>
    public AppFactory StartInstanceWithSmallSendBuffers(Action<Dictionary<string, string?>>? configure = null) =>
        StartInstance(configure, kestrel: true, configureHost: host => host.ConfigureServices(services =>
            services.Configure<SocketTransportOptions>(o => o.CreateBoundListenSocket = endpoint =>
            {
                var listener = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                listener.SendBufferSize = 16 * 1024;
                return listener;
            })));

    public virtual async Task DisposeAsync()
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }
        if (Provider == Provider.Postgres)
        {
            TestServers.DropPostgresDatabase(Database);
            var attachments = AppFactory.AttachmentsDirectory(Database);
            if (Directory.Exists(attachments))
            {
                Directory.Delete(attachments, recursive: true);
            }
        }
        else
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Database, recursive: true);
        }
    }
}

public sealed class PostgresApp : AppFixture
{
    public override Provider Provider => Provider.Postgres;
}

public sealed class SqliteApp : AppFixture
{
    public override Provider Provider => Provider.Sqlite;
}

/// <summary>Postgres and Redis, for tests that need more than one instance.</summary>
public sealed class ScaledOutApp : AppFixture
{
    public override Provider Provider => Provider.Postgres;
    protected override bool UseRedis => true;
}

/// <summary>Two or more instances on PostgreSQL and a Redis of this fixture's own, which tests stop and restart.</summary>
public sealed class ChaosApp : AppFixture
{
    public RedisServer Redis { get; } = new();

    public override Provider Provider => Provider.Postgres;
    protected override bool UseRedis => true;
    protected override string RedisConfiguration => Redis.Configuration;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Redis.Dispose();
    }
}

/// <summary>PostgreSQL behind a <see cref="TcpProxy"/> of this fixture's own, which tests cut and restore.</summary>
public sealed class PostgresOutageApp : AppFixture
{
    public TcpProxy Proxy { get; } = TcpProxy.ForPostgres(TestServers.Postgres);

    public override Provider Provider => Provider.Postgres;

    protected override void Configure(Dictionary<string, string?> settings) =>
        settings["ConnectionStrings:Postgres"] = Proxy.Route(Database);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}
