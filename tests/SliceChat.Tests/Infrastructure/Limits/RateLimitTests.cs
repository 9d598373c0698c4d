using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Tests.Support;
using StackExchange.Redis;

namespace SliceChat.Tests.Infrastructure.Limits;

/// <summary>Settings of an instance with rate limits on: the named ones low, every other one out of the way.</summary>
internal static class LimitSettings
{
    public static Action<Dictionary<string, string?>> With(params (string Name, object Value)[] limits) => s =>
    {
        s["Limits:RateLimitingEnabled"] = "true";
        foreach (var name in new[] { "RegistrationsPerMinute", "LoginsPerAddressPerMinute", "LoginAttemptsPerMinute", "MessagesPerMinute", "WritesPerMinute" })
        {
            s[$"Limits:{name}"] = "100000";
        }
        foreach (var (name, value) in limits)
        {
            s[$"Limits:{name}"] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        }
    };

    /// <summary>429 problem details with a <c>Retry-After</c> of whole seconds, at least 1.</summary>
    public static async Task ShouldBeRateLimited(this HttpResponseMessage response)
    {
        await response.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        var retryAfter = response.Headers.GetValues("Retry-After").ShouldHaveSingleItem();
        int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThanOrEqualTo(1);
    }

    public static object NewUser() => NewUser(Api.UniqueName());

    public static object NewUser(string username) => new { username, email = $"{username}@example.com", password = Api.Password };
}

public sealed class RateLimitTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Register_OverTheLimitFromOneAddress_Returns429_AlsoOnSignup_AnotherAddressStillRegisters()
    {
        var instance = app.StartInstance(LimitSettings.With(("RegistrationsPerMinute", 3)), configureHost: Peers.Enable);
        var a = Peers.From(instance, "192.0.2.1");
        for (var i = 0; i < 3; i++)
        {
            await (await a.PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldHaveStatus(HttpStatusCode.Created);
        }
        await (await a.PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldBeRateLimited();
        await (await a.PostAsync(ApiRoutes.Signup, LimitSettings.NewUser())).ShouldBeRateLimited();
        await (await Peers.From(instance, "192.0.2.2").PostAsync(ApiRoutes.Signup, LimitSettings.NewUser())).ShouldHaveStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Login_WrongPasswordsForManyUsernamesFromOneAddress_Returns429()
    {
        var instance = app.StartInstance(LimitSettings.With(("LoginsPerAddressPerMinute", 5), ("LoginAttemptsPerMinute", 10)), configureHost: Peers.Enable);
        var attacker = Peers.From(instance, "192.0.2.3");
        for (var i = 0; i < 5; i++)
        {
            var response = await attacker.PostAsync(ApiRoutes.Login, new { username = Api.UniqueName(), password = "wrong password" });
            await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
        }
        await (await attacker.PostAsync(ApiRoutes.Login, new { username = Api.UniqueName(), password = "wrong password" })).ShouldBeRateLimited();
        // Another client is not concerned.
        var user = await Peers.From(instance, "192.0.2.4").RegisterAsync();
        user.AccessToken.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Login_AccountAttackedFromAddressA_StillLogsInFromAddressB_BehindTheSameKnownProxy()
    {
        var instance = app.StartInstance(s =>
        {
            LimitSettings.With(("LoginAttemptsPerMinute", 3))(s);
            s["Network:KnownProxies:0"] = "10.0.0.100";
        }, configureHost: Peers.Enable);
        var victim = await Peers.From(instance, "192.0.2.5").RegisterAsync();
        var attacker = Peers.From(instance, "10.0.0.100", forwardedFor: "198.51.100.1");
        for (var i = 0; i < 3; i++)
        {
            await (await attacker.PostAsync(ApiRoutes.Login, new { username = victim.Username, password = "wrong password" })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        }
        await (await attacker.PostAsync(ApiRoutes.Login, new { username = victim.Username, password = victim.Password })).ShouldBeRateLimited();
        await (await attacker.PostAsync(ApiRoutes.Login, new { username = victim.Email, password = victim.Password })).ShouldHaveStatus(HttpStatusCode.OK);

        var owner = Peers.From(instance, "10.0.0.100", forwardedFor: "198.51.100.2");
        await (await owner.PostAsync(ApiRoutes.Login, new { username = victim.Username, password = victim.Password })).ShouldHaveStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Edit_OverTheWriteLimit_Returns429WithRetryAfter_AndChangesNothingMore()
    {
        var instance = app.StartInstance(LimitSettings.With(("WritesPerMinute", 4)));
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(me); // the first write
        var message = (await api.PostMessageAsync(me, room, "draft"))["id"].Text();
        for (var i = 1; i <= 3; i++)
        {
            await (await api.As(me).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, message), new { content = $"edit {i}" })).ShouldHaveStatus(HttpStatusCode.OK);
        }
        await (await api.As(me).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, message), new { content = "one too many" })).ShouldBeRateLimited();
        await (await api.As(me).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, message))).ShouldBeRateLimited();
        var history = await (await api.As(me).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        history["items"]![0]!["content"].Text().ShouldBe("edit 3");
        // Another user has a budget of their own.
        var other = await api.RegisterAsync();
        await api.CreateRoomAsync(other);
    }

    [Fact]
    public async Task SocketReadFrame_OverTheWriteLimit_GetsRateLimitedError_AndTheSocketStaysOpen()
    {
        var instance = app.StartInstance(LimitSettings.With(("WritesPerMinute", 3)));
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(me); // the first write
        await api.PostMessageAsync(me, room, "hello");
        await using var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        for (var i = 0; i < 3; i++)
        {
            await socket.SendAsync(new { type = "read", chatroom_id = room, seq = 1 });
        }
        var error = await socket.NextAsync("error");
        error["code"].Text().ShouldBe("rate_limited");
        error["message"].Text().ShouldContain("retry in");
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
        // REST read markers draw on the same budget.
        await (await api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, room), new { seq = 1 })).ShouldBeRateLimited();
    }

    [Fact]
    public async Task RateLimitingDisabled_NothingIsLimited()
    {
        var instance = app.StartInstance(s =>
        {
            LimitSettings.With(("RegistrationsPerMinute", 1), ("WritesPerMinute", 1))(s);
            s["Limits:RateLimitingEnabled"] = "false";
        });
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        await api.RegisterAsync();
        await api.CreateRoomAsync(me);
        await api.CreateRoomAsync(me);
    }
}

/// <summary>X-Forwarded-For over real TCP (the peer is 127.0.0.1): honoured only from <c>Network:KnownProxies</c>.</summary>
public sealed class ForwardedForTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    private static HttpClient Client(AppFactory instance, string forwardedFor)
    {
        var client = new HttpClient { BaseAddress = ChatSocket.KestrelAddress(instance, "http") };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }

    [Fact]
    public async Task ForwardedFor_FromAKnownProxy_PartitionsByTheForwardedAddress()
    {
        var instance = app.StartInstance(s =>
        {
            LimitSettings.With(("RegistrationsPerMinute", 2))(s);
            s["Network:KnownProxies:0"] = "127.0.0.1";
        }, kestrel: true);
        using var first = Client(instance, "203.0.113.1");
        using var second = Client(instance, "203.0.113.2");
        var a = new Api(first);
        for (var i = 0; i < 2; i++)
        {
            await (await a.PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldHaveStatus(HttpStatusCode.Created);
        }
        await (await a.PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldBeRateLimited();
        await (await new Api(second).PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldHaveStatus(HttpStatusCode.Created);
    }

    [Fact]
    public async Task ForwardedFor_FromAnUnknownProxy_IsIgnored()
    {
        var instance = app.StartInstance(s =>
        {
            LimitSettings.With(("RegistrationsPerMinute", 2))(s);
            s["Network:KnownProxies:0"] = "10.9.9.9"; // not the peer: loopback is not trusted by default either
        }, kestrel: true);
        using var first = Client(instance, "203.0.113.3");
        using var second = Client(instance, "203.0.113.4");
        for (var i = 0; i < 2; i++)
        {
            await (await new Api(first).PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldHaveStatus(HttpStatusCode.Created);
        }
        await (await new Api(second).PostAsync(ApiRoutes.Register, LimitSettings.NewUser())).ShouldBeRateLimited();
    }
}

/// <summary>Limits held in Redis: what one instance used, another enforces.</summary>
public sealed class SharedRateLimitTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    [Fact]
    public async Task WriteLimit_ConsumedOnInstance1_IsEnforcedOnInstance2()
    {
        var one = new Api(app.StartInstance(LimitSettings.With(("WritesPerMinute", 3))).CreateClient());
        var two = new Api(app.StartInstance(LimitSettings.With(("WritesPerMinute", 3))).CreateClient());
        var me = await one.RegisterAsync();
        for (var i = 0; i < 3; i++)
        {
            await one.CreateRoomAsync(me);
        }
        await (await two.As(me).PostAsync(ApiRoutes.Chatrooms, new { name = "one too many" })).ShouldBeRateLimited();
        await (await one.As(me).PostAsync(ApiRoutes.Chatrooms, new { name = "one too many" })).ShouldBeRateLimited();
    }

    [Fact]
    public async Task MessageLimit_ConsumedOnInstance1_IsEnforcedOnInstance2_OverRestAndSockets()
    {
        var instance = app.StartInstance(LimitSettings.With(("MessagesPerMinute", 2)));
        var one = new Api(instance.CreateClient());
        var twoFactory = app.StartInstance(LimitSettings.With(("MessagesPerMinute", 2)));
        var me = await one.RegisterAsync();
        var room = await one.CreateRoomAsync(me);
        await one.PostMessageAsync(me, room, "one");
        await one.PostMessageAsync(me, room, "two");
        await using var socket = await ChatSocket.ConnectAsync(twoFactory, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        await socket.SendAsync(new { type = "message.send", chatroom_id = room, content = "three", client_message_id = "c3" });
        var error = await socket.NextAsync("error");
        error["code"].Text().ShouldBe("rate_limited");
        error["client_message_id"].Text().ShouldBe("c3");
    }
}

/// <summary>Redis down or hung: each instance limits alone, without failing or slowing requests.</summary>
public sealed class RateLimitRedisOutageTests(ChaosApp app) : IClassFixture<ChaosApp>
{
    [Fact]
    public async Task RedisDown_PerInstanceLimitStillApplies_AndWritesBelowItSucceedQuickly()
    {
        var instance = app.StartInstance(LimitSettings.With(("WritesPerMinute", 3)));
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        var redis = instance.Services.GetRequiredService<IConnectionMultiplexer>();
        app.Redis.Stop();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (redis.IsConnected && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            redis.IsConnected.ShouldBeFalse();
            for (var i = 0; i < 3; i++)
            {
                var watch = Stopwatch.StartNew();
                await api.CreateRoomAsync(me);
                watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
            }
            await (await api.As(me).PostAsync(ApiRoutes.Chatrooms, new { name = "one too many" })).ShouldBeRateLimited();
        }
        finally
        {
            app.Redis.Start();
        }
    }

    [Fact]
    public async Task RedisHung_ChecksGiveUpQuickly_AndThePerInstanceLimitApplies()
    {
        var instance = app.StartInstance(s =>
        {
            LimitSettings.With(("WritesPerMinute", 3))(s);
            s["Limits:RateLimitRedisTimeoutMilliseconds"] = "100";
            s["Limits:RateLimitFallbackSeconds"] = "30";
        });
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        using (var admin = await ConnectionMultiplexer.ConnectAsync(app.Redis.Configuration + ",allowAdmin=true"))
        {
            // Every client's commands wait for 5 s; the connection stays up.
            await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "5000", "ALL");
        }
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            await api.CreateRoomAsync(me);
        }
        await (await api.As(me).PostAsync(ApiRoutes.Chatrooms, new { name = "one too many" })).ShouldBeRateLimited();
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(4));
    }
}
