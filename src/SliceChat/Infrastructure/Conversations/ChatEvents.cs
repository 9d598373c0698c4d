using System.Text.Json;
using System.Text.Json.Nodes;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>
/// Publishes what other members must see, after the change is committed. A conversation's events go
/// on its channel as the exact JSON frame sockets send (serialised once, here). A user's channel
/// carries <see cref="FollowConversation"/>, which makes that user's sockets follow a conversation
/// they just joined; leaving is seen on the conversation's own channel (member.left, chatroom.deleted).
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

    /// <param name="lastSeq">The conversation's newest seq when the user joined: their sockets deliver what comes after.</param>
    public async Task MemberJoinedAsync(Guid chatroomId, Guid userId, string username, long lastSeq)
    {
        await bus.PublishAsync(channels.User(userId),
            JsonSerializer.SerializeToUtf8Bytes(new FollowConversation(chatroomId, lastSeq), SliceServices.JsonOptions));
        await PublishAsync(chatroomId, MemberJoined, new MemberChange(chatroomId, userId, username));
    }

    public Task MemberLeftAsync(Guid chatroomId, Guid userId, string username) =>
        PublishAsync(chatroomId, MemberLeft, new MemberChange(chatroomId, userId, username));

    public Task ChatroomDeletedAsync(Guid chatroomId) =>
        PublishAsync(chatroomId, ChatroomDeleted, new ChatroomDeletedBody(chatroomId));
}

public sealed record MemberChange(Guid ChatroomId, Guid UserId, string Username);

public sealed record ReadMarker(Guid ChatroomId, Guid UserId, long Seq);

public sealed record ChatroomDeletedBody(Guid ChatroomId);

/// <summary>Internal, on a user's channel: follow a conversation from after <see cref="AfterSeq"/>. Never sent to clients.</summary>
public sealed record FollowConversation(Guid ChatroomId, long AfterSeq);
