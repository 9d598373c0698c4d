using System.Collections.Immutable;

namespace SliceChat.Infrastructure.Messaging;

/// <summary>
/// What both buses share: reference-counted subscriptions (the transport subscribes a channel on the
/// first local handler and unsubscribes after the last, in order per channel, channels independently),
/// local delivery of own publishes, and isolation of handlers from each other's failures. A channel is
/// live once the transport confirmed its subscription; one that failed is retried with back-off, and
/// every channel is subscribed again when the link comes back, raising <see cref="Resubscribed"/>.
/// A publish the transport could not send (its link is down, see <see cref="IsUnsent"/>) is sent again, in
/// order and with back-off, once the link is back: instances do not reconnect at the same moment, and a
/// receiver that already caught up after its own reconnect would otherwise never hear of it.
/// </summary>
public abstract partial class MessageBusBase(ILogger logger) : IMessageBus, IAsyncDisposable
{
    /// <summary>How many channels are subscribed again at once after the link comes back.</summary>
    private const int ResubscribesInFlight = 16;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(4);

    /// <summary>How many unsent publishes wait for the link at most; past it a publish is only stored (receivers catch up from the database).</summary>
    private const int UnsentCapacity = 1024;

    /// <summary>How long an unsent publish waits for the link at most: an outage longer than that is caught up from the database by every receiver.</summary>
    private static readonly TimeSpan UnsentLifetime = TimeSpan.FromSeconds(30);

    private readonly Lock sync = new();
    private readonly Dictionary<string, ChannelState> states = new(StringComparer.Ordinal);
    private ImmutableDictionary<string, ImmutableArray<Action<ReadOnlyMemory<byte>>>> handlers =
        ImmutableDictionary<string, ImmutableArray<Action<ReadOnlyMemory<byte>>>>.Empty.WithComparers(StringComparer.Ordinal);
    private int link;
    private readonly Lock unsentSync = new();
    private readonly Queue<(string Channel, ReadOnlyMemory<byte> Message, long Since)> unsent = new();
    private bool resending;
    private TaskCompletionSource linkBack = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool stopped;

    /// <summary>Tells this instance's publishes apart when the transport echoes them back.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    public event Action<string>? Resubscribed;

    public abstract bool IsConnected { get; }

    public async Task PublishAsync(string channel, ReadOnlyMemory<byte> message, bool ephemeral = false)
    {
        Dispatch(channel, message);
        if (!ephemeral && TryDefer(channel, message, behindOthers: true))
        {
            return; // publishes waiting for the link go first, in order
        }
        try
        {
            await PublishToTransportAsync(channel, message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The message is already stored; it is sent again once the link is back, and receivers that
            // reconnect later fill the gap from the database.
            LogPublishFailed(logger, e, channel);
            if (!ephemeral && IsUnsent(e))
            {
                TryDefer(channel, message, behindOthers: false);
            }
        }
    }

    /// <summary>Whether the failure means the transport did not send the publish (its link is down), so it is worth sending again.</summary>
    protected virtual bool IsUnsent(Exception exception) => false;

    /// <summary>
    /// Queues the publish to be sent again once the link is back; with <paramref name="behindOthers"/> only when
    /// others wait already. False when it is not queued (nothing waits, the queue is full, or the bus is stopping).
    /// </summary>
    private bool TryDefer(string channel, ReadOnlyMemory<byte> message, bool behindOthers)
    {
        lock (unsentSync)
        {
            if (behindOthers && unsent.Count == 0)
            {
                return false;
            }
            if (stopped || unsent.Count >= UnsentCapacity)
            {
                return behindOthers; // dropped: receivers fill the gap from the database
            }
            unsent.Enqueue((channel, message.ToArray(), Environment.TickCount64));
            if (!resending)
            {
                resending = true;
                _ = ResendAsync();
            }
            return true;
        }
    }

    /// <summary>Sends the unsent publishes again, oldest first, one at a time; while the link is still down, with back-off.</summary>
    private async Task ResendAsync()
    {
        await Task.Yield();
        var delay = FirstRetry;
        while (true)
        {
            (string Channel, ReadOnlyMemory<byte> Message, long Since) next;
            lock (unsentSync)
            {
                while (unsent.TryPeek(out var head) && (stopped || Environment.TickCount64 - head.Since > (long)UnsentLifetime.TotalMilliseconds))
                {
                    unsent.Dequeue(); // too old (receivers have caught up from the database) or shutting down
                }
                if (unsent.Count == 0)
                {
                    resending = false;
                    return;
                }
                next = unsent.Peek();
            }
            var back = Volatile.Read(ref linkBack).Task;
            try
            {
                await PublishToTransportAsync(next.Channel, next.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (IsUnsent(e))
                {
                    // The link came back since this attempt began: try again at once, and from the first delay if it is not usable yet.
                    delay = await Task.WhenAny(Task.Delay(delay), back) == back
                        ? FirstRetry
                        : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
                    continue;
                }
                LogPublishFailed(logger, e, next.Channel); // not for the link: given up, receivers fill the gap from the database
            }
            lock (unsentSync)
            {
                unsent.Dequeue();
            }
            delay = FirstRetry;
        }
    }

    /// <summary>Completes once the handler is registered and the transport was asked once; a failed subscribe goes on being retried.</summary>
    public async Task<IAsyncDisposable> SubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler)
    {
        await InChannelAsync(channel, async state =>
        {
            var existing = handlers.GetValueOrDefault(channel, []);
            ImmutableInterlocked.Update(ref handlers, h => h.SetItem(channel, existing.Add(handler)));
            if (existing.IsEmpty)
            {
                await TrySubscribeAsync(channel, state, resubscribed: false);
            }
        });
        return new Subscription(this, channel, handler);
    }

    private Task UnsubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler) => InChannelAsync(channel, async state =>
    {
        if (!handlers.TryGetValue(channel, out var existing))
        {
            return;
        }
        var remaining = existing.Remove(handler);
        ImmutableInterlocked.Update(ref handlers, h => remaining.IsEmpty ? h.Remove(channel) : h.SetItem(channel, remaining));
        if (remaining.IsEmpty)
        {
            state.LiveOnLink = null;
            await UnsubscribeTransportAsync(channel);
        }
    });

    /// <summary>The channels with at least one local handler whose subscription the transport confirmed.</summary>
    public IReadOnlyCollection<string> SubscribedChannels
    {
        get
        {
            lock (sync)
            {
                return states.Where(s => s.Value.LiveOnLink is not null && handlers.ContainsKey(s.Key)).Select(s => s.Key).ToList();
            }
        }
    }

    protected abstract Task PublishToTransportAsync(string channel, ReadOnlyMemory<byte> message);

    /// <summary>Subscribes the channel (again: what an earlier attempt or link left behind is replaced); completes once the transport confirmed it, throws when it could not.</summary>
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

    /// <summary>
    /// The link came back: messages published meanwhile were lost, and the server may not have every
    /// subscription again yet. Each channel live on an earlier link is subscribed again (a few at a time)
    /// and raises <see cref="Resubscribed"/> once confirmed; unsent publishes are tried again at once.
    /// </summary>
    protected void OnLinkRestored()
    {
        var current = Interlocked.Increment(ref link);
        Interlocked.Exchange(ref linkBack, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        _ = Parallel.ForEachAsync(handlers.Keys.ToList(), new ParallelOptions { MaxDegreeOfParallelism = ResubscribesInFlight },
            async (channel, _) => await InChannelAsync(channel, async state =>
            {
                if (handlers.ContainsKey(channel) && (state.LiveOnLink is not { } live || live < current))
                {
                    await TrySubscribeAsync(channel, state, resubscribed: true);
                }
            }));
    }

    /// <summary>Under the channel's own gate: its transport calls never overlap, other channels' go on meanwhile.</summary>
    private async Task InChannelAsync(string channel, Func<ChannelState, Task> action)
    {
        ChannelState state;
        lock (sync)
        {
            if (!states.TryGetValue(channel, out state!))
            {
                states[channel] = state = new ChannelState();
            }
            state.Users++;
        }
        try
        {
            await state.Gate.WaitAsync();
            try
            {
                await action(state);
            }
            finally
            {
                state.Gate.Release();
            }
        }
        finally
        {
            lock (sync)
            {
                if (--state.Users == 0 && state.LiveOnLink is null && !state.Retrying)
                {
                    states.Remove(channel);
                }
            }
        }
    }

    /// <summary>
    /// Under the channel's gate. Live on success; otherwise not counted and retried with back-off. A
    /// subscription that is live again raises <see cref="Resubscribed"/> here, so handlers of that
    /// event only hand the news on.
    /// </summary>
    private async Task TrySubscribeAsync(string channel, ChannelState state, bool resubscribed)
    {
        var current = Volatile.Read(ref link);
        try
        {
            await SubscribeTransportAsync(channel);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogSubscribeFailed(logger, e, channel);
            state.LiveOnLink = null;
            if (!state.Retrying)
            {
                state.Retrying = true;
                _ = RetryAsync(channel, state);
            }
            return;
        }
        state.LiveOnLink = current;
        if (resubscribed)
        {
            Resubscribed?.Invoke(channel);
        }
    }

    private async Task RetryAsync(string channel, ChannelState state)
    {
        var delay = FirstRetry;
        var done = false;
        while (!done)
        {
            await Task.Delay(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
            await InChannelAsync(channel, async _ =>
            {
                if (!handlers.ContainsKey(channel) || state.LiveOnLink is not null)
                {
                    done = true; // unsubscribed meanwhile, or subscribed again after the link came back
                }
                else
                {
                    await TrySubscribeAsync(channel, state, resubscribed: true);
                    done = state.LiveOnLink is not null;
                }
                if (done)
                {
                    state.Retrying = false;
                }
            });
        }
    }

    // The gates are not disposed: subscriptions may still be released while the host shuts down.
    public virtual ValueTask DisposeAsync()
    {
        stopped = true;
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private sealed class ChannelState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Operations on the channel in flight or waiting (under the bus's lock): the state lives while any do.</summary>
        public int Users { get; set; }

        /// <summary>The link on which the transport confirmed the subscription; null while it is not live.</summary>
        public int? LiveOnLink { get; set; }

        public bool Retrying { get; set; }
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

    [LoggerMessage(LogLevel.Warning, "Subscribing {Channel} failed; retrying with back-off")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception exception, string channel);
}
