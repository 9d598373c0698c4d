using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Operations;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// The conversations this instance delivers, each with the local sockets that follow it. A feed (and
/// its bus subscription) exists while at least one socket follows its conversation, under one lock.
/// </summary>
public sealed class ConversationFeeds
{
    private readonly Lock gate = new();
    private readonly Dictionary<Guid, (ConversationFeed Feed, int Followers)> feeds = [];
    private readonly IMessageBus bus;
    private readonly ChannelNames channels;
    private readonly IServiceScopeFactory scopes;
    private readonly IOptions<LimitsOptions> limits;
    private readonly AppMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger<ConversationFeed> logger;

    public ConversationFeeds(IMessageBus bus, ChannelNames channels, IServiceScopeFactory scopes, IOptions<LimitsOptions> limits,
        AppMetrics metrics, TimeProvider time, ILogger<ConversationFeed> logger)
    {
        this.metrics = metrics;
        this.time = time;
        this.bus = bus;
        this.channels = channels;
        this.scopes = scopes;
        this.limits = limits;
        this.logger = logger;
        CatchUps = new SemaphoreSlim(limits.Value.ReconnectQueriesInFlight);
        bus.Resubscribed += OnResubscribed;
    }

    /// <summary>Bounds the catch-ups from the database running at once (after a reconnect, every feed has one).</summary>
    internal SemaphoreSlim CatchUps { get; }

    /// <param name="afterSeq">Replay what came after it to this socket (a conversation just joined); null = from now on.</param>
    /// <param name="joined">The user's own member.joined, sent to this socket first (and not again when it comes over the bus).</param>
    /// <param name="checkedAt">When the database said the user is a member (<see cref="ConversationFeed.Add"/>); null: not checked.</param>
    /// <returns>Completes once the socket receives the conversation's events: false when its membership must be checked
    /// again now that it does (<see cref="ConversationFeed.Add"/>).</returns>
    public Task<bool> Follow(SocketConnection socket, Guid chatroomId, long? afterSeq, long? checkedAt, ReadOnlyMemory<byte>? joined = null)
    {
        // Under the lock, so a follow and an unfollow of one socket reach the feed in the order they happened.
        lock (gate)
        {
            if (socket.IsClosing || !socket.Following.TryAdd(chatroomId, 0))
            {
                return Task.FromResult(true); // nothing attached now (closing, or the socket's first follow checks)
            }
            if (feeds.TryGetValue(chatroomId, out var entry))
            {
                feeds[chatroomId] = (entry.Feed, entry.Followers + 1);
                return entry.Feed.Add(socket, afterSeq, joined, checkedAt);
            }
            var feed = new ConversationFeed(chatroomId, this, bus, channels, scopes, limits.Value, metrics, time, logger);
            feeds[chatroomId] = (feed, 1);
            return feed.Add(socket, afterSeq, joined, checkedAt);
        }
    }

    public void Unfollow(SocketConnection socket, Guid chatroomId)
    {
        lock (gate)
        {
            if (!socket.Following.TryRemove(chatroomId, out _) || !feeds.TryGetValue(chatroomId, out var entry))
            {
                return;
            }
            entry.Feed.Remove(socket);
            if (entry.Followers == 1)
            {
                feeds.Remove(chatroomId);
                entry.Feed.Complete();
            }
            else
            {
                feeds[chatroomId] = (entry.Feed, entry.Followers - 1);
            }
        }
    }

    /// <summary>The socket's user is no longer in the conversation: a room socket closes (4403), a user socket stops following.</summary>
    public void Drop(SocketConnection socket, Guid chatroomId)
    {
        if (socket.Scope == SocketScope.Room)
        {
            socket.Close((WebSocketCloseStatus)CloseCodes.RemovedFromRoom, "no longer a member of the room", drain: true);
        }
        Unfollow(socket, chatroomId);
    }

    public void UnfollowAll(SocketConnection socket)
    {
        foreach (var chatroomId in socket.Following.Keys)
        {
            Unfollow(socket, chatroomId);
        }
    }

    /// <summary>Asks the socket's feed to replay what came after <paramref name="afterSeq"/>; false when it does not follow the conversation.</summary>
    public bool Sync(SocketConnection socket, Guid chatroomId, long afterSeq)
    {
        if (!socket.Following.ContainsKey(chatroomId))
        {
            return false;
        }
        lock (gate)
        {
            if (!feeds.TryGetValue(chatroomId, out var entry))
            {
                return false;
            }
            entry.Feed.Replay(socket, afterSeq);
            return true;
        }
    }

    /// <summary>Publishes on the channel while its subscription was not live are lost: its feed reloads from the database, once.</summary>
    private void OnResubscribed(string channel)
    {
        if (!channels.IsConversation(channel, out var chatroomId))
        {
            return;
        }
        lock (gate)
        {
            if (feeds.TryGetValue(chatroomId, out var entry))
            {
                entry.Feed.RequestCatchUp();
            }
        }
    }
}
