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
            s["Limits:SocketSlotRedisTimeoutMilliseconds"] = "200"; // the first release gives up during the hang
        }, kestrel: true);
        var me = await new Api(instance.CreateClient()).RegisterAsync();
        var redis = instance.Services.GetRequiredService<IConnectionMultiplexer>();
        var key = instance.Services.GetRequiredService<ChannelNames>().SocketSlots(me.Id);
        var sockets = await OpenThreeAsync(instance, me);
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);

        await CloseWhileRedisHangsAsync(sockets);
        await Task.Delay(1500); // past the pause; the slots' lifetime (30 s) is far off

        sockets = await OpenThreeAsync(instance, me);
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
            s["Limits:SocketSlotRedisTimeoutMilliseconds"] = "200"; // the first release gives up during the hang
            // A slot lives 90 s, so the closing instance's next renewal (which also settles) is up to 30 s away.
            s["Limits:SocketSlotSeconds"] = "120";
            s["Presence:TimeoutSeconds"] = "120";
        }
        var a = app.StartInstance(Settings, kestrel: true);
        var b = app.StartInstance(Settings, kestrel: true);
        var me = await new Api(a.CreateClient()).RegisterAsync();
        var redis = a.Services.GetRequiredService<IConnectionMultiplexer>();
        var key = a.Services.GetRequiredService<ChannelNames>().SocketSlots(me.Id);
        var sockets = await OpenThreeAsync(b, me);
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);

        await CloseWhileRedisHangsAsync(sockets);
        await Task.Delay(2000); // past b's pause of 1 s

        // a has no release of its own to settle for them: b settled its own once its pause was over.
        sockets = await OpenThreeAsync(a, me);
        (await ChatSocket.HandshakeStatusAsync(a, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(3);
        await ChatSocket.DisposeAllAsync(sockets);
    }

    [Fact]
    public async Task ARedisHangShorterThanTheSlotTimeout_LeavesNoClosedSocketCounted_SoTheUserReopensOnAnotherInstanceAtOnce()
    {
        // Limits:SocketSlotRedisTimeoutMilliseconds at its default (2 s). A release that gave up would leave its instance
        // without Redis for Limits:RateLimitFallbackSeconds (5 s), and the sockets closed on it meanwhile counted in Redis.
        static void Settings(Dictionary<string, string?> s) => s["Limits:SocketsPerUser"] = "3";
        var a = app.StartInstance(Settings, kestrel: true);
        var b = app.StartInstance(Settings, kestrel: true);
        var me = await new Api(a.CreateClient()).RegisterAsync();
        var onA = await OpenThreeAsync(a, me);

        Task closing;
        app.Redis.Pause();
        try
        {
            closing = onA[0].DisposeAsync().AsTask();
            await Task.Delay(700); // longer than a rate-limit check waits for Redis (200 ms)
        }
        finally
        {
            app.Redis.Resume();
        }
        await closing;
        await onA[1].DisposeAsync();

        var onB = new List<ChatSocket>
        {
            await ChatSocket.ReadyKestrelAsync(b, ApiRoutes.UserSocket, me.AccessToken),
            await ChatSocket.ReadyKestrelAsync(b, ApiRoutes.UserSocket, me.AccessToken),
        };
        (await ChatSocket.HandshakeStatusAsync(b, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);
        await ChatSocket.DisposeAllAsync([onA[2], .. onB]);
    }

    private static async Task<List<ChatSocket>> OpenThreeAsync(AppFactory instance, Account user)
    {
        var sockets = new List<ChatSocket>();
        for (var i = 0; i < 3; i++)
        {
            sockets.Add(await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.UserSocket, user.AccessToken));
        }
        return sockets;
    }

    /// <summary>The first release times out, which pauses its instance's use of Redis; the others come during the pause.</summary>
    private async Task CloseWhileRedisHangsAsync(List<ChatSocket> sockets)
    {
        app.Redis.Pause();
        try
        {
            await sockets[0].DisposeAsync();
            await Task.Delay(500);
            foreach (var socket in sockets.Skip(1))
            {
                await socket.DisposeAsync();
            }
        }
        finally
        {
            app.Redis.Resume();
        }
    }
}
