using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// Keeps one socket following the conversations it should receive: a room socket its room; a user
/// socket every conversation its user is in, those joined later (announced on the user's channel),
/// and, after the bus link comes back, those whose announcement the outage swallowed.
/// </summary>
public sealed partial class ConversationFollower(
    SocketConnection socket,
    ConversationFeeds feeds,
    UserSocketFollowers userSockets,
    IMessageBus bus,
    ChannelNames channels,
    IServiceScopeFactory scopes,
    IOptions<LimitsOptions> limits,
    TimeProvider time,
    ILogger<ConversationFollower> logger) : IAsyncDisposable
{
    private IAsyncDisposable? joins;

    public Guid UserId => socket.UserId;

    /// <summary>Completes once the socket receives its conversations' events; times out after <c>Limits:SocketFollowTimeoutSeconds</c>.</summary>
    /// <param name="roomCheckedAt">A room socket's: when (<see cref="TimeProvider.GetTimestamp"/>) its membership was checked before the upgrade.</param>
    public async Task FollowAsync(long? roomCheckedAt)
    {
        var conversations = new List<(Guid ChatroomId, Task<bool> Vouched)>();
        if (socket.Scope == SocketScope.User)
        {
            // Subscribed before reading the memberships, so a join in between is not missed; and registered
            // before subscribing, so a subscription that only becomes live later re-reads them.
            userSockets.Add(this);
            joins = await bus.SubscribeAsync(channels.User(socket.UserId), OnJoined);
            var checkedAt = time.GetTimestamp();
            conversations.AddRange((await userSockets.MembershipsAsync(socket.UserId))
                .Select(m => (m.ChatroomId, feeds.Follow(socket, m.ChatroomId, afterSeq: null, checkedAt))));
        }
        else
        {
            conversations.Add((socket.RoomId!.Value, feeds.Follow(socket, socket.RoomId!.Value, afterSeq: null, roomCheckedAt)));
        }
        await Task.WhenAll(conversations.Select(c => c.Vouched)).WaitAsync(TimeSpan.FromSeconds(limits.Value.SocketFollowTimeoutSeconds), socket.Aborted);
        await DropGoneAsync([.. conversations.Where(c => !c.Vouched.Result).Select(c => c.ChatroomId)]);
    }

    /// <summary>
    /// Checked in the database once the socket is attached, where its feed cannot vouch for the check before: a
    /// removal committed after that check may have sent its member.left before the feed had the socket, so only
    /// this check sees it. A room socket closes (4403); a user socket stops following. A removal after it reaches
    /// the feed as an event.
    /// </summary>
    public async Task DropGoneAsync(IReadOnlyCollection<Guid> chatroomIds)
    {
        if (chatroomIds.Count == 0)
        {
            return;
        }
        foreach (var gone in chatroomIds.Except(await MemberOfAsync(chatroomIds)))
        {
            feeds.Drop(socket, gone);
        }
    }

    private async Task<List<Guid>> MemberOfAsync(IReadOnlyCollection<Guid> chatroomIds)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        return await db.Members.Where(m => m.UserId == socket.UserId && chatroomIds.Contains(m.ChatroomId)).Select(m => m.ChatroomId).ToListAsync();
    }

    /// <summary>Stops following: no more reconnect checks, every feed let go, the user's channel unsubscribed.</summary>
    public async ValueTask DisposeAsync()
    {
        userSockets.Remove(this);
        feeds.UnfollowAll(socket);
        if (joins is not null)
        {
            await joins.DisposeAsync();
        }
    }

    /// <summary>Joins announced while the user's channel was not live were lost: follow those of <paramref name="memberships"/> not followed yet.</summary>
    public void FollowMissing(IEnumerable<(Guid ChatroomId, long LastReadSeq)> memberships)
    {
        foreach (var membership in memberships.Where(m => !socket.Following.ContainsKey(m.ChatroomId)))
        {
            _ = feeds.Follow(socket, membership.ChatroomId, membership.LastReadSeq, checkedAt: null);
        }
    }

    /// <summary>
    /// A join announced on the user's channel is checked, followed, and checked again (a removal may race
    /// the attach): a bus message alone proves no membership, nor earns its member.joined.
    /// </summary>
    private void OnJoined(ReadOnlyMemory<byte> message)
    {
        var follow = JsonSerializer.Deserialize<FollowConversation>(message.Span, SliceServices.JsonOptions);
        if (follow is not null)
        {
            _ = FollowCheckedAsync(follow);
        }
    }

    private async Task FollowCheckedAsync(FollowConversation follow)
    {
        try
        {
            var checkedAt = time.GetTimestamp();
            if ((await MemberOfAsync([follow.ChatroomId])).Count == 0)
            {
                return;
            }
            if (!await feeds.Follow(socket, follow.ChatroomId, follow.AfterSeq, checkedAt, ChatEvents.Frame(ChatEvents.MemberJoined, follow.Joined)))
            {
                await DropGoneAsync([follow.ChatroomId]);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not knowing is not being a member.
            feeds.Unfollow(socket, follow.ChatroomId);
            LogFailed(logger, e, socket.Id);
        }
    }

    [LoggerMessage(LogLevel.Error, "Socket {ConnectionId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid connectionId);
}
