using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Operations;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Limits;

/// <summary>One rate limit: a token bucket of <paramref name="Permits"/> tokens that refills evenly over <paramref name="Window"/>.</summary>
public sealed record RateLimitRule(string Name, int Permits, TimeSpan Window)
{
    /// <summary>The time one token takes to come back.</summary>
    public TimeSpan Interval => Window / Permits;
}

/// <summary>
/// The app's rate limits, the one mechanism behind REST (through ASP.NET Core's rate limiter, see
/// <see cref="RateLimitPolicies"/>) and sockets, so both draw on the same budgets.
/// With Redis configured the buckets live in Redis and hold across every instance; without Redis, or while it
/// is down or slow, this instance's own buckets answer (a check never fails a request, and waits for Redis at
/// most <c>Limits:RateLimitRedisTimeoutMilliseconds</c>).
/// </summary>
/// <remarks>
/// Written here rather than taken from RedisRateLimiting.AspNetCore: that package is built against
/// StackExchange.Redis 2.8 (this app runs 3.4), throws when Redis is unreachable instead of falling back to a
/// per-instance limit, and has no per-check timeout; the Redis side here is one short script.
/// </remarks>
public sealed class RateLimits : IDisposable
{
    /// <summary>
    /// GCRA, the token bucket kept as one timestamp: the "theoretical arrival time" of the bucket's next
    /// token. KEYS[1] the bucket; ARGV[1] the interval of one token, ARGV[2] the window (the bucket's depth), in ms.
    /// Returns 0 when a token was taken, else how many ms until one is free. Redis' own clock serves every instance.
    /// </summary>
    private const string Gcra = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local tat = tonumber(redis.call('GET', KEYS[1]))
        if not tat or tat < now then tat = now end
        local next_tat = tat + tonumber(ARGV[1])
        local wait = next_tat - tonumber(ARGV[2]) - now
        if wait > 0 then return math.ceil(wait) end
        redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.ceil(next_tat - now))
        return 0
        """;

    private readonly GuardedRedis redis;
    private readonly ChannelNames names;
    private readonly AppMetrics metrics;
    private readonly Dictionary<RateLimitRule, PartitionedRateLimiter<string>> local;

    public RateLimits(IOptions<LimitsOptions> options, ChannelNames names, GuardedRedis redis, AppMetrics metrics)
    {
        this.metrics = metrics;
        var limits = options.Value;
        Enabled = limits.RateLimitingEnabled;
        this.redis = redis;
        this.names = names;
        var minute = TimeSpan.FromMinutes(1);
        Registrations = new("register", limits.RegistrationsPerMinute, minute);
        LoginsPerAddress = new("login-address", limits.LoginsPerAddressPerMinute, minute);
        Logins = new("login", limits.LoginAttemptsPerMinute, minute);
        Messages = new("messages", limits.MessagesPerMinute, minute);
        Writes = new("writes", limits.WritesPerMinute, minute);
        Typing = new("typing", limits.TypingPerSecond, TimeSpan.FromSeconds(1));
        local = new[] { Registrations, LoginsPerAddress, Logins, Messages, Writes, Typing }.ToDictionary(rule => rule, Local);
    }

    /// <summary>false with <c>Limits:RateLimitingEnabled=false</c>: every check passes.</summary>
    public bool Enabled { get; }

    /// <summary>Per client address: registrations.</summary>
    public RateLimitRule Registrations { get; }

    /// <summary>Per client address: login attempts, whatever the account.</summary>
    public RateLimitRule LoginsPerAddress { get; }

    /// <summary>Per account and client address: login attempts.</summary>
    public RateLimitRule Logins { get; }

    /// <summary>Per user: message sends, REST and socket.</summary>
    public RateLimitRule Messages { get; }

    /// <summary>Per user: every other write, REST and socket.</summary>
    public RateLimitRule Writes { get; }

    /// <summary>Per user and room: typing events.</summary>
    public RateLimitRule Typing { get; }

    /// <summary>Takes one token of <paramref name="rule"/>'s bucket for <paramref name="key"/>.</summary>
    /// <returns>null when allowed; otherwise how long until a token is free.</returns>
    public async ValueTask<TimeSpan?> TryAcquireAsync(RateLimitRule rule, string key)
    {
        if (!Enabled)
        {
            return null;
        }
        var retryAfter = await AcquireAsync(rule, key);
        if (retryAfter is not null)
        {
            metrics.RateLimited(rule.Name);
        }
        return retryAfter;
    }

    private async ValueTask<TimeSpan?> AcquireAsync(RateLimitRule rule, string key)
    {
        var wait = await redis.TryAsync(db => db.ScriptEvaluateAsync(Gcra, [names.RateLimit(rule.Name, key)],
            [rule.Interval.TotalMilliseconds, rule.Window.TotalMilliseconds]), "rate-limit check");
        if (wait is not null)
        {
            return (long)wait > 0 ? TimeSpan.FromMilliseconds((long)wait) : null;
        }
        return AcquireLocally(rule, key);
    }

    private TimeSpan? AcquireLocally(RateLimitRule rule, string key)
    {
        using var lease = local[rule].AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : rule.Interval;
    }

    /// <summary>This instance's buckets of <paramref name="rule"/>: the same token bucket as the Redis script.</summary>
    private static PartitionedRateLimiter<string> Local(RateLimitRule rule) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = rule.Permits,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = rule.Interval,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        foreach (var limiter in local.Values)
        {
            limiter.Dispose();
        }
    }

}

public static class LimitsServices
{
    public static WebApplicationBuilder AddLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitsOptions>().Bind(builder.Configuration.GetSection(LimitsOptions.Section))
            .Validate(o => o.LoginAttemptsPerMinute > 0 && o.LoginsPerAddressPerMinute > 0 && o.RegistrationsPerMinute > 0
                && o.MessagesPerMinute > 0 && o.WritesPerMinute > 0 && o.RateLimitRedisTimeoutMilliseconds > 0 && o.RateLimitFallbackSeconds > 0
                && o.SendQueueCapacity > 0 && o.SocketsPerUser > 0 && o.SocketSlotSeconds >= 3 && o.SocketSlotRedisTimeoutMilliseconds > 0 && o.SocketSyncBudgetBytes > 0 && o.FeedQueueCapacity > 0
                && o.MaxRequestBodyBytes > 0 && o.MaxSearchResults > 0
                && o.SocketQueueCapacity >= 2 && o.SocketMaxFrameBytes > 0 && o.SocketFramesPerSecond > 0 && o.SocketSendsInFlight > 0 && o.TypingPerSecond > 0
                && o.SyncReplayMax > 0 && o.SyncReplayMax < o.SocketQueueCapacity && o.SocketKeepAliveSeconds > 0 && o.SocketCloseTimeoutSeconds > 0
                && o.SocketFollowTimeoutSeconds > 0 && o.SocketSweepMilliseconds > 0 && o.ShutdownSocketsSeconds > 0 && o.ShutdownPollMilliseconds > 0
                && o.FeedRetrySeconds > 0 && o.ReconnectQueriesInFlight > 0 && o.BusCommandTimeoutSeconds > 0
                && o.UnavailableRetryAfterSeconds > 0,
                "Limits must be positive, and SyncReplayMax below SocketQueueCapacity.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RateLimits>();
        builder.Services.AddRateLimitPolicies();
        var maxBody = builder.Configuration.GetValue<long?>($"{LimitsOptions.Section}:{nameof(LimitsOptions.MaxRequestBodyBytes)}") ?? new LimitsOptions().MaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = maxBody);
        return builder;
    }

    /// <summary>
    /// 413 problem details for a declared body over <c>Limits:MaxRequestBodyBytes</c> (Kestrel also cuts off undeclared ones),
    /// or over the route's own limit where it declares one (<see cref="Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata"/>: uploads).
    /// </summary>
    public static WebApplication UseRequestBodyLimit(this WebApplication app)
    {
        // Not async: the request passes through without a state machine of this middleware's, which a socket's request
        // would keep for its life.
        app.Use((context, next) =>
        {
            var routeLimit = context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize;
            if (routeLimit is not null && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            {
                feature.MaxRequestBodySize = routeLimit;
            }
            var max = routeLimit ?? context.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxRequestBodyBytes;
            if (context.Request.ContentLength > max)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
                    detail: $"The request body is over the limit of {max} bytes.").ExecuteAsync(context);
            }
            return next(context);
        });
        return app;
    }
}
