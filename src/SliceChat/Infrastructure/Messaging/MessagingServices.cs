using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Messaging;

public static class MessagingServices
{
    /// <summary>The Redis bus (and the Redis connection it shares) when <c>Redis:Configuration</c> is set; otherwise the in-process bus.</summary>
    public static WebApplicationBuilder AddMessaging(this WebApplicationBuilder builder)
    {
        var redis = builder.Configuration["Redis:Configuration"];
        var prefix = builder.Configuration["Redis:ChannelPrefix"];
        builder.Services.AddSingleton(new ChannelNames(string.IsNullOrWhiteSpace(prefix) ? "slicechat" : prefix));
        builder.Services.AddSingleton<GuardedRedis>();
        if (!string.IsNullOrWhiteSpace(redis))
        {
            // One connection for the bus, the rate limits and the socket slots.
            builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
            {
                var connection = RedisMessageBus.Connect(redis, TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<LimitsOptions>>().Value.BusCommandTimeoutSeconds));
                sp.GetRequiredService<AppMetrics>().Watch(connection);
                return connection;
            });
            builder.Services.AddSingleton<IMessageBus>(sp => new RedisMessageBus(sp.GetRequiredService<IConnectionMultiplexer>(),
                sp.GetRequiredService<ILogger<RedisMessageBus>>()));
        }
        else
        {
            builder.Services.AddSingleton(InProcessBroker.Shared);
            builder.Services.AddSingleton<IMessageBus, InProcessMessageBus>();
        }
        return builder;
    }
}
