namespace SliceChat.Infrastructure.Limits;

/// <summary>Settings under <c>Limits:</c>; every limit the app enforces, with its default.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>false turns every rate limiter off (load tests, test harnesses).</summary>
    public bool RateLimitingEnabled { get; set; } = true;
    /// <summary>
    /// Login attempts per minute for one account (the username or email as typed) from one client address. Per address,
    /// so an address that keeps failing never locks the account out for another address.
    /// </summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;
    /// <summary>Login attempts per minute from one client address, whatever the account (guessing across many usernames).</summary>
    public int LoginsPerAddressPerMinute { get; set; } = 30;
    /// <summary>Registrations (<c>/auth/register</c> and its alias <c>/auth/signup</c>) per minute from one client address.</summary>
    public int RegistrationsPerMinute { get; set; } = 5;
    /// <summary>Messages a user may send per minute, REST and sockets together (a burst of this size, refilled evenly).</summary>
    public int MessagesPerMinute { get; set; } = 120;
    /// <summary>
    /// Other writes a user may make per minute, REST and sockets together: edits, deletes, joins, leaves, member changes,
    /// room creation and deletion, read markers, account changes (a burst of this size, refilled evenly).
    /// </summary>
    public int WritesPerMinute { get; set; } = 120;
    /// <summary>
    /// How long a rate-limit check may wait for Redis before this instance decides alone (its own per-instance
    /// limiter answers, and the request goes on).
    /// </summary>
    public int RateLimitRedisTimeoutMilliseconds { get; set; } = 200;
    /// <summary>After Redis failed or timed out on a rate-limit check, how long the per-instance limiter answers alone before Redis is tried again.</summary>
    public int RateLimitFallbackSeconds { get; set; } = 5;
    /// <summary>Most sends an instance stores in one transaction (group commit): its writer takes whatever is waiting, up to this many.</summary>
    public int SendBatchSize { get; set; } = 64;
    /// <summary>
    /// Writers of an instance that store batches at once, each for its share of the conversations (one on SQLite).
    /// More keep more commits in flight while each waits for its fsync, fewer make larger batches, each one
    /// statement: on the 2-core bench box 2 writers delivered about a third more than 4 under socket load
    /// (scenario a), 4 stored about a sixth more REST sends from 8 clients (scenario d). Each costs a database connection.
    /// </summary>
    public int SendWriters { get; set; } = 2;
    /// <summary>
    /// Most sends that may wait for an instance's writer; a send past it is not queued and answers at once: 503 problem
    /// details with <c>Retry-After</c> on REST, an <c>error</c> with code <c>unavailable</c> on a socket.
    /// </summary>
    public int SendQueueCapacity { get; set; } = 4096;
    /// <summary>Largest request body in bytes; larger answers 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;
    /// <summary>Largest user search page.</summary>
    public int MaxSearchResults { get; set; } = 50;
    /// <summary>Frames a socket may hold for sending; at half, ephemeral events (typing) are dropped; when full, the socket closes with 1013.</summary>
    public int SocketQueueCapacity { get; set; } = 512;
    /// <summary>
    /// Most open sockets of one user, counted across every instance and login session (in Redis when configured;
    /// per instance without it or while it is down). One more is refused at the handshake with 429. Not a rate
    /// limit: it holds with <see cref="RateLimitingEnabled"/> false.
    /// </summary>
    public int SocketsPerUser { get; set; } = 20;
    /// <summary>
    /// How long an open socket counts towards its user's <see cref="SocketsPerUser"/> in Redis without its instance
    /// renewing it (each instance renews its sockets every third of this; of three quarters of <c>Presence:TimeoutSeconds</c>
    /// when that is shorter): the sockets of an instance that died stop counting after it. A socket that closes stops
    /// counting at once.
    /// </summary>
    public int SocketSlotSeconds { get; set; } = 30;
    /// <summary>
    /// How long a socket-slot command (a handshake's claim, a close's release, a renewal) may wait for Redis before this
    /// instance counts alone. Longer than <see cref="RateLimitRedisTimeoutMilliseconds"/>: a claim or release that gives up
    /// leaves Redis with a count the other instances trust (too few, or slots that closed, which refuse their user a socket
    /// with 429), and a burst of thousands of handshakes on a busy instance kept its answers queued past 200 ms.
    /// </summary>
    public int SocketSlotRedisTimeoutMilliseconds { get; set; } = 2000;
    /// <summary>
    /// Bytes a socket may have queued for sending before a <c>sync</c> replays more: a replay stops there with an
    /// <c>error</c> <c>sync_incomplete</c> (it names the seq to continue after), so a client that asks for replays
    /// without reading them holds at most this much replayed output, plus small error frames up to
    /// <see cref="SocketQueueCapacity"/> (then 1013).
    /// </summary>
    public int SocketSyncBudgetBytes { get; set; } = 256 * 1024;
    /// <summary>Largest client frame; larger closes the socket with 1009.</summary>
    public int SocketMaxFrameBytes { get; set; } = 16 * 1024;
    /// <summary>Client frames a socket may send per second (a burst of twice this); over it, frames get an error event.</summary>
    public int SocketFramesPerSecond { get; set; } = 20;
    /// <summary>
    /// Sends one socket may have queued but not yet stored; a socket at the bound reads its next frame
    /// only once one of them is stored (its client then waits in TCP's flow control).
    /// </summary>
    public int SocketSendsInFlight { get; set; } = 32;
    /// <summary>Typing events a user may send per room per second.</summary>
    public int TypingPerSecond { get; set; } = 2;
    /// <summary>Most messages one <c>sync</c> frame replays; past it the client pages with REST <c>after_seq</c>.</summary>
    public int SyncReplayMax { get; set; } = 200;
    /// <summary>Idle sockets are pinged this often, and dropped when no pong comes back within the same time.</summary>
    public int SocketKeepAliveSeconds { get; set; } = 20;
    /// <summary>How long a closing socket may take to send its close frame before it is aborted.</summary>
    public int SocketCloseTimeoutSeconds { get; set; } = 5;
    /// <summary>How long a new socket may wait for its conversations' feeds to subscribe; past it the socket is aborted, before its <c>ready</c> frame.</summary>
    public int SocketFollowTimeoutSeconds { get; set; } = 10;
    /// <summary>How often open sockets are checked for an expired token or a revoked session (a revocation whose bus message was lost).</summary>
    public int SocketSweepMilliseconds { get; set; } = 500;
    /// <summary>On shutdown, how long the app waits for its sockets to send what they have queued and close with 1001.</summary>
    public int ShutdownSocketsSeconds { get; set; } = 5;
    /// <summary>While waiting for its sockets on shutdown, how often the app looks whether they have all closed.</summary>
    public int ShutdownPollMilliseconds { get; set; } = 50;
    /// <summary>On SIGTERM, how long the app goes on serving with <c>/health/ready</c> at 503 (so the load balancer moves away) before it closes its sockets and stops.</summary>
    public int ShutdownDrainSeconds { get; set; } = 5;
    /// <summary>How long each check of <c>/health/ready</c> (database, Redis) may take before it counts as failed.</summary>
    public int HealthCheckTimeoutSeconds { get; set; } = 3;
    /// <summary>While the database is unreachable, how long a conversation's feed waits before it reads the newest seq again.</summary>
    public int FeedRetrySeconds { get; set; } = 1;
    /// <summary>
    /// How long a conversation's feed waits for a missing seq to arrive over the bus (another instance's
    /// write still in flight) before it fills the gap from the database; later events wait behind it.
    /// </summary>
    public int GapWaitMilliseconds { get; set; } = 50;
    /// <summary>
    /// Live events and <c>sync</c> requests that may wait in one conversation's feed on an instance. Past it a live
    /// event is dropped and the feed catches up from the database once it gets there (every <c>message.created</c>
    /// still reaches every socket in seq order, once; dropped ephemeral and edit events are not replayed, as after a
    /// bus outage), and a <c>sync</c> is answered with an <c>error</c> <c>unavailable</c>.
    /// </summary>
    public int FeedQueueCapacity { get; set; } = 4096;
    /// <summary>
    /// After the bus link comes back, how many database queries this instance's recovery runs at once: feeds
    /// catching up (each once its channel is subscribed again) and user sockets' membership checks (one per user).
    /// </summary>
    public int ReconnectQueriesInFlight { get; set; } = 4;
    /// <summary>The <c>Retry-After</c> of a 503 answered while the database is unreachable.</summary>
    public int UnavailableRetryAfterSeconds { get; set; } = 2;
    /// <summary>How long a Redis command may take before the client gives it up (StackExchange.Redis' sync and async timeouts; recovery goes through the database).</summary>
    public int BusCommandTimeoutSeconds { get; set; } = 5;
    /// <summary>Largest attachment in bytes; an upload past it answers 413 as soon as the limit is passed (a declared larger body at once).</summary>
    public long AttachmentMaxBytes { get; set; } = 10 * 1024 * 1024;
    /// <summary>Most pixels (width x height, from the header) of an image attachment; a larger one answers 400 without being decoded.</summary>
    public long AttachmentMaxImagePixels { get; set; } = 40_000_000;
    /// <summary>Image uploads an instance decodes at once (each for its thumbnail); more wait their turn.</summary>
    public int ImageDecodesInFlight { get; set; } = 2;
    /// <summary>An upload no message references is deleted after this many hours.</summary>
    public int UnusedAttachmentHours { get; set; } = 24;
    /// <summary>How often each instance looks for unused uploads to delete.</summary>
    public int AttachmentSweepMinutes { get; set; } = 10;
}
