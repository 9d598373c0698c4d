using System.Text.Json;
using System.Text.Json.Nodes;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>
/// Publishes what other members must see, after the change is committed. A conversation's events go
/// on its channel as the exact JSON frame sockets send (serialised once, here); a user's channel
/// carries <see cref="UserCommand"/>s that tell that user's sockets to follow a join or a leave.
/// </summary>
public sealed class ChatEvents(IMessageBus bus, ChannelNames channels)
{
    public const string MessageCreated = "message.created";
    public const string MessageUpdated = "message.updated";
    public const string MessageDeleted = "message.deleted";
    public const string Read = "read";
    public const string Typing = "typing";
    public const string MemberJoined = "member.joined";
    public const string MemberLeft = "member.left";
    public const string ChatroomDeleted = "chatroom.deleted";

    /// <summary>A frame of <paramref name="type"/> with <paramref name="body"/>'s fields at top level.</summary>
    public static byte[] Frame(string type, object body)
    {
        var fields = JsonSerializer.SerializeToNode(body, body.GetType(), SliceServices.JsonOptions)!.AsObject();
        var frame = new JsonObject { ["type"] = type };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            frame[name] = value;
        }
        return JsonSerializer.SerializeToUtf8Bytes(frame, SliceServices.JsonOptions);
    }

    public Task PublishAsync(Guid chatroomId, string type, object body) =>
        bus.PublishAsync(channels.Conversation(chatroomId), Frame(type, body));

    public Task MemberJoinedAsync(Guid chatroomId, Guid userId, string username, long lastSeq) =>
        Task.WhenAll(
            PublishAsync(chatroomId, MemberJoined, new MemberChange(chatroomId, userId, username)),
            CommandAsync(userId, new UserCommand(UserCommand.Follow, chatroomId, lastSeq)));

    public Task MemberLeftAsync(Guid chatroomId, Guid userId, string username) =>
        Task.WhenAll(
            PublishAsync(chatroomId, MemberLeft, new MemberChange(chatroomId, userId, username)),
            CommandAsync(userId, new UserCommand(UserCommand.Unfollow, chatroomId, 0)));

    public async Task ChatroomDeletedAsync(Guid chatroomId, IEnumerable<Guid> memberIds)
    {
        await PublishAsync(chatroomId, ChatroomDeleted, new ChatroomDeletedBody(chatroomId));
        await Task.WhenAll(memberIds.Select(id => CommandAsync(id, new UserCommand(UserCommand.Unfollow, chatroomId, 0))));
    }

    private Task CommandAsync(Guid userId, UserCommand command) =>
        bus.PublishAsync(channels.User(userId), JsonSerializer.SerializeToUtf8Bytes(command, SliceServices.JsonOptions));
}

public sealed record MemberChange(Guid ChatroomId, Guid UserId, string Username);

public sealed record ReadMarker(Guid ChatroomId, Guid UserId, long Seq);

public sealed record ChatroomDeletedBody(Guid ChatroomId);

/// <summary>
/// Internal, on a user's channel: start following a conversation (deliver what comes after
/// <see cref="AfterSeq"/>), or stop following it. Never sent to clients as is.
/// </summary>
public sealed record UserCommand(string Action, Guid ChatroomId, long AfterSeq)
{
    public const string Follow = "follow";
    public const string Unfollow = "unfollow";
}
