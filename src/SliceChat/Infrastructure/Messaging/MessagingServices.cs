using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;

namespace SliceChat.Infrastructure.Messaging;

public static class MessagingServices
{
    /// <summary>The Redis bus when <c>Redis:Configuration</c> is set; otherwise the in-process bus.</summary>
    public static WebApplicationBuilder AddMessaging(this WebApplicationBuilder builder)
    {
        var redis = builder.Configuration["Redis:Configuration"];
        var prefix = builder.Configuration["Redis:ChannelPrefix"];
        builder.Services.AddSingleton(new ChannelNames(string.IsNullOrWhiteSpace(prefix) ? "slicechat" : prefix));
        if (!string.IsNullOrWhiteSpace(redis))
        {
            builder.Services.AddSingleton<IMessageBus>(sp => new RedisMessageBus(redis, sp.GetRequiredService<ILogger<RedisMessageBus>>(),
                TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<LimitsOptions>>().Value.BusCommandTimeoutSeconds)));
        }
        else
        {
            builder.Services.AddSingleton(InProcessBroker.Shared);
            builder.Services.AddSingleton<IMessageBus, InProcessMessageBus>();
        }
        return builder;
    }
}
