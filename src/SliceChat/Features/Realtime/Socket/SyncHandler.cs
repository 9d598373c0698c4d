using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// A <c>sync</c> frame: the conversation's feed replays what came after <c>after_seq</c>, paged by
/// <see cref="MessageHistory"/> as REST history is, in order with the live events. Membership is checked in
/// the database first: a replay must never reach someone removed whose member.left went by unseen.
/// </summary>
public sealed class SyncHandler(SocketClient client, ConversationFeeds feeds, ConversationFollower follower)
{
    public async Task HandleAsync(Guid chatroomId, long afterSeq)
    {
        if (afterSeq < MessageHistory.MinAfterSeq)
        {
            client.Reply(SocketFrames.Error("validation_failed", $"after_seq: must be at least {MessageHistory.MinAfterSeq}."));
            return;
        }
        if (client.Connection.Following.ContainsKey(chatroomId))
        {
            await follower.DropGoneAsync([chatroomId]);
        }
        if (!feeds.Sync(client.Connection, chatroomId, afterSeq))
        {
            client.Reply(SocketFrames.Error("forbidden", "This socket does not follow that conversation."));
        }
    }
}
