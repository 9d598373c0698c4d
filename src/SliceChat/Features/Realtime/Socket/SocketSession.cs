using System.Net.WebSockets;
using System.Reflection;
using Microsoft.AspNetCore.Http.Features;
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
    /// the request, which is the socket's whole life. Nothing reads it once the socket is accepted (a fresh token comes
    /// in an <c>auth</c> frame), so every copy goes: the parsed query, the header, the request line's target and query
    /// string in the request feature, and Kestrel's copies of those two.
    /// </summary>
    private static void ForgetAccessToken(HttpContext http)
    {
        if (http.Request.QueryString.HasValue)
        {
            http.Request.Query = QueryCollection.Empty;
            var request = http.Features.GetRequiredFeature<IHttpRequestFeature>();
            if (request.RawTarget.IndexOf('?', StringComparison.Ordinal) is var query and >= 0)
            {
                request.RawTarget = request.RawTarget[..query];
            }
            request.QueryString = "";
            KestrelRequestLine.Forget(http.Features);
        }
        if (http.Request.Headers.Authorization.Count > 0)
        {
            http.Request.Headers.Authorization = StringValues.Empty;
        }
    }

    /// <summary>
    /// Kestrel's HTTP/1.1 connection keeps the last request's target and query string in private fields, to reuse them
    /// if the next request on the connection has the same line; a socket's connection has no next request, and with
    /// <c>?token=</c> the two strings are 1.8 KB of every idle socket (dotnet-dump of
    /// <c>bash bench/run.sh micro idle-sockets</c>: half of all the string bytes a socket holds). No option or API lets
    /// them go, hence reflection; a Kestrel without these fields leaves them be (<see cref="Available"/> says so in a test).
    /// </summary>
    internal static class KestrelRequestLine
    {
        private static readonly Type? Connection = Type.GetType(
            "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.Http1Connection, Microsoft.AspNetCore.Server.Kestrel.Core");

        private static readonly FieldInfo[] Fields = Connection is null
            ? []
            : [.. new[] { "_parsedRawTarget", "_parsedQueryString" }
                .Select(name => Connection.GetField(name, BindingFlags.Instance | BindingFlags.NonPublic))
                .Where(field => field?.FieldType == typeof(string))
                .Cast<FieldInfo>()];

        public static bool Available => Fields.Length == 2;

        public static void Forget(IFeatureCollection features)
        {
            if (Available && Connection!.IsInstanceOfType(features))
            {
                foreach (var field in Fields)
                {
                    field.SetValue(features, null);
                }
            }
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
