using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SliceChat.Features;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Tests.Support;
using StackExchange.Redis;

namespace SliceChat.Tests.Features.Realtime;

/// <summary>
/// <c>Limits:SocketsPerUser</c>: a user's open sockets, counted across instances and sessions. PostgreSQL and Redis,
/// instances on Kestrel.
/// </summary>
public sealed class SocketsPerUserTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    /// <summary>A WebSocket handshake that the server is expected to refuse, as plain HTTP, so its problem body can be read.</summary>
    private static async Task<HttpResponseMessage> RefusedHandshakeAsync(AppFactory instance, string path, string token)
    {
        using var http = new HttpClient { BaseAddress = ChatSocket.KestrelAddress(instance, "http") };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{path}?token={token}");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task SocketsPerUser_21stSocketGets429_AlsoWhenThe20AreSpreadOverTwoInstances_WithRateLimitingOff()
    {
        var a = app.StartInstance(kestrel: true);
        var b = app.StartInstance(kestrel: true);
        a.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.RateLimitingEnabled.ShouldBeFalse();
        var api = new Api(a.CreateClient());
        var me = await api.RegisterAsync();
        var other = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(me);
        var sockets = new List<ChatSocket>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                // User sockets and room sockets, over both instances: all count.
                sockets.Add(await ChatSocket.ReadyKestrelAsync(i % 2 == 0 ? a : b, i % 4 == 3 ? ApiRoutes.Fill(ApiRoutes.RoomSocket, room) : ApiRoutes.UserSocket, me.AccessToken));
            }
            foreach (var instance in new[] { a, b })
            {
                using var refused = await RefusedHandshakeAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
                var problem = await refused.ShouldBeProblem(HttpStatusCode.TooManyRequests);
                problem["detail"].Text().ShouldContain("20 sockets");
                refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThan(0);
            }
            // Another user's sockets are not affected.
            sockets.Add(await ChatSocket.ReadyKestrelAsync(b, ApiRoutes.UserSocket, other.AccessToken));
        }
        finally
        {
            await ChatSocket.DisposeAllAsync(sockets);
        }
    }

    [Fact]
    public async Task SocketsPerUser_ClosingASocketFreesItsSlotAtOnce_OnEveryInstance()
    {
        var a = app.StartInstance(s => s["Limits:SocketsPerUser"] = "3", kestrel: true);
        var b = app.StartInstance(s => s["Limits:SocketsPerUser"] = "3", kestrel: true);
        var me = await new Api(a.CreateClient()).RegisterAsync();
        var sockets = new List<ChatSocket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                sockets.Add(await ChatSocket.ReadyKestrelAsync(a, ApiRoutes.UserSocket, me.AccessToken));
            }
            (await ChatSocket.HandshakeStatusAsync(b, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);

            await sockets[0].DisposeAsync();
            sockets.RemoveAt(0);
            sockets.Add(await ChatSocket.ReadyKestrelAsync(b, ApiRoutes.UserSocket, me.AccessToken));
            (await ChatSocket.HandshakeStatusAsync(a, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);
        }
        finally
        {
            await ChatSocket.DisposeAllAsync(sockets);
        }
    }

    [Fact]
    public async Task SocketsPerUser_SlotsNobodyRenewsExpire_OpenSocketsStayCounted()
    {
        var a = app.StartInstance(s =>
        {
            s["Limits:SocketsPerUser"] = "2";
            s["Limits:SocketSlotSeconds"] = "3";
        }, kestrel: true);
        var me = await new Api(a.CreateClient()).RegisterAsync();

        // Two slots of an instance that died: in Redis, and nobody renews them.
        var redis = a.Services.GetRequiredService<IConnectionMultiplexer>();
        var key = a.Services.GetRequiredService<ChannelNames>().SocketSlots(me.Id);
        var now = (DateTimeOffset)await redis.GetServer(redis.GetEndPoints()[0]).TimeAsync();
        var expiry = now.AddSeconds(2).ToUnixTimeMilliseconds();
        await redis.GetDatabase().SortedSetAddAsync(key, [new SortedSetEntry("dead-1", expiry), new SortedSetEntry("dead-2", expiry)]);
        (await ChatSocket.HandshakeStatusAsync(a, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);

        await Task.Delay(2500);
        await using var first = await ChatSocket.ReadyKestrelAsync(a, ApiRoutes.UserSocket, me.AccessToken);
        await using var second = await ChatSocket.ReadyKestrelAsync(a, ApiRoutes.UserSocket, me.AccessToken);
        await Task.Delay(4000); // past the slots' lifetime: the instance has renewed them
        (await ChatSocket.HandshakeStatusAsync(a, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);
        (await redis.GetDatabase().SortedSetLengthAsync(key)).ShouldBe(2);
    }
}

/// <summary><c>Limits:SocketsPerUser</c> without Redis: the instance counts its own sockets.</summary>
public sealed class SocketsPerUserWithoutRedisTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task SocketsPerUser_WithoutRedis_RefusesOneMoreWith429_AndAClosedSocketFreesItsSlot()
    {
        var instance = app.StartInstance(s => s["Limits:SocketsPerUser"] = "2", kestrel: true);
        var me = await new Api(instance.CreateClient()).RegisterAsync();
        var first = await ChatSocket.ConnectKestrelAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
        await first.NextAsync("ready");
        await using var second = await ChatSocket.ConnectKestrelAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
        await second.NextAsync("ready");
        (await ChatSocket.HandshakeStatusAsync(instance, ApiRoutes.UserSocket, me.AccessToken)).ShouldBe(429);

        await first.DisposeAsync();
        await using var third = await ChatSocket.ConnectKestrelAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
        await third.NextAsync("ready");
    }
}
