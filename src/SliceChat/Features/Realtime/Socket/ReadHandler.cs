using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>A <c>read</c> frame: moves the user's read marker under the same <see cref="ReadMarkers"/> rule as REST.</summary>
/// <remarks>It draws on the user's <c>Limits:WritesPerMinute</c>, as the REST read marker does.</remarks>
public sealed class ReadHandler(SocketClient client, IServiceScopeFactory scopes, RateLimits rateLimits)
{
    public async Task HandleAsync(Guid chatroomId, long seq)
    {
        if (seq < ReadMarkers.MinSeq)
        {
            client.Reply(SocketFrames.Error("validation_failed", $"seq: must be at least {ReadMarkers.MinSeq}."));
            return;
        }
        if (await rateLimits.TryAcquireAsync(rateLimits.Writes, client.User.Id.ToString()) is { } retryAfter)
        {
            client.Reply(SocketFrames.RateLimited("Write", retryAfter));
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        if (!await scope.ServiceProvider.GetRequiredService<ReadMarkers>().MarkAsync(chatroomId, client.User.Id, seq, client.Connection.Aborted))
        {
            client.Reply(SocketFrames.Error("not_found", "No such chatroom, or you are not a member."));
        }
    }
}
