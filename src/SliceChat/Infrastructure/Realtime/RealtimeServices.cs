using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;

namespace SliceChat.Infrastructure.Realtime;

public static class RealtimeServices
{
    public static WebApplicationBuilder AddRealtime(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ConversationFeeds>();
        builder.Services.AddSingleton<SocketSlots>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SocketSlots>());
        builder.Services.AddSingleton<UserSocketFollowers>();
        builder.Services.AddSingleton<ConnectionRegistry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConnectionRegistry>());
        return builder;
    }

    /// <summary>WebSockets with keep-alive pings: a peer that does not answer within the interval is dropped.</summary>
    public static WebApplication UseRealtime(this WebApplication app)
    {
        var keepAlive = TimeSpan.FromSeconds(app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.SocketKeepAliveSeconds);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = keepAlive, KeepAliveTimeout = keepAlive });
        return app;
    }
}
