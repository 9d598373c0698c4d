using System.Text.Json;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>
/// Publishes what other members must see, after the change is committed. A conversation's events go
/// on its channel as the exact JSON frame sockets send (serialised once, here). A user's channel
/// carries <see cref="FollowConversation"/>, which makes that user's sockets follow a conversation
/// they just joined; leaving is seen on the conversation's own channel (member.left, chatroom.deleted).
/// </summary>
public sealed class ChatEvents(IMessageBus bus, ChannelNames channels, AppMetrics metrics)
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
        // One serialisation pass: the body's object with {"type":...,} spliced in after its opening brace.
        var fields = JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), SliceServices.JsonOptions);
        var head = JsonSerializer.SerializeToUtf8Bytes(new TypeOnly(type), SliceServices.JsonOptions);
        if (fields.Length <= 2)
        {
            return head; // {}: the type alone
        }
        var frame = new byte[head.Length + fields.Length - 1];
        head.AsSpan(0, head.Length - 1).CopyTo(frame);
        frame[head.Length - 1] = (byte)',';
        fields.AsSpan(1).CopyTo(frame.AsSpan(head.Length));
        return frame;
    }

    private sealed record TypeOnly(string Type);

    public Task PublishAsync(Guid chatroomId, string type, object body)
    {
        metrics.EventPublished();
        return bus.PublishAsync(channels.Conversation(chatroomId), Frame(type, body), ephemeral: type == Typing);
    }

    /// <param name="lastSeq">The conversation's newest seq when the user joined: their sockets deliver what comes after.</param>
    /// <remarks>
    /// The follow carries the member.joined itself: the user's sockets may start following the conversation
    /// only after its channel carried the event, so they are sent it as they attach (and not again from the channel).
    /// </remarks>
    public async Task MemberJoinedAsync(Guid chatroomId, Guid userId, string username, long lastSeq)
    {
        var joined = new MemberChange(chatroomId, userId, username);
        await bus.PublishAsync(channels.User(userId),
            JsonSerializer.SerializeToUtf8Bytes(new FollowConversation(chatroomId, lastSeq, joined), SliceServices.JsonOptions));
        await PublishAsync(chatroomId, MemberJoined, joined);
    }

    public Task MemberLeftAsync(Guid chatroomId, Guid userId, string username) =>
        PublishAsync(chatroomId, MemberLeft, new MemberChange(chatroomId, userId, username));

    public Task ChatroomDeletedAsync(Guid chatroomId) =>
        PublishAsync(chatroomId, ChatroomDeleted, new ChatroomDeletedBody(chatroomId));
}

public sealed record MemberChange(Guid ChatroomId, Guid UserId, string Username);

public sealed record ReadMarker(Guid ChatroomId, Guid UserId, long Seq);

public sealed record ChatroomDeletedBody(Guid ChatroomId);

/// <summary>Internal, on a user's channel: follow a conversation from after <see cref="AfterSeq"/>, <see cref="Joined"/> first. Never sent to clients.</summary>
public sealed record FollowConversation(Guid ChatroomId, long AfterSeq, MemberChange Joined);
