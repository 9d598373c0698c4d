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

    [Fact]
    public async Task SocketsClosedOnOneInstanceWhileRedisHung_FreeTheirSlotsOnceItAnswers_SoTheUserReconnectsOnAnotherAtOnce()
    {
        static void Settings(Dictionary<string, string?> s)
        {
            s["Limits:SocketsPerUser"] = "3";
            s["Limits:RateLimitFallbackSeconds"] = "1";
            // A slot lives 90 s, so the closing instance's next renewal (which also settles) is up to 30 s away.
            s["Limits:SocketSlotSeconds"] = "120";
            s["Presence:TimeoutSeconds"] = "120";
        }
        var a = app.StartInstance(Settings, kestrel: true);
        var b = app.StartInstance(Settings, kestrel: true);
        var me = await new Api(a.CreateClient()).RegisterAsync();
        var redis = a.Services.GetRequiredService<IConnectionMultiplexer>();
        var key = a.Services.GetRequiredService<ChannelNames>().SocketSlots(me.Id);
        var sockets = new List<ChatSocket>();
        for (var i = 0; i < 3; i++)
        {
            sockets.Add(await ChatSocket.ReadyKestrelAsync(b, ApiRoutes.UserSocket, me.AccessToken));
        }
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);

        app.Redis.Pause();
        try
        {
            // The first release times out, which pauses b's use of Redis; the next two come during the pause.
            await sockets[0].DisposeAsync();
            await Task.Delay(500);
            await sockets[1].DisposeAsync();
            await sockets[2].DisposeAsync();
        }
        finally
        {
            app.Redis.Resume();
        }
        await Task.Delay(2000); // past b's pause of 1 s

        // a has no release of its own to settle for them: b settled its own once its pause was over.
        for (var i = 0; i < 3; i++)
        {
            sockets[i] = await ChatSocket.ReadyKestrelAsync(a, ApiRoutes.UserSocket, me.AccessToken);
        }
        (await ChatSocket.HandshakeStatusAsync(a, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);
        await ChatSocket.DisposeAllAsync(sockets);
    }
}
