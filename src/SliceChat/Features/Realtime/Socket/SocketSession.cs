using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.RateLimiting;
using FluentValidation;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// One socket's life: accept, follow its conversations, read client frames until it closes. Sends go
/// through the same <see cref="MessageWriter"/> and validators as REST; every unusable frame gets an
/// <c>error</c> event and the socket stays open.
/// </summary>
public sealed partial class SocketSession(
    IServiceScopeFactory scopes,
    ConnectionRegistry registry,
    ConversationFeeds feeds,
    IMessageBus bus,
    ChannelNames channels,
    ChatEvents events,
    RateLimits rateLimits,
    SessionRevocation revocation,
    IValidator<ClientFrame> sendValidator,
    IOptionsMonitor<JwtBearerOptions> bearer,
    IOptions<LimitsOptions> limits,
    ILogger<SocketSession> logger) : IDisposable
{
    private SocketConnection connection = null!;
    private CurrentUser user = null!;

    public async Task RunAsync(HttpContext http, CurrentUser caller, DateTimeOffset expiresAt, SocketScope scope, Guid? roomId)
    {
        var options = limits.Value;
        user = caller;
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        using var frameLimiter = options.RateLimitingEnabled
            ? new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.SocketFramesPerSecond * 2,
                TokensPerPeriod = options.SocketFramesPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
            })
            : null;
        connection = new SocketConnection(socket, caller.Id, caller.SessionId, expiresAt, scope, roomId,
            options.SocketQueueCapacity, TimeSpan.FromSeconds(options.SocketCloseTimeoutSeconds), logger);
        registry.Add(connection);
        // "ready" goes first, and only once the socket receives its conversations' events.
        var following = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Enqueue(SocketFrames.Ready(caller.Id, connection.Id));
        var writer = connection.RunWriterAsync(following.Task);
        IAsyncDisposable? follows = null;
        try
        {
            var conversations = new List<Task>();
            if (scope == SocketScope.User)
            {
                // Subscribed before reading the memberships, so a join in between is not missed.
                follows = await bus.SubscribeAsync(channels.User(caller.Id), OnFollow);
                conversations.AddRange((await MembershipsAsync()).Select(m => feeds.Follow(connection, m.ChatroomId, afterSeq: null)));
            }
            else
            {
                conversations.Add(feeds.Follow(connection, roomId!.Value, afterSeq: null));
            }
            await Task.WhenAll(conversations).WaitAsync(TimeSpan.FromSeconds(options.SocketFollowTimeoutSeconds), connection.Aborted);
            // A revocation that landed between the handshake and the registration above would be missed otherwise.
            if (!await revocation.IsActiveAsync(connection.SessionId, caller.Id, connection.Aborted))
            {
                connection.Close((WebSocketCloseStatus)CloseCodes.TokenExpiredOrRevoked, "session revoked", drain: false);
            }
            bus.Reconnected += OnReconnected;
            following.TrySetResult();
            await ReceiveAsync(socket, frameLimiter, options.SocketMaxFrameBytes);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or TimeoutException)
        {
            connection.Abort();
        }
        catch (Exception e)
        {
            LogFailed(logger, e, connection.Id);
            connection.Close(WebSocketCloseStatus.InternalServerError, "internal error", drain: false);
        }
        finally
        {
            bus.Reconnected -= OnReconnected;
            following.TrySetResult();
            connection.Close(WebSocketCloseStatus.NormalClosure, "", drain: true);
            feeds.UnfollowAll(connection);
            registry.Remove(connection);
            try
            {
                if (follows is not null)
                {
                    await follows.DisposeAsync();
                }
            }
            finally
            {
                await writer;
            }
        }
    }

    public void Dispose() => connection?.Dispose();

    private async Task<List<(Guid ChatroomId, long LastReadSeq)>> MembershipsAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var memberships = await db.Members.Where(m => m.UserId == user.Id).Select(m => new { m.ChatroomId, m.LastReadSeq }).ToListAsync();
        return memberships.Select(m => (m.ChatroomId, m.LastReadSeq)).ToList();
    }

    /// <summary>Joins announced while the Redis link was down were lost: follow what the database says the user is in.</summary>
    private void OnReconnected() => _ = Task.Run(async () =>
    {
        if (connection.Scope != SocketScope.User)
        {
            return;
        }
        try
        {
            foreach (var membership in (await MembershipsAsync()).Where(m => !connection.Following.ContainsKey(m.ChatroomId)))
            {
                _ = feeds.Follow(connection, membership.ChatroomId, membership.LastReadSeq);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogFailed(logger, e, connection.Id);
        }
    });

    private void OnFollow(ReadOnlyMemory<byte> message)
    {
        var follow = JsonSerializer.Deserialize<FollowConversation>(message.Span, SliceServices.JsonOptions);
        if (follow is not null)
        {
            _ = feeds.Follow(connection, follow.ChatroomId, follow.AfterSeq);
        }
    }

    private async Task ReceiveAsync(WebSocket socket, RateLimiter? frameLimiter, int maxFrameBytes)
    {
        var buffer = new byte[maxFrameBytes];
        while (socket.State == WebSocketState.Open)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length)
                {
                    connection.Close(WebSocketCloseStatus.MessageTooBig, $"frames are limited to {maxFrameBytes} bytes", drain: false);
                    return;
                }
                result = await socket.ReceiveAsync(buffer.AsMemory(length), connection.Aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                length += result.Count;
            }
            while (!result.EndOfMessage);

            if (connection.IsClosing)
            {
                return;
            }
            using var lease = frameLimiter?.AttemptAcquire();
            if (lease is { IsAcquired: false })
            {
                Reply(SocketFrames.Error("rate_limited", "Too many frames; slow down."));
                continue;
            }
            if (result.MessageType != WebSocketMessageType.Text)
            {
                Reply(SocketFrames.Error("invalid_frame", "Only text frames with JSON objects are understood."));
                continue;
            }
            await HandleAsync(buffer.AsMemory(0, length));
        }
    }

    private void Reply(ReadOnlyMemory<byte> frame) => connection.Enqueue(frame);

    private async Task HandleAsync(ReadOnlyMemory<byte> text)
    {
        ClientFrame? frame;
        try
        {
            frame = JsonSerializer.Deserialize<ClientFrame>(text.Span, SliceServices.JsonOptions);
        }
        catch (JsonException e)
        {
            Reply(SocketFrames.Error("invalid_json", $"The frame is not a JSON object of the protocol: {e.Message}"));
            return;
        }
        if (frame is null)
        {
            Reply(SocketFrames.Error("invalid_json", "The frame must be a JSON object."));
            return;
        }

        switch (frame.Type)
        {
            case null when frame.RecipientId is not null:
                await SendDirectAsync(frame);
                break;
            case null when frame.Content is not null && connection.Scope == SocketScope.Room:
                await SendToRoomAsync(connection.RoomId!.Value, frame);
                break;
            case "message.send" when frame.ChatroomId is { } chatroomId:
                await SendToRoomAsync(chatroomId, frame);
                break;
            case "typing" when frame.ChatroomId is { } chatroomId:
                await TypingAsync(chatroomId);
                break;
            case "read" when frame.ChatroomId is { } chatroomId && frame.Seq is { } seq:
                await ReadAsync(chatroomId, seq);
                break;
            case "sync" when frame.ChatroomId is { } chatroomId && frame.AfterSeq is { } afterSeq:
                Sync(chatroomId, afterSeq);
                break;
            case "auth" when !string.IsNullOrEmpty(frame.Token):
                await AuthenticateAsync(frame.Token);
                break;
            case "ping":
                Reply(SocketFrames.Pong);
                break;
            case null:
                Reply(SocketFrames.Error("unknown_frame", "A frame needs a type, or recipient_id and content (a DM), or content on a room socket."));
                break;
            case "message.send" or "typing" or "read" or "sync" or "auth":
                Reply(SocketFrames.Error("validation_failed", $"A '{frame.Type}' frame lacks a required field.", frame.ClientMessageId));
                break;
            default:
                Reply(SocketFrames.Error("unknown_type", $"Unknown frame type '{frame.Type}'."));
                break;
        }
    }

    private Task SendToRoomAsync(Guid chatroomId, ClientFrame frame) =>
        SendAsync(frame, (writer, content) => writer.SendToRoomAsync(chatroomId, user.Id, content, frame.ClientMessageId, connection.Aborted));

    private Task SendDirectAsync(ClientFrame frame) =>
        SendAsync(frame, (writer, content) => writer.SendDirectAsync(frame.RecipientId!.Value, user.Id, content, frame.ClientMessageId, connection.Aborted));

    private async Task SendAsync(ClientFrame frame, Func<MessageWriter, string, Task<SendResult>> send)
    {
        var validation = await sendValidator.ValidateAsync(frame);
        if (!validation.IsValid)
        {
            var errors = string.Join(" ", validation.Errors.Select(e => $"{SnakeCaseKeys.Convert(e.PropertyName)}: {e.ErrorMessage}"));
            Reply(SocketFrames.Error("validation_failed", errors, frame.ClientMessageId));
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        ReplyToSend(await send(scope.ServiceProvider.GetRequiredService<MessageWriter>(), frame.Content!), frame.ClientMessageId);
    }

    /// <summary>A stored message reaches this socket as its message.created event; only failures are answered here.</summary>
    private void ReplyToSend(SendResult result, string? clientMessageId)
    {
        switch (result.Error)
        {
            case SendError.NotFound:
                Reply(SocketFrames.Error("not_found", "No such chatroom or user.", clientMessageId));
                break;
            case SendError.NotMember:
                Reply(SocketFrames.Error("forbidden", "You are not a member of this chatroom.", clientMessageId));
                break;
            case SendError.ToSelf:
                Reply(SocketFrames.Error("validation_failed", "recipient_id: You cannot send a direct message to yourself.", clientMessageId));
                break;
            case SendError.RateLimited:
                Reply(SocketFrames.Error("rate_limited", $"Message rate limit reached; retry in {Math.Ceiling(result.RetryAfter.TotalSeconds)} s.", clientMessageId));
                break;
        }
    }

    private async Task TypingAsync(Guid chatroomId)
    {
        if (!connection.Following.ContainsKey(chatroomId))
        {
            Reply(SocketFrames.Error("forbidden", "You are not a member of this chatroom."));
            return;
        }
        if (rateLimits.TryTyping(user.Id, chatroomId) is not null)
        {
            Reply(SocketFrames.Error("rate_limited", "Too many typing events for this room."));
            return;
        }
        await events.PublishAsync(chatroomId, ChatEvents.Typing, new TypingBody(chatroomId, user.Id, user.Username));
    }

    private async Task ReadAsync(Guid chatroomId, long seq)
    {
        if (seq < ReadMarkers.MinSeq)
        {
            Reply(SocketFrames.Error("validation_failed", $"seq: must be at least {ReadMarkers.MinSeq}."));
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        if (!await scope.ServiceProvider.GetRequiredService<ReadMarkers>().MarkAsync(chatroomId, user.Id, seq, connection.Aborted))
        {
            Reply(SocketFrames.Error("not_found", "No such chatroom, or you are not a member."));
        }
    }

    private void Sync(Guid chatroomId, long afterSeq)
    {
        if (afterSeq < MessageHistory.MinAfterSeq)
        {
            Reply(SocketFrames.Error("validation_failed", $"after_seq: must be at least {MessageHistory.MinAfterSeq}."));
        }
        else if (!feeds.Sync(connection, chatroomId, afterSeq))
        {
            Reply(SocketFrames.Error("forbidden", "This socket does not follow that conversation."));
        }
    }

    /// <summary>A fresh access token of the same user extends the socket past its first token's expiry.</summary>
    private async Task AuthenticateAsync(string token)
    {
        var parameters = bearer.Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token, parameters);
        var principal = validation.IsValid ? CurrentUser.FromPrincipal(new System.Security.Claims.ClaimsPrincipal(validation.ClaimsIdentity)) : null;
        if (principal is null || principal.Id != user.Id
            || !await revocation.IsActiveAsync(principal.SessionId, principal.Id, connection.Aborted))
        {
            Reply(SocketFrames.Error("invalid_token", "The token is invalid, expired, revoked or of another user."));
            return;
        }
        connection.Reauthenticate(principal.SessionId, ((JsonWebToken)validation.SecurityToken).ValidTo);
    }

    [LoggerMessage(LogLevel.Error, "Socket {ConnectionId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid connectionId);
}
