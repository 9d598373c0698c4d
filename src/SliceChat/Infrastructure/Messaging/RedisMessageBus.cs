using System.Collections.Concurrent;
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
    private readonly IConnectionMultiplexer connection;
    private readonly bool ownsConnection;
    private readonly ISubscriber subscriber;
    private readonly byte[] origin;
    private readonly ILogger<RedisMessageBus> logger;
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> queues = new(StringComparer.Ordinal);
    private volatile bool disposed;

    /// <summary>A bus on a connection of its own, closed with the bus.</summary>
    /// <param name="commandTimeout">How long a Redis command may take before the client gives it up.</param>
    public RedisMessageBus(string configuration, ILogger<RedisMessageBus> logger, TimeSpan commandTimeout)
        : this(Connect(configuration, commandTimeout), logger, ownsConnection: true)
    {
    }

    /// <summary>A bus on a shared connection (from <see cref="Connect"/>), which its owner closes.</summary>
    public RedisMessageBus(IConnectionMultiplexer connection, ILogger<RedisMessageBus> logger) : this(connection, logger, ownsConnection: false)
    {
    }

    private RedisMessageBus(IConnectionMultiplexer connection, ILogger<RedisMessageBus> logger, bool ownsConnection) : base(logger)
    {
        this.logger = logger;
        this.connection = connection;
        this.ownsConnection = ownsConnection;
        subscriber = connection.GetSubscriber();
        origin = InstanceId.ToByteArray();
        connection.ConnectionFailed += (_, e) => LogConnectionFailed(logger, e.FailureType.ToString(), e.ConnectionType.ToString());
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                LogConnectionRestored(logger);
                OnLinkRestored();
            }
        };
    }

    /// <summary>The app's Redis connection: it starts, and keeps retrying, while Redis is down.</summary>
    /// <param name="commandTimeout">How long a Redis command may take before the client gives it up.</param>
    public static ConnectionMultiplexer Connect(string configuration, TimeSpan commandTimeout)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false; // start, and keep retrying, while Redis is down
        options.AsyncTimeout = options.SyncTimeout = (int)commandTimeout.TotalMilliseconds;
        // While the link is down a command fails at once instead of waiting in the client's backlog:
        // a send is stored already and must not wait for Redis; the bus publishes it again once the link
        // is back (see IsUnsent), and receivers recover from the database.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return ConnectionMultiplexer.Connect(options);
    }

    public override bool IsConnected => connection.IsConnected;

    protected override Task PublishToTransportAsync(string channel, ReadOnlyMemory<byte> message)
    {
        var frame = new byte[OriginLength + message.Length];
        origin.CopyTo(frame, 0);
        message.Span.CopyTo(frame.AsSpan(OriginLength));
        return subscriber.PublishAsync(RedisChannel.Literal(channel), frame);
    }

    /// <summary>The client had no link to send it on (a command it wrote before the link broke may have been sent: not sent again).</summary>
    protected override bool IsUnsent(Exception exception) =>
        exception is RedisConnectionException { FailureType: ConnectionFailureType.UnableToConnect or ConnectionFailureType.UnableToResolvePhysicalConnection };

    /// <summary>
    /// A queue of an earlier link or attempt is let go first, so the answer to this SUBSCRIBE confirms the
    /// server has the channel (the client's own re-subscription after a reconnect confirms nothing to us).
    /// </summary>
    protected override async Task SubscribeTransportAsync(string channel)
    {
        if (queues.TryRemove(channel, out var stale))
        {
            await stale.UnsubscribeAsync(CommandFlags.FireAndForget);
        }
        ChannelMessageQueue queue;
        try
        {
            queue = await subscriber.SubscribeAsync(RedisChannel.Literal(channel));
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            // The failed call left a queue registered that nothing reads.
            await subscriber.UnsubscribeAsync(RedisChannel.Literal(channel), flags: CommandFlags.FireAndForget);
            throw;
        }
        queues[channel] = queue;
        // A queue hands its messages on one at a time, in the order Redis sent them; a handler
        // subscription would run them concurrently and out of order. Unsubscribing ends the loop.
        queue.OnMessage(message => Receive(channel, message.Message));
    }

    protected override async Task UnsubscribeTransportAsync(string channel)
    {
        if (disposed || !queues.TryRemove(channel, out var queue))
        {
            return; // the connection and its subscriptions are gone already, or it never was subscribed
        }
        try
        {
            await queue.UnsubscribeAsync();
        }
        catch (Exception e) when (disposed && e is RedisConnectionException or ObjectDisposedException)
        {
            // Shut down meanwhile (the host may dispose the bus while a hosted service still
            // unsubscribes): the connection, and with it the subscription, is gone.
        }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
        {
            LogUnsubscribeFailed(logger, e, channel);
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
        if (ownsConnection)
        {
            await connection.CloseAsync(allowCommandsToComplete: false);
            connection.Dispose();
        }
        await base.DisposeAsync();
    }

    [LoggerMessage(LogLevel.Warning, "Redis connection failed ({FailureType}, {ConnectionType})")]
    private static partial void LogConnectionFailed(ILogger logger, string failureType, string connectionType);

    [LoggerMessage(LogLevel.Information, "Redis subscription link restored")]
    private static partial void LogConnectionRestored(ILogger logger);

    [LoggerMessage(LogLevel.Warning, "Redis unsubscribe of {Channel} failed; the server drops it with the link")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception, string channel);
}
