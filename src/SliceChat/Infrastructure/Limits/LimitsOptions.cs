namespace SliceChat.Infrastructure.Limits;

/// <summary>Settings under <c>Limits:</c>; every limit the app enforces, with its default.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>false turns every rate limiter off (load tests, test harnesses).</summary>
    public bool RateLimitingEnabled { get; set; } = true;
    /// <summary>Login attempts per minute for one username from one client address.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;
    /// <summary>Messages a user may send per minute, REST and sockets together (a burst of this size, refilled evenly).</summary>
    public int MessagesPerMinute { get; set; } = 120;
    /// <summary>Largest request body in bytes; larger answers 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;
    /// <summary>Largest user search page.</summary>
    public int MaxSearchResults { get; set; } = 50;
    /// <summary>Frames a socket may hold for sending; at half, ephemeral events (typing) are dropped; when full, the socket closes with 1013.</summary>
    public int SocketQueueCapacity { get; set; } = 512;
    /// <summary>Largest client frame; larger closes the socket with 1009.</summary>
    public int SocketMaxFrameBytes { get; set; } = 16 * 1024;
    /// <summary>Client frames a socket may send per second (a burst of twice this); over it, frames get an error event.</summary>
    public int SocketFramesPerSecond { get; set; } = 20;
    /// <summary>Typing events a user may send per room per second.</summary>
    public int TypingPerSecond { get; set; } = 2;
    /// <summary>Most messages one <c>sync</c> frame replays; past it the client pages with REST <c>after_seq</c>.</summary>
    public int SyncReplayMax { get; set; } = 200;
    /// <summary>Idle sockets are pinged this often, and dropped when no pong comes back within the same time.</summary>
    public int SocketKeepAliveSeconds { get; set; } = 20;
    /// <summary>How long a closing socket may take to send its close frame before it is aborted.</summary>
    public int SocketCloseTimeoutSeconds { get; set; } = 5;
}
