using System.Net.WebSockets;
using System.Threading.RateLimiting;
using SliceChat.Infrastructure.Limits;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// Reads one socket's client frames and hands each whole text frame on, one at a time. A frame over
/// <c>Limits:SocketMaxFrameBytes</c> closes the socket with 1009; past <c>Limits:SocketFramesPerSecond</c>
/// (bursts of twice that) and for binary frames the client gets an <c>error</c> event instead.
/// </summary>
public sealed class FrameReceiver : IDisposable
{
    private readonly WebSocket socket;
    private readonly SocketConnection connection;
    private readonly byte[] buffer;
    private readonly TokenBucketRateLimiter? limiter;

    public FrameReceiver(WebSocket socket, SocketConnection connection, LimitsOptions limits)
    {
        this.socket = socket;
        this.connection = connection;
        buffer = new byte[limits.SocketMaxFrameBytes];
        limiter = limits.RateLimitingEnabled
            ? new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.SocketFramesPerSecond * 2,
                TokensPerPeriod = limits.SocketFramesPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
            })
            : null;
    }

    /// <summary>Receives until the peer closes, a frame is too big, or the socket is closing.</summary>
    /// <param name="handle">Gets each text frame; its bytes are only valid until the returned task completes.</param>
    public async Task RunAsync(Func<ReadOnlyMemory<byte>, Task> handle)
    {
        while (socket.State == WebSocketState.Open)
        {
            if (await ReceiveFrameAsync() is not { } frame || connection.IsClosing)
            {
                return;
            }
            using var lease = limiter?.AttemptAcquire();
            if (lease is { IsAcquired: false })
            {
                connection.Enqueue(SocketFrames.Error("rate_limited", "Too many frames; slow down."));
                continue;
            }
            if (frame.Type != WebSocketMessageType.Text)
            {
                connection.Enqueue(SocketFrames.Error("invalid_frame", "Only text frames with JSON objects are understood."));
                continue;
            }
            await handle(buffer.AsMemory(0, frame.Length));
        }
    }

    /// <summary>One whole frame into the buffer; null when the peer closed, or the frame outgrew the buffer (then the socket closes with 1009).</summary>
    private async ValueTask<(WebSocketMessageType Type, int Length)?> ReceiveFrameAsync()
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (length == buffer.Length)
            {
                connection.Close(WebSocketCloseStatus.MessageTooBig, $"frames are limited to {buffer.Length} bytes", drain: false);
                return null;
            }
            result = await socket.ReceiveAsync(buffer.AsMemory(length), connection.Aborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            length += result.Count;
        }
        while (!result.EndOfMessage);
        return (result.MessageType, length);
    }

    public void Dispose() => limiter?.Dispose();
}
