using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SliceChat.Infrastructure.Limits;

/// <summary>The app's rate limiters, shared by REST endpoints and sockets so both obey the same budget.</summary>
public sealed class RateLimits : IDisposable
{
    private readonly bool enabled;
    private readonly PartitionedRateLimiter<string> logins;
    private readonly PartitionedRateLimiter<Guid> messages;
    private readonly PartitionedRateLimiter<(Guid, Guid)> typing;

    public RateLimits(IOptions<LimitsOptions> options)
    {
        var limits = options.Value;
        enabled = limits.RateLimitingEnabled;
        logins = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limits.LoginAttemptsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
        messages = PartitionedRateLimiter.Create<Guid, Guid>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.MessagesPerMinute,
            TokensPerPeriod = Math.Max(1, limits.MessagesPerMinute / 60),
            ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, 60 / Math.Max(1, limits.MessagesPerMinute))),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        typing = PartitionedRateLimiter.Create<(Guid, Guid), (Guid, Guid)>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limits.TypingPerSecond,
            Window = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));
    }

    /// <returns>null when allowed; otherwise how long to wait.</returns>
    public TimeSpan? TryLogin(string clientAddress, string normalizedUsername) => Acquire(logins, $"{clientAddress}|{normalizedUsername}");

    public TimeSpan? TrySendMessage(Guid userId) => Acquire(messages, userId);

    public TimeSpan? TryTyping(Guid userId, Guid chatroomId) => Acquire(typing, (userId, chatroomId));

    private TimeSpan? Acquire<TKey>(PartitionedRateLimiter<TKey> limiter, TKey key)
    {
        if (!enabled)
        {
            return null;
        }
        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public void Dispose()
    {
        logins.Dispose();
        messages.Dispose();
        typing.Dispose();
    }
}

public static class LimitsServices
{
    public static WebApplicationBuilder AddLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitsOptions>().Bind(builder.Configuration.GetSection(LimitsOptions.Section))
            .Validate(o => o.LoginAttemptsPerMinute > 0 && o.MessagesPerMinute > 0 && o.MaxRequestBodyBytes > 0 && o.MaxSearchResults > 0
                && o.SocketQueueCapacity >= 2 && o.SocketMaxFrameBytes > 0 && o.SocketFramesPerSecond > 0 && o.TypingPerSecond > 0
                && o.SyncReplayMax > 0 && o.SyncReplayMax < o.SocketQueueCapacity && o.SocketKeepAliveSeconds > 0 && o.SocketCloseTimeoutSeconds > 0
                && o.SocketFollowTimeoutSeconds > 0 && o.SocketSweepMilliseconds > 0 && o.ShutdownSocketsSeconds > 0 && o.ShutdownPollMilliseconds > 0
                && o.FeedRetrySeconds > 0 && o.ReconnectCatchUpDelaySeconds > 0 && o.BusCommandTimeoutSeconds > 0
                && o.UnavailableRetryAfterSeconds > 0,
                "Limits must be positive, and SyncReplayMax below SocketQueueCapacity.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RateLimits>();
        var maxBody = builder.Configuration.GetValue<long?>($"{LimitsOptions.Section}:{nameof(LimitsOptions.MaxRequestBodyBytes)}") ?? new LimitsOptions().MaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = maxBody);
        return builder;
    }

    /// <summary>413 problem details for a declared body over <c>Limits:MaxRequestBodyBytes</c> (Kestrel also cuts off undeclared ones).</summary>
    public static WebApplication UseRequestBodyLimit(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var max = context.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxRequestBodyBytes;
            if (context.Request.ContentLength > max)
            {
                await TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large",
                    detail: $"The request body is over the limit of {max} bytes.").ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        return app;
    }
}
