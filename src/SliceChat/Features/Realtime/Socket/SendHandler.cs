using FluentValidation;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// A message sent on the socket, to a room or as a DM, through the same <see cref="MessageWriter"/> and
/// rules as REST. The stored message reaches the socket as its <c>message.created</c> event; only
/// failures are answered here.
/// </summary>
public sealed class SendHandler(SocketClient client, IServiceScopeFactory scopes)
{
    private static readonly Validator Validator = new();

    public Task SendToRoomAsync(Guid chatroomId, ClientFrame frame) =>
        SendAsync(frame, (writer, content) => writer.SendToRoomAsync(chatroomId, client.User.Id, content, frame.ClientMessageId, client.Connection.Aborted));

    public Task SendDirectAsync(ClientFrame frame) =>
        SendAsync(frame, (writer, content) => writer.SendDirectAsync(frame.RecipientId!.Value, client.User.Id, content, frame.ClientMessageId, client.Connection.Aborted));

    private async Task SendAsync(ClientFrame frame, Func<MessageWriter, string, Task<SendResult>> send)
    {
        var validation = await Validator.ValidateAsync(frame);
        if (!validation.IsValid)
        {
            var errors = string.Join(" ", validation.Errors.Select(e => $"{Problems.SnakeCase(e.PropertyName)}: {e.ErrorMessage}"));
            client.Reply(SocketFrames.Error("validation_failed", errors, frame.ClientMessageId));
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        ReplyTo(await send(scope.ServiceProvider.GetRequiredService<MessageWriter>(), frame.Content!), frame.ClientMessageId);
    }

    private void ReplyTo(SendResult result, string? clientMessageId)
    {
        switch (result.Error)
        {
            case SendError.NotFound:
                client.Reply(SocketFrames.Error("not_found", "No such chatroom or user.", clientMessageId));
                break;
            case SendError.NotMember:
                client.Reply(SocketFrames.Error("forbidden", "You are not a member of this chatroom.", clientMessageId));
                break;
            case SendError.ToSelf:
                client.Reply(SocketFrames.Error("validation_failed", "recipient_id: You cannot send a direct message to yourself.", clientMessageId));
                break;
            case SendError.RateLimited:
                client.Reply(SocketFrames.RateLimited("Message", result.RetryAfter, clientMessageId));
                break;
            case SendError.Overloaded:
                client.Reply(SocketFrames.Error("unavailable", "Too many messages are waiting to be stored; try again shortly.", clientMessageId));
                break;
        }
    }
}
