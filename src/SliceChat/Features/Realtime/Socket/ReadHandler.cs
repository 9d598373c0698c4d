using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>A <c>read</c> frame: moves the user's read marker under the same <see cref="ReadMarkers"/> rule as REST.</summary>
public sealed class ReadHandler(SocketClient client, IServiceScopeFactory scopes)
{
    public async Task HandleAsync(Guid chatroomId, long seq)
    {
        if (seq < ReadMarkers.MinSeq)
        {
            client.Reply(SocketFrames.Error("validation_failed", $"seq: must be at least {ReadMarkers.MinSeq}."));
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        if (!await scope.ServiceProvider.GetRequiredService<ReadMarkers>().MarkAsync(chatroomId, client.User.Id, seq, client.Connection.Aborted))
        {
            client.Reply(SocketFrames.Error("not_found", "No such chatroom, or you are not a member."));
        }
    }
}
