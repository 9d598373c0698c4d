using System.Net.WebSockets;
using FluentValidation;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// A message sent on the socket, to a room or as a DM, through the same <see cref="MessageWriter"/> and
/// rules as REST. The stored message reaches the socket as its <c>message.created</c> event; only
/// failures are answered here. Sends are checked and queued one after another, in the order they
/// came, but the socket reads its next frame while earlier sends are still being stored (up to
/// <c>Limits:SocketSendsInFlight</c>), so one socket's sends share the instance's group commits.
/// </summary>
public sealed partial class SendHandler(SocketClient client, IServiceScopeFactory scopes, IOptions<LimitsOptions> limits, AppMetrics metrics,
    ILogger<SendHandler> logger)
{
    private static readonly Validator Validator = new();
    private SemaphoreSlim? inFlight; // created with the socket's first send: most sockets never send

    public Task SendToRoomAsync(Guid chatroomId, ClientFrame frame) =>
        SendAsync(frame, (writer, content) => writer.QueueToRoomAsync(chatroomId, client.User.Id, content, frame.ClientMessageId, frame.AttachmentIds, client.Connection.Aborted));

    public Task SendDirectAsync(ClientFrame frame) =>
        SendAsync(frame, (writer, content) => writer.QueueDirectAsync(frame.RecipientId!.Value, client.User.Id, content, frame.ClientMessageId, frame.AttachmentIds, client.Connection.Aborted));

    private async Task SendAsync(ClientFrame frame, Func<MessageWriter, string, Task<Task<SendResult>>> queue)
    {
        var validation = await Validator.ValidateAsync(frame);
        if (!validation.IsValid)
        {
            var errors = string.Join(" ", validation.Errors.Select(e => $"{Problems.SnakeCase(e.PropertyName)}: {e.ErrorMessage}"));
            client.Reply(SocketFrames.Error("validation_failed", errors, frame.ClientMessageId));
            return;
        }
        inFlight ??= new SemaphoreSlim(limits.Value.SocketSendsInFlight);
        await inFlight.WaitAsync(client.Connection.Aborted);
        Task<SendResult> stored;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            stored = await queue(scope.ServiceProvider.GetRequiredService<MessageWriter>(), frame.Content ?? "");
        }
        catch
        {
            inFlight.Release();
            throw;
        }
        _ = ReplyWhenStoredAsync(stored, frame.ClientMessageId, inFlight);
    }

    private async Task ReplyWhenStoredAsync(Task<SendResult> stored, string? clientMessageId, SemaphoreSlim slot)
    {
        try
        {
            ReplyTo(await stored, clientMessageId);
        }
        catch (OperationCanceledException) when (client.Connection.Aborted.IsCancellationRequested)
        {
            // The socket is gone; the send was stored or not, as a reconnect's sync shows.
        }
        catch (Exception e) when (DbErrors.IsUnavailable(e))
        {
            metrics.DatabaseUnavailable(UnavailablePaths.Socket);
            client.Reply(SocketFrames.Unavailable(clientMessageId)); // not stored: its batch is one transaction
        }
        catch (Exception e)
        {
            // Off the receive loop now, so neither the dispatcher's nor the session's to handle: fail the socket as the session would.
            LogFailed(logger, e, client.Connection.Id);
            client.Connection.Close(WebSocketCloseStatus.InternalServerError, "internal error", drain: false);
        }
        finally
        {
            slot.Release();
        }
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
            case SendError.AttachmentsUnavailable:
                client.Reply(SocketFrames.Error("validation_failed", $"attachment_ids: {MessageRules.AttachmentsUnavailable}", clientMessageId));
                break;
            case SendError.RateLimited:
                client.Reply(SocketFrames.RateLimited("Message", result.RetryAfter, clientMessageId));
                break;
            case SendError.Overloaded:
                client.Reply(SocketFrames.Error("unavailable", "Too many messages are waiting to be stored; try again shortly.", clientMessageId));
                break;
        }
    }

    [LoggerMessage(LogLevel.Error, "A send on socket {ConnectionId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid connectionId);
}
