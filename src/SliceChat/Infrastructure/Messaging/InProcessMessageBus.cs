using System.Collections.Concurrent;

namespace SliceChat.Infrastructure.Messaging;

/// <summary>The bus without Redis: a broker object links the buses that share it (one per process by default).</summary>
public sealed class InProcessBroker
{
    public static InProcessBroker Shared { get; } = new();

    private readonly ConcurrentDictionary<InProcessMessageBus, byte> buses = new();

    internal void Attach(InProcessMessageBus bus) => buses.TryAdd(bus, 0);

    internal void Detach(InProcessMessageBus bus) => buses.TryRemove(bus, out _);

    internal void Publish(InProcessMessageBus origin, string channel, ReadOnlyMemory<byte> message)
    {
        foreach (var bus in buses.Keys)
        {
            if (bus != origin)
            {
                bus.Receive(channel, message);
            }
        }
    }
}

public sealed class InProcessMessageBus : MessageBusBase
{
    private readonly InProcessBroker broker;
    private readonly ConcurrentDictionary<string, byte> subscribed = new(StringComparer.Ordinal);

    public InProcessMessageBus(InProcessBroker broker, ILogger<InProcessMessageBus> logger) : base(logger)
    {
        this.broker = broker;
        broker.Attach(this);
    }

    public override bool IsConnected => true;

    internal void Receive(string channel, ReadOnlyMemory<byte> message)
    {
        if (subscribed.ContainsKey(channel))
        {
            Dispatch(channel, message);
        }
    }

    protected override Task PublishToTransportAsync(string channel, ReadOnlyMemory<byte> message)
    {
        broker.Publish(this, channel, message.ToArray());
        return Task.CompletedTask;
    }

    protected override Task SubscribeTransportAsync(string channel)
    {
        subscribed.TryAdd(channel, 0);
        return Task.CompletedTask;
    }

    protected override Task UnsubscribeTransportAsync(string channel)
    {
        subscribed.TryRemove(channel, out _);
        return Task.CompletedTask;
    }

    public override ValueTask DisposeAsync()
    {
        broker.Detach(this);
        return base.DisposeAsync();
    }
}
