using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>A <c>typing</c> frame: published to the conversation (not stored), at most <c>Limits:TypingPerSecond</c> per user and room.</summary>
public sealed class TypingHandler(SocketClient client, RateLimits rateLimits, ChatEvents events, IServiceScopeFactory scopes)
{
    public async Task HandleAsync(Guid chatroomId)
    {
        if (!client.Connection.Following.ContainsKey(chatroomId))
        {
            client.Reply(SocketFrames.Error("forbidden", "You are not a member of this chatroom."));
            return;
        }
        if (await rateLimits.TryAcquireAsync(rateLimits.Typing, $"{client.User.Id:N}:{chatroomId:N}") is { } retryAfter)
        {
            client.Reply(SocketFrames.RateLimited("Typing", retryAfter));
            return;
        }
        // The name as it is now: the socket's token carries the one it was issued with.
        string username;
        await using (var scope = scopes.CreateAsyncScope())
        {
            username = await scope.ServiceProvider.GetRequiredService<ChatDbContext>().UsernameAsync(client.User.Id, client.Connection.Aborted);
        }
        await events.PublishAsync(chatroomId, ChatEvents.Typing, new TypingBody(chatroomId, client.User.Id, username));
    }
}
