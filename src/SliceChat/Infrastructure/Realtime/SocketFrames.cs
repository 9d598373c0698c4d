using SliceChat.Infrastructure.Conversations;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>The server's own frames (those that are not conversation events).</summary>
public static class SocketFrames
{
    public static readonly ReadOnlyMemory<byte> Pong = ChatEvents.Frame("pong", new { });

    /// <summary>The answer to a frame that needs the database while it is unreachable; the socket stays open.</summary>
    public static ReadOnlyMemory<byte> Unavailable(string? clientMessageId = null) =>
        Error("unavailable", "The database is unreachable; try again shortly.", clientMessageId);

    public static ReadOnlyMemory<byte> Ready(Guid userId, Guid connectionId) =>
        ChatEvents.Frame("ready", new ReadyBody(userId, connectionId));

    public static ReadOnlyMemory<byte> Error(string code, string message, string? clientMessageId = null) =>
        ChatEvents.Frame("error", new ErrorBody(code, message, clientMessageId));

    /// <summary>The answer to a frame over a rate limit (<paramref name="limit"/> names it); the socket stays open.</summary>
    public static ReadOnlyMemory<byte> RateLimited(string limit, TimeSpan retryAfter, string? clientMessageId = null) =>
        Error("rate_limited", $"{limit} rate limit reached; retry in {Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))} s.", clientMessageId);

    private sealed record ReadyBody(Guid UserId, Guid ConnectionId);

    private sealed record ErrorBody(string Code, string Message, string? ClientMessageId);
}
