using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Presence;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// <c>presence.subscribe</c> / <c>presence.unsubscribe</c> on a <c>/ws/chat</c> socket: follow the presence of users who
/// share a conversation with the caller (others are ignored), at most <c>Presence:MaxIds</c> per socket.
/// </summary>
public sealed class PresenceHandler(SocketClient client, PresenceHub presence, IServiceScopeFactory scopes)
{
    public async Task SubscribeAsync(IReadOnlyCollection<Guid> userIds)
    {
        if (!OnUserSocket() || !WithinCap(userIds))
        {
            return;
        }
        List<Guid> sharing;
        await using (var scope = scopes.CreateAsyncScope())
        {
            sharing = await scope.ServiceProvider.GetRequiredService<ChatDbContext>().SharingWithAsync(client.User.Id, [.. userIds.Distinct()],
                client.Connection.Aborted);
        }
        if (presence.Subscribe(client.Connection, sharing).Count > 0)
        {
            client.Reply(SocketFrames.Error("presence_limit",
                $"A socket follows the presence of at most {presence.MaxSubscriptions} users; unsubscribe some first."));
        }
    }

    public void Unsubscribe(IReadOnlyCollection<Guid> userIds)
    {
        if (OnUserSocket() && WithinCap(userIds))
        {
            presence.Unsubscribe(client.Connection, userIds);
        }
    }

    private bool OnUserSocket()
    {
        if (client.Connection.Scope == SocketScope.User)
        {
            return true;
        }
        client.Reply(SocketFrames.Error("validation_failed", "Presence is followed on /ws/chat sockets, not on room sockets."));
        return false;
    }

    private bool WithinCap(IReadOnlyCollection<Guid> userIds)
    {
        if (userIds.Count <= presence.MaxSubscriptions)
        {
            return true;
        }
        client.Reply(SocketFrames.Error("validation_failed", $"user_ids: at most {presence.MaxSubscriptions} ids."));
        return false;
    }
}
