using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using SliceChat.Infrastructure.Limits;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// Reads one socket's client frames and hands each whole text frame on, one at a time. A frame over
/// <c>Limits:SocketMaxFrameBytes</c> closes the socket with 1009; past <c>Limits:SocketFramesPerSecond</c>
/// (bursts of twice that) and for binary frames the client gets an <c>error</c> event instead.
/// An idle socket holds no buffer: it waits for a frame with a zero-byte receive, and a pooled buffer is
/// rented only while that frame is read and handled.
/// </summary>
public sealed class FrameReceiver
{
    private readonly WebSocket socket;
    private readonly SocketConnection connection;
    private readonly int maxFrameBytes;
    private FrameBudget budget;

    public FrameReceiver(WebSocket socket, SocketConnection connection, LimitsOptions limits)
    {
        this.socket = socket;
        this.connection = connection;
        maxFrameBytes = limits.SocketMaxFrameBytes;
        budget = limits.RateLimitingEnabled ? new FrameBudget(limits.SocketFramesPerSecond) : default;
    }

    /// <summary>Receives until the peer closes, a frame is too big, or the socket is closing.</summary>
    /// <param name="handle">Gets each text frame; its bytes are only valid until the returned task completes.</param>
    public async Task RunAsync(Func<ReadOnlyMemory<byte>, Task> handle)
    {
        while (socket.State == WebSocketState.Open)
        {
            if (await ReceiveFrameAsync() is not { } frame)
            {
                return;
            }
            try
            {
                if (connection.IsClosing)
                {
                    return;
                }
                if (!budget.TryTake())
                {
                    connection.Enqueue(SocketFrames.Error("rate_limited", "Too many frames; slow down."));
                    continue;
                }
                if (frame.Type != WebSocketMessageType.Text)
                {
                    connection.Enqueue(SocketFrames.Error("invalid_frame", "Only text frames with JSON objects are understood."));
                    continue;
                }
                await handle(frame.Buffer is null ? ReadOnlyMemory<byte>.Empty : frame.Buffer.AsMemory(0, frame.Length));
            }
            finally
            {
                if (frame.Buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                }
            }
        }
    }

    /// <summary>
    /// One whole frame, in a rented buffer (null for an empty frame) that the caller returns; null when the
    /// peer closed, or the frame outgrew the limit (then the socket closes with 1009).
    /// </summary>
    private async ValueTask<(WebSocketMessageType Type, byte[]? Buffer, int Length)?> ReceiveFrameAsync()
    {
        // Waits for the next frame's header without a buffer: idle sockets hold none. Neither receive takes the
        // connection's token, whose registration an idle socket would hold all its life: Abort aborts the socket too,
        // which ends a pending receive.
        var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            return null;
        }
        if (result.EndOfMessage)
        {
            return (result.MessageType, null, 0);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(maxFrameBytes);
        var length = 0;
        try
        {
            do
            {
                if (length == maxFrameBytes)
                {
                    connection.Close(WebSocketCloseStatus.MessageTooBig, $"frames are limited to {maxFrameBytes} bytes", drain: false);
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
                result = await socket.ReceiveAsync(buffer.AsMemory(length, maxFrameBytes - length), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
                length += result.Count;
            }
            while (!result.EndOfMessage);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return (result.MessageType, buffer, length);
    }

    /// <summary>
    /// A token bucket without a timer: <c>rate</c> tokens a second, up to twice that, refilled from the
    /// time elapsed whenever a frame comes. The default value lets everything through.
    /// </summary>
    private struct FrameBudget(int rate)
    {
        private readonly double limit = rate * 2;
        private double tokens = rate * 2;
        private long refilledAt = Stopwatch.GetTimestamp();

        public bool TryTake()
        {
            if (rate <= 0)
            {
                return true;
            }
            var now = Stopwatch.GetTimestamp();
            tokens = Math.Min(limit, tokens + Stopwatch.GetElapsedTime(refilledAt, now).TotalSeconds * rate);
            refilledAt = now;
            if (tokens < 1)
            {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }
}
