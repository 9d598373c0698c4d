using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Tests.Support;
using StackExchange.Redis;

namespace SliceChat.Tests.Features.Realtime;

/// <summary><c>Limits:SocketsPerUser</c> when Redis stops answering for a while: what it missed is caught up, not left to expire.</summary>
public sealed class SocketSlotOutageTests(ChaosApp app) : IClassFixture<ChaosApp>
{
    [Fact]
    public async Task SocketsClosedWhileRedisHung_FreeTheirSlotsOnceItAnswers_SoTheUserReconnectsAtOnce()
    {
        var instance = app.StartInstance(s =>
        {
            s["Limits:SocketsPerUser"] = "3";
            s["Limits:RateLimitFallbackSeconds"] = "1";
        }, kestrel: true);
        var me = await new Api(instance.CreateClient()).RegisterAsync();
        var redis = instance.Services.GetRequiredService<IConnectionMultiplexer>();
        var key = instance.Services.GetRequiredService<ChannelNames>().SocketSlots(me.Id);
        var sockets = new List<ChatSocket>();
        for (var i = 0; i < 3; i++)
        {
            sockets.Add(await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.UserSocket, me.AccessToken));
        }
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);

        app.Redis.Pause();
        try
        {
            // The first release times out, which pauses this instance's use of Redis; the next two come during the pause.
            await sockets[0].DisposeAsync();
            await Task.Delay(500);
            await sockets[1].DisposeAsync();
            await sockets[2].DisposeAsync();
        }
        finally
        {
            app.Redis.Resume();
        }
        await Task.Delay(1500); // past the pause; the slots' lifetime (30 s) is far off

        for (var i = 0; i < 3; i++)
        {
            sockets[i] = await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
        }
        (await ChatSocket.HandshakeStatusAsync(instance, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);
        await ChatSocket.DisposeAllAsync(sockets);
    }
}
