using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Tests.Support;
using StackExchange.Redis;

namespace SliceChat.Tests.Infrastructure.Messaging;

/// <summary>One contract for both buses: two bus objects stand for two app instances.</summary>
public abstract class MessageBusContractTests : IAsyncLifetime
{
    protected MessageBusBase First { get; private set; } = null!;
    protected MessageBusBase Second { get; private set; } = null!;
    private readonly string prefix = "contract-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract MessageBusBase CreateBus();

    /// <summary>How many subscribers the transport itself holds for the channel.</summary>
    protected abstract Task<long> TransportSubscribersAsync(string channel);

    public Task InitializeAsync()
    {
        First = CreateBus();
        Second = CreateBus();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await First.DisposeAsync();
        await Second.DisposeAsync();
    }

    private string Channel(string name) => $"{prefix}:{name}";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private sealed class Inbox : IDisposable
    {
        private readonly ConcurrentQueue<string> received = new();
        private readonly SemaphoreSlim signal = new(0);

        public void Dispose() => signal.Dispose();

        public void Add(ReadOnlyMemory<byte> message)
        {
            received.Enqueue(Encoding.UTF8.GetString(message.Span));
            signal.Release();
        }

        public async Task<string> NextAsync(TimeSpan timeout)
        {
            (await signal.WaitAsync(timeout)).ShouldBeTrue("nothing arrived");
            received.TryDequeue(out var message).ShouldBeTrue();
            return message!;
        }

        public async Task NothingAsync(TimeSpan wait) => (await signal.WaitAsync(wait)).ShouldBeFalse($"unexpected: {string.Join(", ", received)}");
    }

    [Fact]
    public async Task PublishOnOneInstance_ReachesSubscriberOnAnother()
    {
        using var inbox = new Inbox();
        await using var subscription = await Second.SubscribeAsync(Channel("a"), inbox.Add);
        await First.PublishAsync(Channel("a"), Bytes("hello"));
        (await inbox.NextAsync(TimeSpan.FromSeconds(5))).ShouldBe("hello");
    }

    [Fact]
    public async Task OwnPublish_ReachesOwnSubscriberOnce_BeforePublishReturns()
    {
        using var inbox = new Inbox();
        await using var subscription = await First.SubscribeAsync(Channel("own"), inbox.Add);
        await First.PublishAsync(Channel("own"), Bytes("mine"));
        (await inbox.NextAsync(TimeSpan.Zero)).ShouldBe("mine");
        await inbox.NothingAsync(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task LastUnsubscribe_StopsDelivery_AndLeavesTheTransportChannel()
    {
        var channel = Channel("refcount");
        using var one = new Inbox();
        using var two = new Inbox();
        var first = await Second.SubscribeAsync(channel, one.Add);
        var second = await Second.SubscribeAsync(channel, two.Add);
        (await TransportSubscribersAsync(channel)).ShouldBe(1);

        await first.DisposeAsync();
        (await TransportSubscribersAsync(channel)).ShouldBe(1);
        await First.PublishAsync(channel, Bytes("still here"));
        (await two.NextAsync(TimeSpan.FromSeconds(5))).ShouldBe("still here");
        await one.NothingAsync(TimeSpan.FromMilliseconds(200));

        await second.DisposeAsync();
        (await TransportSubscribersAsync(channel)).ShouldBe(0);
        await First.PublishAsync(channel, Bytes("gone"));
        await two.NothingAsync(TimeSpan.FromMilliseconds(500));
        Second.SubscribedChannels.ShouldNotContain(channel);
    }

    [Fact]
    public async Task FailingSubscriber_DoesNotBlockTheOthers()
    {
        var channel = Channel("failing");
        using var healthy = new Inbox();
        await using var failing = await Second.SubscribeAsync(channel, _ => throw new InvalidOperationException("subscriber bug"));
        await using var ok = await Second.SubscribeAsync(channel, healthy.Add);
        // A subscribe that timed out on a loaded box is retried: publish once the transport has it.
        for (var tries = 0; !Second.SubscribedChannels.Contains(channel) && tries < 200; tries++)
        {
            await Task.Delay(25);
        }
        await First.PublishAsync(channel, Bytes("one"));
        await First.PublishAsync(channel, Bytes("two"));
        (await healthy.NextAsync(TimeSpan.FromSeconds(5))).ShouldBe("one");
        (await healthy.NextAsync(TimeSpan.FromSeconds(5))).ShouldBe("two");
    }

    [Fact]
    public async Task ChannelNamesWithStar_StayLiteral()
    {
        using var star = new Inbox();
        await using var subscription = await Second.SubscribeAsync(Channel("room:*"), star.Add);
        await First.PublishAsync(Channel("room:42"), Bytes("not for the star"));
        await First.PublishAsync(Channel("room:*"), Bytes("for the star"));
        (await star.NextAsync(TimeSpan.FromSeconds(5))).ShouldBe("for the star");
        await star.NothingAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task ManyPublishes_ReachTheSubscriberOneAtATime_InPublishOrder()
    {
        const int count = 5000;
        var received = new List<int>(count);
        var running = 0;
        var overlapped = false;
        using var all = new SemaphoreSlim(0);
        await using var subscription = await Second.SubscribeAsync(Channel("order"), message =>
        {
            if (Interlocked.Increment(ref running) > 1)
            {
                overlapped = true;
            }
            var n = BinaryPrimitives.ReadInt32LittleEndian(message.Span);
            if (n % 50 == 0)
            {
                Thread.SpinWait(20_000); // now and then a slower hand-off
            }
            lock (received)
            {
                received.Add(n);
                if (received.Count == count)
                {
                    all.Release();
                }
            }
            Interlocked.Decrement(ref running);
        });

        await Task.WhenAll(Enumerable.Range(0, count).Select(n =>
        {
            var message = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(message, n);
            return First.PublishAsync(Channel("order"), message);
        }));

        (await all.WaitAsync(TimeSpan.FromSeconds(30))).ShouldBeTrue($"{received.Count} of {count} arrived");
        overlapped.ShouldBeFalse("a handler ran while the previous one had not returned");
        received.ShouldBe(Enumerable.Range(0, count));
    }

    [Fact]
    public async Task CodeAfterAPublish_MayWaitOnTheSameBus()
    {
        var bus = CreateBus();
        // As in ASP.NET Core: no synchronization context, so what follows an await runs where the awaited task completed.
        var blocked = await Task.Run(async () =>
        {
            await bus.PublishAsync(Channel("after"), Bytes("one")).ConfigureAwait(false);
            // Waiting synchronously stalls whatever thread runs this; it must not be one the bus needs.
            var published = bus.PublishAsync(Channel("after"), Bytes("two")).Wait(TimeSpan.FromSeconds(5));
            await bus.PublishAsync(Channel("after"), Bytes("three")).ConfigureAwait(false);
            var disposed = bus.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            return (published, disposed);
        });
        blocked.ShouldBe((true, true));
    }
}

public sealed class InProcessMessageBusContractTests : MessageBusContractTests
{
    private readonly InProcessBroker broker = new();

    protected override MessageBusBase CreateBus() => new InProcessMessageBus(broker, NullLogger<InProcessMessageBus>.Instance);

    protected override Task<long> TransportSubscribersAsync(string channel) =>
        Task.FromResult((long)new[] { First, Second }.Count(b => b.SubscribedChannels.Contains(channel)));
}

public sealed class RedisMessageBusContractTests : MessageBusContractTests
{
    protected override MessageBusBase CreateBus() => new RedisMessageBus(TestServers.Redis, NullLogger<RedisMessageBus>.Instance, TimeSpan.FromSeconds(new LimitsOptions().BusCommandTimeoutSeconds));

    /// <summary>PUBSUB NUMSUB, asked of the Redis server itself.</summary>
    protected override async Task<long> TransportSubscribersAsync(string channel)
    {
        using var admin = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var result = (RedisResult[])(await admin.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", channel))!;
        return (long)result[1];
    }
}
