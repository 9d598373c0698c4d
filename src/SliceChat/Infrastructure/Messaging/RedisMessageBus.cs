using StackExchange.Redis;

namespace SliceChat.Infrastructure.Messaging;

/// <summary>
/// The bus across instances, on Redis pub/sub (StackExchange.Redis 3.x). A frame on the wire is the
/// publishing instance's id (16 bytes) followed by the message, so an instance skips its own echoes:
/// it has already delivered them locally.
/// </summary>
public sealed partial class RedisMessageBus : MessageBusBase
{
    private const int OriginLength = 16;
    private readonly ConnectionMultiplexer connection;
    private readonly ISubscriber subscriber;
    private readonly byte[] origin;
    private readonly ILogger<RedisMessageBus> logger;
    private volatile bool disposed;

    public RedisMessageBus(string configuration, ILogger<RedisMessageBus> logger) : base(logger)
    {
        this.logger = logger;
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false; // start, and keep retrying, while Redis is down
        connection = ConnectionMultiplexer.Connect(options);
        subscriber = connection.GetSubscriber();
        origin = InstanceId.ToByteArray();
        connection.ConnectionFailed += (_, e) => LogConnectionFailed(logger, e.FailureType.ToString(), e.ConnectionType.ToString());
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                LogConnectionRestored(logger);
                OnReconnected();
            }
        };
    }

    public override bool IsConnected => connection.IsConnected;

    /// <summary>A name is always literal, so a '*' in it is never a pattern.</summary>
    private static RedisChannel Literal(string channel) => new(channel, RedisChannel.PatternMode.Literal);

    protected override async Task PublishToTransportAsync(string channel, ReadOnlyMemory<byte> message)
    {
        var frame = new byte[OriginLength + message.Length];
        origin.CopyTo(frame, 0);
        message.Span.CopyTo(frame.AsSpan(OriginLength));
        await OffRedisThreads(subscriber.PublishAsync(Literal(channel), frame));
    }

    /// <summary>
    /// Awaits a StackExchange.Redis task without running the rest of the caller on the client's own
    /// socket-reader thread (where a continuation would otherwise run inline, stalling every other
    /// Redis message, and deadlocking if it ends up disposing the connection), and gives up waiting
    /// after <see cref="CommandTimeout"/>: the library keeps retrying, and recovery goes through the database.
    /// </summary>
    private static async Task OffRedisThreads(Task command) =>
        await command.WaitAsync(CommandTimeout).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    protected override async Task SubscribeTransportAsync(string channel)
    {
        try
        {
            await OffRedisThreads(subscriber.SubscribeAsync(Literal(channel), (_, value) => Receive(channel, value)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // StackExchange.Redis keeps the channel in its own table and re-subscribes once the link is
            // back (1.2.6 may even throw a NullReferenceException while it is down); Reconnected lets
            // receivers catch up.
            LogSubscribeDeferred(logger, e, channel);
        }
    }

    protected override async Task UnsubscribeTransportAsync(string channel)
    {
        if (disposed)
        {
            return; // the connection and its subscriptions are gone already
        }
        try
        {
            await OffRedisThreads(subscriber.UnsubscribeAsync(Literal(channel)));
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.ConnectionDisposed)
        {
            // Shutting down: the connection, and with it the subscription, is gone.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSubscribeDeferred(logger, e, channel);
        }
    }

    private void Receive(string channel, RedisValue value)
    {
        byte[]? frame = value;
        if (frame is null || frame.Length < OriginLength || frame.AsSpan(0, OriginLength).SequenceEqual(origin))
        {
            return;
        }
        Dispatch(channel, frame.AsMemory(OriginLength));
    }

    public override async ValueTask DisposeAsync()
    {
        disposed = true;
        await OffRedisThreads(connection.CloseAsync(allowCommandsToComplete: false));
        connection.Dispose();
        await base.DisposeAsync();
    }

    [LoggerMessage(LogLevel.Warning, "Redis connection failed ({FailureType}, {ConnectionType})")]
    private static partial void LogConnectionFailed(ILogger logger, string failureType, string connectionType);

    [LoggerMessage(LogLevel.Information, "Redis subscription link restored")]
    private static partial void LogConnectionRestored(ILogger logger);

    [LoggerMessage(LogLevel.Warning, "Redis (un)subscribe of {Channel} deferred while the link is down")]
    private static partial void LogSubscribeDeferred(ILogger logger, Exception exception, string channel);
}
