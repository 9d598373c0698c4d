using System.Text.Json;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// Reads each client frame as a <see cref="ClientFrame"/> and hands it to the handler of its type.
/// Frames without a type are the reference clients' sends. A frame no handler takes gets an
/// <c>error</c> event, and so does one whose handler found the database unreachable (<c>unavailable</c>).
/// </summary>
public sealed class FrameDispatcher
{
    private readonly SocketClient client;
    private readonly ConversationFollower follower;
    private readonly AppMetrics metrics;
    private readonly IServiceProvider services;

    // Each handler is made with the first frame it takes: most sockets only receive, and the six of them made at the
    // open were ~0.3 KB of every idle socket's GC heap (bash bench/run.sh micro idle-sockets).
    private SendHandler? send;
    private TypingHandler? typing;
    private ReadHandler? read;
    private SyncHandler? sync;
    private AuthHandler? auth;
    private PresenceHandler? presence;

    public FrameDispatcher(SocketClient client, ConversationFollower follower, AppMetrics metrics, IServiceProvider services)
    {
        this.client = client;
        this.follower = follower;
        this.metrics = metrics;
        this.services = services;
    }

    private SendHandler Send => send ??= ActivatorUtilities.CreateInstance<SendHandler>(services, client);
    private TypingHandler Typing => typing ??= ActivatorUtilities.CreateInstance<TypingHandler>(services, client);
    private ReadHandler Read => read ??= ActivatorUtilities.CreateInstance<ReadHandler>(services, client);
    private SyncHandler Sync => sync ??= ActivatorUtilities.CreateInstance<SyncHandler>(services, client, follower);
    private AuthHandler Auth => auth ??= ActivatorUtilities.CreateInstance<AuthHandler>(services, client);
    private PresenceHandler Presence => presence ??= ActivatorUtilities.CreateInstance<PresenceHandler>(services, client);

    public async Task DispatchAsync(ReadOnlyMemory<byte> text)
    {
        if (Parse(text) is not { } frame)
        {
            return;
        }
        try
        {
            await RouteAsync(frame);
        }
        catch (Exception e) when (DbErrors.IsUnavailable(e))
        {
            // Whatever the frame needed the database for is not done (a send is one transaction); the socket stays open.
            metrics.DatabaseUnavailable(UnavailablePaths.Socket);
            client.Reply(SocketFrames.Unavailable(frame.ClientMessageId));
        }
    }

    private ClientFrame? Parse(ReadOnlyMemory<byte> text)
    {
        // The reader does not look at the bytes of a property name it skips: a frame that is not UTF-8 is refused whole.
        if (!System.Text.Unicode.Utf8.IsValid(text.Span))
        {
            client.Reply(SocketFrames.Error("invalid_json", "The frame is not UTF-8 text."));
            return null;
        }
        ClientFrame? frame;
        try
        {
            frame = JsonSerializer.Deserialize<ClientFrame>(text.Span, SliceServices.JsonOptions);
        }
        catch (JsonException e)
        {
            client.Reply(SocketFrames.Error("invalid_json", JsonErrors.FieldOf(e) is { } field
                ? $"The frame's {field} is not of the expected JSON type."
                : "The frame is not a JSON object of the protocol."));
            return null;
        }
        if (frame is null)
        {
            client.Reply(SocketFrames.Error("invalid_json", "The frame must be a JSON object."));
        }
        return frame;
    }

    private Task RouteAsync(ClientFrame frame)
    {
        switch (frame)
        {
            case { Type: null, RecipientId: not null }:
                return Send.SendDirectAsync(frame);
            case { Type: null } when client.Connection.Scope == SocketScope.Room && (frame.Content is not null || frame.AttachmentIds is not null):
                return Send.SendToRoomAsync(client.Connection.RoomId!.Value, frame);
            case { Type: "message.send", ChatroomId: { } chatroomId }:
                return Send.SendToRoomAsync(chatroomId, frame);
            case { Type: "typing", ChatroomId: { } chatroomId }:
                return Typing.HandleAsync(chatroomId);
            case { Type: "read", ChatroomId: { } chatroomId, Seq: { } seq }:
                return Read.HandleAsync(chatroomId, seq);
            case { Type: "sync", ChatroomId: { } chatroomId, AfterSeq: { } afterSeq }:
                return Sync.HandleAsync(chatroomId, afterSeq);
            case { Type: "auth", Token: { Length: > 0 } token }:
                return Auth.HandleAsync(token);
            case { Type: "presence.subscribe", UserIds: { } userIds }:
                return Presence.SubscribeAsync(userIds);
            case { Type: "presence.unsubscribe", UserIds: { } userIds }:
                Presence.Unsubscribe(userIds);
                break;
            case { Type: "ping" }:
                client.Reply(SocketFrames.Pong);
                break;
            case { Type: null }:
                client.Reply(SocketFrames.Error("unknown_frame", "A frame needs a type, or recipient_id and content (a DM), or content or attachment_ids on a room socket."));
                break;
            case { Type: "message.send" or "typing" or "read" or "sync" or "auth" or "presence.subscribe" or "presence.unsubscribe" }:
                client.Reply(SocketFrames.Error("validation_failed", $"A '{frame.Type}' frame lacks a required field.", frame.ClientMessageId));
                break;
            default:
                client.Reply(SocketFrames.Error("unknown_type", $"Unknown frame type '{frame.Type}'."));
                break;
        }
        return Task.CompletedTask;
    }
}
