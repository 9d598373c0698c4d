using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Messaging;

/// <summary>
/// Redis for the checks that have a per-instance answer to fall back on (rate limits, socket slots): a call
/// gives up after <c>Limits:RateLimitRedisTimeoutMilliseconds</c> (or the caller's own timeout), and after a failure
/// Redis is left alone for <c>Limits:RateLimitFallbackSeconds</c>, so an outage costs one timeout per pause, not one
/// per request.
/// </summary>
public sealed partial class GuardedRedis(IOptions<LimitsOptions> options, ILogger<GuardedRedis> logger, IConnectionMultiplexer? redis = null)
{
    private readonly TimeSpan defaultTimeout = TimeSpan.FromMilliseconds(options.Value.RateLimitRedisTimeoutMilliseconds);
    private readonly long pauseMilliseconds = options.Value.RateLimitFallbackSeconds * 1000L;
    private long pausedUntil;

    /// <summary>How long Redis is left alone after a failure.</summary>
    public TimeSpan Pause => TimeSpan.FromMilliseconds(pauseMilliseconds);

    /// <summary>Redis is configured (otherwise every caller answers alone, always).</summary>
    public bool IsConfigured => redis is not null;

    /// <summary>Redis is configured, connected, and not paused after a failure.</summary>
    public bool Usable => redis is not null && redis.IsConnected && Environment.TickCount64 >= Volatile.Read(ref pausedUntil);

    /// <summary>Runs <paramref name="call"/> when Redis is usable.</summary>
    /// <param name="timeout">How long it may take; <c>Limits:RateLimitRedisTimeoutMilliseconds</c> when null.</param>
    /// <returns>Its result; null when Redis is absent, paused, failing or slow (the caller answers alone).</returns>
    public async Task<RedisResult?> TryAsync(Func<IDatabase, Task<RedisResult>> call, string what, TimeSpan? timeout = null)
    {
        if (!Usable)
        {
            return null;
        }
        Task<RedisResult>? pending = null;
        try
        {
            pending = call(redis!.GetDatabase());
            return await pending.WaitAsync(timeout ?? defaultTimeout);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            // A late failure of the abandoned command is observed here, not at finalization.
            pending?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            var now = Environment.TickCount64;
            if (Interlocked.Exchange(ref pausedUntil, now + pauseMilliseconds) <= now)
            {
                LogPaused(logger, e, what, pauseMilliseconds / 1000); // once per pause, not once per request
            }
            return null;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Redis failed a {What}; this instance answers alone for the next {Seconds} s")]
    private static partial void LogPaused(ILogger logger, Exception exception, string what, long seconds);
}
