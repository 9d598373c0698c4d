using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using SliceChat.Infrastructure.Messaging;

namespace SliceChat.Tests.Infrastructure.Messaging;

/// <summary>The bus's own bookkeeping of subscriptions, over a transport the test scripts.</summary>
public sealed class SubscriptionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>A transport whose subscribes the test holds up or fails, recording every call in order.</summary>
    private sealed class ScriptedBus() : MessageBusBase(NullLogger.Instance)
    {
        public ConcurrentQueue<string> Calls { get; } = new();
        public ConcurrentDictionary<string, TaskCompletionSource> Held { get; } = new();
        public ConcurrentDictionary<string, int> FailuresLeft { get; } = new();

        public override bool IsConnected => true;

        public void RestoreLink() => OnLinkRestored();

        /// <summary>While set, a publish fails as the link being down (nothing sent).</summary>
        public volatile bool PublishLinkDown;

        protected override Task PublishToTransportAsync(string channel, ReadOnlyMemory<byte> message)
        {
            if (PublishLinkDown)
            {
                throw new LinkDownException();
            }
            Calls.Enqueue($"publish {channel} {System.Text.Encoding.UTF8.GetString(message.Span)}");
            return Task.CompletedTask;
        }

        protected override bool IsUnsent(Exception exception) => exception is LinkDownException;

        protected override async Task SubscribeTransportAsync(string channel)
        {
            Calls.Enqueue("subscribe " + channel);
            if (Held.TryGetValue(channel, out var held))
            {
                await held.Task;
            }
            if (FailuresLeft.TryGetValue(channel, out var left) && left > 0)
            {
                FailuresLeft[channel] = left - 1;
                throw new InvalidOperationException("link down");
            }
        }

        protected override Task UnsubscribeTransportAsync(string channel)
        {
            Calls.Enqueue("unsubscribe " + channel);
            return Task.CompletedTask;
        }
    }

    private sealed class LinkDownException() : Exception("link down");

    [Fact]
    public async Task PublishesMadeWhileTheLinkIsDown_AreSentInOrderOnceItIsBack_AndStillDeliveredLocallyAtOnce_ButNotEphemeralOnes()
    {
        await using var bus = new ScriptedBus();
        var local = new ConcurrentQueue<string>();
        await using var subscription = await bus.SubscribeAsync("room", m => local.Enqueue(System.Text.Encoding.UTF8.GetString(m.Span)));
        bus.PublishLinkDown = true;
        foreach (var message in new[] { "1", "2", "typing", "3" })
        {
            await bus.PublishAsync("room", System.Text.Encoding.UTF8.GetBytes(message), ephemeral: message == "typing").WaitAsync(Wait);
        }
        local.ShouldBe(["1", "2", "typing", "3"]);
        await Task.Delay(300); // a retry or two while the link is still down
        bus.Calls.ShouldNotContain(c => c.StartsWith("publish ", StringComparison.Ordinal));

        bus.PublishLinkDown = false;
        bus.RestoreLink();
        var deadline = DateTime.UtcNow + Wait;
        while (bus.Calls.Count(c => c.StartsWith("publish ", StringComparison.Ordinal)) < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await bus.PublishAsync("room", System.Text.Encoding.UTF8.GetBytes("4"));
        bus.Calls.Where(c => c.StartsWith("publish ", StringComparison.Ordinal)).ShouldBe(["publish room 1", "publish room 2", "publish room 3", "publish room 4"]);
    }

    [Fact]
    public async Task SlowSubscribeOfOneChannel_DoesNotHoldUpAnother_WhileItsOwnChannelWaitsInOrder()
    {
        await using var bus = new ScriptedBus();
        var slow = new TaskCompletionSource();
        bus.Held["slow"] = slow;

        var slowSubscribe = bus.SubscribeAsync("slow", _ => { });
        var secondOnSlow = bus.SubscribeAsync("slow", _ => { });
        await using (await bus.SubscribeAsync("fast", _ => { }).WaitAsync(Wait))
        {
            bus.SubscribedChannels.ShouldBe(["fast"]);
        }
        slowSubscribe.IsCompleted.ShouldBeFalse();
        secondOnSlow.IsCompleted.ShouldBeFalse();

        slow.SetResult();
        await (await slowSubscribe.WaitAsync(Wait)).DisposeAsync();
        await (await secondOnSlow.WaitAsync(Wait)).DisposeAsync();
        bus.Calls.ShouldBe(["subscribe slow", "subscribe fast", "unsubscribe fast", "unsubscribe slow"]);
    }

    [Fact]
    public async Task FailedSubscribe_IsNotLiveUntilARetrySucceeds_ThenRaisesResubscribedOnce()
    {
        await using var bus = new ScriptedBus();
        bus.FailuresLeft["flaky"] = 2;
        var resubscribed = new ConcurrentQueue<string>();
        bus.Resubscribed += resubscribed.Enqueue;

        await using var subscription = await bus.SubscribeAsync("flaky", _ => { });
        bus.SubscribedChannels.ShouldBeEmpty();
        var deadline = DateTime.UtcNow + Wait;
        while (resubscribed.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        bus.SubscribedChannels.ShouldBe(["flaky"]);
        resubscribed.ShouldBe(["flaky"]);
        bus.Calls.Count(c => c == "subscribe flaky").ShouldBe(3);
    }

    [Fact]
    public async Task LinkRestored_SubscribesEveryChannelAgain_RaisingResubscribedOncePerChannel()
    {
        await using var bus = new ScriptedBus();
        var resubscribed = new ConcurrentQueue<string>();
        bus.Resubscribed += resubscribed.Enqueue;
        var channels = Enumerable.Range(0, 50).Select(i => $"c{i}").ToList();
        var subscriptions = await Task.WhenAll(channels.Select(c => bus.SubscribeAsync(c, _ => { })));
        resubscribed.ShouldBeEmpty();

        bus.RestoreLink();
        var deadline = DateTime.UtcNow + Wait;
        while (resubscribed.Count < channels.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await Task.Delay(100);

        resubscribed.Order().ShouldBe(channels.Order());
        bus.Calls.Count(c => c.StartsWith("subscribe ", StringComparison.Ordinal)).ShouldBe(2 * channels.Count);
        foreach (var subscription in subscriptions)
        {
            await subscription.DisposeAsync();
        }
        bus.SubscribedChannels.ShouldBeEmpty();
    }
}
