using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Presence;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// One socket's life: accept and register it, send <c>ready</c> once it follows its conversations,
/// hand its frames to the <see cref="FrameDispatcher"/> until it closes, then close it and let go of
/// everything it held.
/// </summary>
public sealed partial class SocketSession(
    IServiceProvider services,
    ConnectionRegistry registry,
    PresenceHub presence,
    SessionRevocation revocation,
    IOptions<LimitsOptions> limits,
    AppMetrics metrics,
    ILogger<SocketSession> logger) : IDisposable
{
    private SocketConnection connection = null!;

    /// <param name="roomCheckedAt">A room socket's: when its membership was checked (<see cref="ConversationFollower.FollowAsync"/>).</param>
    /// <param name="slot">The socket's place in its user's <c>Limits:SocketsPerUser</c>, freed as soon as the socket closes.</param>
    public async Task RunAsync(HttpContext http, CurrentUser caller, DateTimeOffset expiresAt, SocketScope scope, Guid? roomId, long? roomCheckedAt, SocketSlot slot)
    {
        var options = limits.Value;
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        ForgetAccessToken(http);
        connection = new SocketConnection(socket, caller.Id, caller.SessionId, expiresAt, scope, roomId,
            options.SocketQueueCapacity, TimeSpan.FromSeconds(options.SocketCloseTimeoutSeconds), metrics, logger);
        var receiver = new FrameReceiver(socket, connection, options);
        var follower = ActivatorUtilities.CreateInstance<ConversationFollower>(services, connection);
        var dispatcher = ActivatorUtilities.CreateInstance<FrameDispatcher>(services, new SocketClient(connection, caller), follower);
        registry.Add(connection);
        if (scope == SocketScope.User)
        {
            presence.Attach(connection);
        }
        // "ready" goes first, and only once the socket receives its conversations' events.
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Enqueue(SocketFrames.Ready(caller.Id, connection.Id));
        var writer = connection.RunWriterAsync(ready.Task);
        try
        {
            await OpenAsync(follower, roomCheckedAt);
            ready.TrySetResult();
            await receiver.RunAsync(dispatcher.DispatchAsync);
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
            ready.TrySetResult();
            // Before the close frame goes out: a client that saw its socket close may open another at once.
            await slot.DisposeAsync();
            await CloseAsync(follower, writer);
        }
    }

    public void Dispose() => connection?.Dispose();

    /// <summary>
    /// The handshake's access token (in <c>?token=</c> from a browser, else in <c>Authorization</c>) would live as long as
    /// the request, which is the socket's whole life: the parsed query holds a decoded copy, the request headers the header.
    /// Nothing reads either once the socket is accepted (a fresh token comes in an <c>auth</c> frame); dropping them saves
    /// ~1.1 KB of every idle socket that used the query and ~0.8 KB of one that used the header (dotnet-dump of bench
    /// scenario c; <c>bash bench/run.sh micro idle-sockets</c>). Kestrel keeps the raw URL itself.
    /// </summary>
    private static void ForgetAccessToken(HttpContext http)
    {
        if (http.Request.QueryString.HasValue)
        {
            http.Request.Query = QueryCollection.Empty;
        }
        if (http.Request.Headers.Authorization.Count > 0)
        {
            http.Request.Headers.Authorization = StringValues.Empty;
        }
    }

    private async Task OpenAsync(ConversationFollower follower, long? roomCheckedAt)
    {
        await follower.FollowAsync(roomCheckedAt);
        // A revocation that landed between the handshake and the registration would be missed otherwise.
        if (!await revocation.IsActiveAsync(connection.SessionId, connection.UserId, connection.Aborted))
        {
            connection.Close((WebSocketCloseStatus)CloseCodes.TokenExpiredOrRevoked, "session revoked", drain: false);
        }
    }

    /// <summary>Sends what is queued and the close frame, and lets go of the feeds, the registry entry and the user's channel.</summary>
    private async Task CloseAsync(ConversationFollower follower, Task writer)
    {
        connection.Close(WebSocketCloseStatus.NormalClosure, "", drain: true);
        registry.Remove(connection);
        presence.Detach(connection);
        try
        {
            await follower.DisposeAsync();
        }
        finally
        {
            await writer;
        }
    }

    [LoggerMessage(LogLevel.Error, "Socket {ConnectionId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid connectionId);
}
