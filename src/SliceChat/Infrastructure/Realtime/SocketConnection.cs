using System.Net.WebSockets;
using System.Threading.Channels;
using SliceChat.Infrastructure.Operations;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>What a socket was opened for: all of a user's conversations, or one room.</summary>
public enum SocketScope
{
    User,
    Room,
}

/// <summary>
/// One WebSocket and its single writer. Frames wait in a bounded queue: once it is half full,
/// ephemeral frames (typing) are dropped; once it is full, the socket is closed with 1013, so a
/// client that reads too slowly never holds up anyone else or grows the server's memory.
/// </summary>
public sealed partial class SocketConnection : IDisposable
{
    private readonly WebSocket socket;
    private readonly Channel<ReadOnlyMemory<byte>> queue;
    private readonly int capacity;
    private readonly TimeSpan closeTimeout;
    private readonly ILogger logger;
    private readonly AppMetrics metrics;
    private readonly CancellationTokenSource aborted = new();
    private int queued;
    private long queuedBytes;
    private CloseRequest? closeRequest;
    private int disposed;

    /// <summary>Set once, whole, so the writer never sees a close code without its reason and drain flag.</summary>
    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason, bool Drain);

    public SocketConnection(WebSocket socket, Guid userId, Guid sessionId, DateTimeOffset expiresAt,
        SocketScope scope, Guid? roomId, int capacity, TimeSpan closeTimeout, AppMetrics metrics, ILogger logger)
    {
        this.socket = socket;
        this.capacity = capacity;
        this.closeTimeout = closeTimeout;
        this.logger = logger;
        this.metrics = metrics;
        UserId = userId;
        SessionId = sessionId;
        ExpiresAt = expiresAt;
        Scope = scope;
        RoomId = roomId;
        // Synchronous continuations: an idle writer sends a frame on the thread that queued it (a feed
        // fanning out), instead of waiting for a thread-pool thread to wake it (a thread switch for
        // every frame to every socket). A send that cannot complete at once (the peer reads slowly)
        // hands the writer back to the pool at its first real await.
        queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = true,
        });
    }

    public Guid Id { get; } = Guid.CreateVersion7();
    public Guid UserId { get; }
    public Guid SessionId { get; private set; }
    public DateTimeOffset ExpiresAt { get; private set; }
    public SocketScope Scope { get; }
    public Guid? RoomId { get; }

    public int Queued => Volatile.Read(ref queued);

    /// <summary>Bytes of the frames waiting in the queue (a <c>sync</c> replays only while they are under <c>Limits:SocketSyncBudgetBytes</c>).</summary>
    public long QueuedBytes => Interlocked.Read(ref queuedBytes);
    public bool IsClosing => Volatile.Read(ref closeRequest) is not null;

    /// <summary>Cancelled when the socket is aborted: the receive loop stops.</summary>
    public CancellationToken Aborted => aborted.Token;

    public WebSocketCloseStatus? CloseStatus => Volatile.Read(ref closeRequest)?.Status;

    /// <summary>A fresh access token (in-band <c>auth</c>) extends the socket's life.</summary>
    public void Reauthenticate(Guid sessionId, DateTimeOffset expiresAt)
    {
        SessionId = sessionId;
        ExpiresAt = expiresAt;
    }

    /// <summary>Queues a frame; false when it was dropped (ephemeral over half full, or the socket is closing).</summary>
    public bool Enqueue(ReadOnlyMemory<byte> frame, bool ephemeral = false)
    {
        if (IsClosing)
        {
            return false;
        }
        var count = Interlocked.Increment(ref queued);
        if ((ephemeral && count > capacity / 2) || count > capacity)
        {
            Interlocked.Decrement(ref queued);
            if (ephemeral)
            {
                metrics.TypingDropped();
            }
            else
            {
                metrics.SocketOverflowed();
                LogOverflow(logger, Id, UserId);
                Close((WebSocketCloseStatus)CloseCodes.TryAgainLater, "outbound queue overflow: reconnect and sync", drain: false);
            }
            return false;
        }
        Interlocked.Add(ref queuedBytes, frame.Length);
        if (!queue.Writer.TryWrite(frame))
        {
            Interlocked.Decrement(ref queued);
            Interlocked.Add(ref queuedBytes, -frame.Length);
            return false;
        }
        return true;
    }

    /// <summary>Asks the writer to close the socket: after the queued frames (<paramref name="drain"/>) or at once.</summary>
    public void Close(WebSocketCloseStatus status, string reason, bool drain)
    {
        if (Interlocked.CompareExchange(ref closeRequest, new CloseRequest(status, reason, drain), null) is not null)
        {
            return;
        }
        queue.Writer.TryComplete();
        // A peer that never reads would hold the close handshake forever.
        _ = Task.Delay(closeTimeout + closeTimeout).ContinueWith(_ => Abort(), TaskScheduler.Default);
    }

    public void Abort()
    {
        if (Volatile.Read(ref disposed) == 1 || aborted.IsCancellationRequested)
        {
            return; // finished already, or aborted
        }
        try
        {
            aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return; // the session ended meanwhile
        }
        queue.Writer.TryComplete(); // the writer's wait ends
        socket.Abort();
    }

    /// <summary>
    /// The single writer: sends queued frames one at a time, then the close frame. It starts once
    /// <paramref name="ready"/> completes, so frames queued meanwhile (ready first) wait their turn.
    /// </summary>
    public async Task RunWriterAsync(Task ready)
    {
        try
        {
            await ready.WaitAsync(aborted.Token);
            await SendQueuedAsync();
            var close = Volatile.Read(ref closeRequest) ?? new CloseRequest(WebSocketCloseStatus.NormalClosure, "", true);
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted.Token);
                timeout.CancelAfter(closeTimeout);
                await socket.CloseOutputAsync(close.Status, close.Reason, timeout.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            Abort();
        }
    }

    /// <summary>
    /// Sends what is queued until the queue completes (closing or aborted) or a close without drain comes.
    /// Neither the wait nor the send takes a token: a cancellable wait on a channel allocates for every
    /// frame, and a cancellable send skips ManagedWebSocket's synchronous path for an async one that
    /// registers with the token. <see cref="Abort"/> completes the queue and aborts the socket, which also
    /// ends a send that waits on a client that does not read.
    /// </summary>
    private async Task SendQueuedAsync()
    {
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var frame))
            {
                Interlocked.Decrement(ref queued);
                Interlocked.Add(ref queuedBytes, -frame.Length);
                if (aborted.IsCancellationRequested || Volatile.Read(ref closeRequest) is { Drain: false })
                {
                    return;
                }
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
    }

    /// <summary>The conversations whose events this socket receives (maintained by <see cref="ConversationFeeds"/>).</summary>
    /// <remarks>Sized for the usual one or few: the defaults (a lock per core, 31 buckets) were a tenth of an idle socket's memory.</remarks>
    public System.Collections.Concurrent.ConcurrentDictionary<Guid, byte> Following { get; } = new(concurrencyLevel: 1, capacity: 1);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            aborted.Dispose();
        }
    }

    [LoggerMessage(LogLevel.Warning, "Socket {ConnectionId} of user {UserId} reads too slowly; closing with 1013")]
    private static partial void LogOverflow(ILogger logger, Guid connectionId, Guid userId);
}

/// <summary>The close codes of the contract that WebSocketCloseStatus does not name.</summary>
public static class CloseCodes
{
    public const int TryAgainLater = 1013;
    public const int TokenExpiredOrRevoked = 4401;
    public const int RemovedFromRoom = 4403;
}
