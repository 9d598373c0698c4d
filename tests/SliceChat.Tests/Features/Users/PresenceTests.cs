using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using SliceChat.Features;
using SliceChat.Tests.Support;
using Xunit.Abstractions;

namespace SliceChat.Tests.Features.Users;

/// <summary>Presence over two instances on one PostgreSQL and one Redis.</summary>
public sealed class PresenceTests(ScaledOutApp app, ITestOutputHelper output) : IClassFixture<ScaledOutApp>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);

    private static Func<JsonNode, bool> PresenceOf(Account user, string? status = null) => f =>
        f["type"]?.GetValue<string>() == "presence" && f["user_id"].Text() == user.Id.ToString() && (status is null || f["status"].Text() == status);

    /// <summary>A user socket over the in-memory server, once it has said ready.</summary>
    private static async Task<ChatSocket> ReadyAsync(AppFactory instance, Account user)
    {
        var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, user.AccessToken);
        await socket.NextAsync("ready");
        return socket;
    }

    private static async Task StartDirectAsync(Api api, Account from, Account to)
    {
        var sent = await api.As(from).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = to.Id, content = "hi" });
        await sent.ShouldHaveStatus(HttpStatusCode.Created);
    }

    private static async Task<JsonArray> PresenceAsync(Api api, Account caller, params Guid[] ids)
    {
        var response = await api.As(caller).GetAsync($"{ApiRoutes.UsersPresence}?ids={string.Join(',', ids)}");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        return (await response.Json()).AsArray();
    }

    [Fact]
    public async Task Presence_PartnerOpensAndClosesSocketsOnEitherInstance_OnlineAndOfflineSentOncePerChange()
    {
        var (a, b) = (app.StartInstance(), app.StartInstance());
        var api = new Api(a.CreateClient());
        var alice = await api.RegisterAsync();
        var bob = await api.RegisterAsync();
        await StartDirectAsync(api, bob, alice);
        await using var watcher = await ReadyAsync(a, alice);

        var first = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, bob.AccessToken);
        var online = await watcher.NextAsync(PresenceOf(bob));
        online["status"].Text().ShouldBe("online");
        online["last_seen_at"].ShouldNotBeNull();
        var second = await ReadyAsync(a, bob);
        (await watcher.DrainAsync(Quiet)).Where(PresenceOf(bob)).ShouldBeEmpty(); // a second socket changes nothing

        (await PresenceAsync(api, alice, bob.Id)).Single()!["status"].Text().ShouldBe("online");
        var conversations = await (await api.As(alice).GetAsync(ApiRoutes.Conversations)).Json();
        conversations.AsArray().Single()!["partner"]!["status"].Text().ShouldBe("online");

        await first.DisposeAsync();
        (await watcher.DrainAsync(Quiet)).Where(PresenceOf(bob)).ShouldBeEmpty(); // still one socket open, on A
        var closedAt = DateTimeOffset.UtcNow;
        await second.DisposeAsync();
        var offline = await watcher.NextAsync(PresenceOf(bob));
        offline["status"].Text().ShouldBe("offline");
        DateTimeOffset.Parse(offline["last_seen_at"].Text(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(closedAt.AddSeconds(-5), closedAt.AddSeconds(5));
        (await watcher.DrainAsync(Quiet)).Where(PresenceOf(bob)).ShouldBeEmpty();

        var state = (await PresenceAsync(api, alice, bob.Id)).Single()!;
        state["status"].Text().ShouldBe("offline");
        state["last_seen_at"].Text().ShouldBe(offline["last_seen_at"].Text());
        conversations = await (await api.As(alice).GetAsync(ApiRoutes.Conversations)).Json();
        conversations.AsArray().Single()!["partner"]!["status"].Text().ShouldBe("offline");
    }

    [Fact]
    public async Task Presence_ManyUsersComeOnlineAtOnce_EachPartnerHearsOfTheirsAlone()
    {
        var (a, b) = (app.StartInstance(), app.StartInstance());
        var api = new Api(a.CreateClient());
        var pairs = new List<(Account User, Account Partner)>();
        for (var i = 0; i < 20; i++)
        {
            var (user, partner) = (await api.RegisterAsync(), await api.RegisterAsync());
            await StartDirectAsync(api, user, partner);
            pairs.Add((user, partner));
        }
        var watchers = await Task.WhenAll(pairs.Select(p => ReadyAsync(a, p.Partner)));

        // One burst of changes: their partner lookups are batched, and each change still goes to its own user's partners.
        var sockets = await Task.WhenAll(pairs.Select(p => ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, p.User.AccessToken)));
        for (var i = 0; i < pairs.Count; i++)
        {
            (await watchers[i].NextAsync(PresenceOf(pairs[i].User)))["status"].Text().ShouldBe("online");
        }
        for (var i = 0; i < pairs.Count; i++)
        {
            var others = pairs.Where((_, j) => j != i).Select(p => p.User.Id.ToString()).ToHashSet();
            (await watchers[i].DrainAsync(Quiet)).Where(f => f["type"]?.GetValue<string>() == "presence" && others.Contains(f["user_id"].Text()))
                .ShouldBeEmpty();
        }
        foreach (var socket in sockets.Concat(watchers))
        {
            await socket.DisposeAsync();
        }
    }

    [Fact]
    public async Task Presence_SubscribedGroupMemberIsSeen_StrangerNeverIs_UnsubscribeStopsIt()
    {
        var a = app.StartInstance();
        var b = app.StartInstance();
        var api = new Api(a.CreateClient());
        var alice = await api.RegisterAsync();
        var carol = await api.RegisterAsync();
        var stranger = await api.RegisterAsync();
        await api.CreateRoomAsync(alice, false, carol.Id);
        await using var watcher = await ReadyAsync(a, alice);

        // Without a subscription a group member's presence is not sent.
        var early = await ReadyAsync(b, carol);
        await early.DisposeAsync();
        (await watcher.DrainAsync(Quiet)).Where(f => f["type"]?.GetValue<string>() == "presence").ShouldBeEmpty();

        await watcher.SendAsync(new { type = "presence.subscribe", user_ids = new[] { carol.Id, stranger.Id } });
        await Task.Delay(500);
        await using (await ReadyAsync(b, stranger))
        {
        }
        await using (var carolSocket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, carol.AccessToken))
        {
            (await watcher.NextAsync(PresenceOf(carol)))["status"].Text().ShouldBe("online");
        }
        (await watcher.NextAsync(PresenceOf(carol)))["status"].Text().ShouldBe("offline");
        (await watcher.DrainAsync(Quiet)).Where(PresenceOf(stranger)).ShouldBeEmpty();

        await using (var strangerSocket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, stranger.AccessToken))
        {
            await strangerSocket.NextAsync("ready");
            var states = await PresenceAsync(api, alice, carol.Id, stranger.Id);
            states.Select(s => s!["user_id"].Text()).ShouldBe([carol.Id.ToString()]);
        }

        await watcher.SendAsync(new { type = "presence.unsubscribe", user_ids = new[] { carol.Id } });
        await Task.Delay(500);
        await using (await ReadyAsync(b, carol))
        {
        }
        (await watcher.DrainAsync(Quiet)).Where(PresenceOf(carol)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Presence_BadInput_ClearErrors()
    {
        var a = app.StartInstance(s => s["Presence:MaxIds"] = "2");
        var api = new Api(a.CreateClient());
        var alice = await api.RegisterAsync();
        await (await api.As(alice).GetAsync($"{ApiRoutes.UsersPresence}?ids=nope")).ShouldBeValidationProblem("ids");
        await (await api.As(alice).GetAsync(ApiRoutes.UsersPresence)).ShouldBeValidationProblem("ids");
        await (await api.As(alice).GetAsync($"{ApiRoutes.UsersPresence}?ids={Guid.NewGuid()},{Guid.NewGuid()},{Guid.NewGuid()}")).ShouldBeValidationProblem("ids");

        await using var socket = await ReadyAsync(a, alice);
        await socket.SendAsync(new { type = "presence.subscribe", user_ids = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() } });
        (await socket.NextAsync("error"))["code"].Text().ShouldBe("validation_failed");
        await socket.SendAsync(new { type = "presence.subscribe" });
        (await socket.NextAsync("error"))["code"].Text().ShouldBe("validation_failed");
    }

    [Fact]
    public async Task Presence_InstanceThatStopsRenewing_ItsUsersGoOfflineWithinTheTimeout_OnTheOtherInstance()
    {
        const int timeoutSeconds = 4;
        var redis = TestServers.Redis.Split(':');
        await using var link = new TcpProxy(redis[0], int.Parse(redis[1], System.Globalization.CultureInfo.InvariantCulture));
        var a = app.StartInstance(s => s["Presence:TimeoutSeconds"] = $"{timeoutSeconds}");
        // B reaches Redis through a proxy: cutting it stops B's renewals and releases, as if B had died.
        var b = app.StartInstance(s =>
        {
            s["Presence:TimeoutSeconds"] = $"{timeoutSeconds}";
            s["Redis:Configuration"] = $"127.0.0.1:{link.Port},abortConnect=false";
        });
        var api = new Api(a.CreateClient());
        var alice = await api.RegisterAsync();
        var bob = await api.RegisterAsync();
        await StartDirectAsync(api, bob, alice);
        await using var watcher = await ReadyAsync(a, alice);
        await using var bobSocket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, bob.AccessToken);
        (await watcher.NextAsync(PresenceOf(bob)))["status"].Text().ShouldBe("online");
        await Task.Delay(TimeSpan.FromSeconds(timeoutSeconds)); // renewed meanwhile: still online
        (await PresenceAsync(api, alice, bob.Id)).Single()!["status"].Text().ShouldBe("online");

        link.Cut();
        var clock = Stopwatch.StartNew();
        var offline = await watcher.NextAsync(PresenceOf(bob), TimeSpan.FromSeconds(timeoutSeconds + 10));
        clock.Stop();
        output.WriteLine($"offline on the other instance {clock.Elapsed.TotalSeconds:F1} s after the link was cut (Presence:TimeoutSeconds={timeoutSeconds})");
        offline["status"].Text().ShouldBe("offline");
        bobSocket.IsClosed.ShouldBeFalse();
        // Within the timeout, with a margin for a loaded machine.
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(timeoutSeconds + 2));
        (await PresenceAsync(api, alice, bob.Id)).Single()!["status"].Text().ShouldBe("offline");
    }
}

/// <summary>Presence of a single embedded instance: SQLite and the in-process bus.</summary>
public sealed class PresenceWithoutRedisTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Presence_Embedded_PartnerOnlineThenOffline()
    {
        var api = app.Api;
        var alice = await api.RegisterAsync();
        var bob = await api.RegisterAsync();
        await (await api.As(bob).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = alice.Id, content = "hi" })).ShouldHaveStatus(HttpStatusCode.Created);
        await using var watcher = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, alice.AccessToken);
        await watcher.NextAsync("ready");
        var bobSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, bob.AccessToken);
        bool IsBob(JsonNode f) => f["type"]?.GetValue<string>() == "presence" && f["user_id"].Text() == bob.Id.ToString();
        (await watcher.NextAsync(IsBob))["status"].Text().ShouldBe("online");
        var state = await (await api.As(alice).GetAsync($"{ApiRoutes.UsersPresence}?ids={bob.Id}")).Json();
        state.AsArray().Single()!["status"].Text().ShouldBe("online");
        await bobSocket.DisposeAsync();
        (await watcher.NextAsync(IsBob))["status"].Text().ShouldBe("offline");
        state = await (await api.As(alice).GetAsync($"{ApiRoutes.UsersPresence}?ids={bob.Id}")).Json();
        state.AsArray().Single()!["last_seen_at"].ShouldNotBeNull();
    }
}
