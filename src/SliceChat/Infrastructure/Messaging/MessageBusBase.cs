using System.Collections.Immutable;

namespace SliceChat.Infrastructure.Messaging;

/// <summary>
/// What both buses share: reference-counted subscriptions (the transport subscribes a channel on the
/// first local handler and unsubscribes after the last, under one lock), local delivery of own
/// publishes, and isolation of handlers from each other's failures.
/// </summary>
public abstract partial class MessageBusBase(ILogger logger) : IMessageBus, IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private ImmutableDictionary<string, ImmutableArray<Action<ReadOnlyMemory<byte>>>> handlers =
        ImmutableDictionary<string, ImmutableArray<Action<ReadOnlyMemory<byte>>>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Tells this instance's publishes apart when the transport echoes them back.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    public event Action? Reconnected;

    public abstract bool IsConnected { get; }

    public async Task PublishAsync(string channel, ReadOnlyMemory<byte> message)
    {
        Dispatch(channel, message);
        try
        {
            await PublishToTransportAsync(channel, message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The message is already stored; other instances fill the gap from the database.
            LogPublishFailed(logger, e, channel);
        }
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler)
    {
        await gate.WaitAsync();
        try
        {
            var existing = handlers.GetValueOrDefault(channel, []);
            if (existing.IsEmpty)
            {
                await SubscribeTransportAsync(channel);
            }
            handlers = handlers.SetItem(channel, existing.Add(handler));
        }
        finally
        {
            gate.Release();
        }
        return new Subscription(this, channel, handler);
    }

    private async Task UnsubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler)
    {
        await gate.WaitAsync();
        try
        {
            if (!handlers.TryGetValue(channel, out var existing))
            {
                return;
            }
            var remaining = existing.Remove(handler);
            handlers = remaining.IsEmpty ? handlers.Remove(channel) : handlers.SetItem(channel, remaining);
            if (remaining.IsEmpty)
            {
                await UnsubscribeTransportAsync(channel);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The channels with at least one local handler.</summary>
    public IReadOnlyCollection<string> SubscribedChannels => handlers.Keys.ToList();

    protected abstract Task PublishToTransportAsync(string channel, ReadOnlyMemory<byte> message);

    protected abstract Task SubscribeTransportAsync(string channel);

    protected abstract Task UnsubscribeTransportAsync(string channel);

    /// <summary>Hands a message to this instance's handlers of the channel; one failing handler does not stop the rest.</summary>
    protected void Dispatch(string channel, ReadOnlyMemory<byte> message)
    {
        if (!handlers.TryGetValue(channel, out var subscribers))
        {
            return;
        }
        foreach (var handler in subscribers)
        {
            try
            {
                handler(message);
            }
            catch (Exception e)
            {
                LogHandlerFailed(logger, e, channel);
            }
        }
    }

    protected void OnReconnected() => Reconnected?.Invoke();

    // The gate is not disposed: subscriptions may still be released while the host shuts down.
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private sealed class Subscription(MessageBusBase bus, string channel, Action<ReadOnlyMemory<byte>> handler) : IAsyncDisposable
    {
        private int disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                await bus.UnsubscribeAsync(channel, handler);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Publishing on {Channel} failed; receivers recover from the database")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(LogLevel.Error, "A subscriber of {Channel} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string channel);
}
