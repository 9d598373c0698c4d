using SliceChat.Features;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Realtime;

/// <summary>The socket protocol on one instance (PostgreSQL, in-process bus, in-memory test server).</summary>
public sealed class SocketTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private Api Api => app.Api;

    private static bool IsMessage(JsonNode frame, string content) =>
        frame["type"]?.GetValue<string>() == "message.created" && frame["content"]?.GetValue<string>() == content;

    /// <summary>A Kestrel that renamed them would keep every browser socket's token (1.8 KB) for the socket's life.</summary>
    [Fact]
    public void KestrelHasTheRequestLineFieldsThatAnAcceptedSocketClears() =>
        SliceChat.Features.Realtime.Socket.SocketSession.KestrelRequestLine.Available.ShouldBeTrue();

    [Fact]
    public async Task UserSocket_SaysReadyFirst_ThenCarriesMessagesOfEveryConversation()
    {
        var me = await Api.RegisterAsync();
        var friend = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(friend, false, me.Id);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);

        var ready = await socket.NextAsync(_ => true);
        ready["type"].Text().ShouldBe("ready");
        ready["user_id"].Text().ShouldBe(me.Id.ToString());
        Guid.TryParse(ready["connection_id"].Text(), out _).ShouldBeTrue();

        await Api.PostMessageAsync(friend, room, "to the room");
        var created = await socket.NextAsync(f => IsMessage(f, "to the room"));
        created["seq"]!.GetValue<long>().ShouldBe(1);
        created["chatroom_id"].Text().ShouldBe(room.ToString());
        created["sender_username"].Text().ShouldBe(friend.Username);

        await Api.As(friend).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = me.Id, content = "direct" });
        (await socket.NextAsync(f => IsMessage(f, "direct")))["recipient_id"].Text().ShouldBe(me.Id.ToString());
    }

    [Fact]
    public async Task UserSocket_FollowsJoinsAndLeavesLive()
    {
        var me = await Api.RegisterAsync();
        var owner = await Api.RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");

        var room = await Api.CreateRoomAsync(owner);
        await Api.PostMessageAsync(owner, room, "before I joined");
        await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room));
        await Api.PostMessageAsync(owner, room, "after I joined");
        var first = await socket.NextAsync("message.created");
        first["content"].Text().ShouldBe("after I joined");

        await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, me.Id));
        (await socket.NextAsync("member.left"))["user_id"].Text().ShouldBe(me.Id.ToString());
        await Api.PostMessageAsync(owner, room, "after I was removed");
        (await socket.DrainAsync(TimeSpan.FromMilliseconds(500))).ShouldNotContain(f => IsMessage(f, "after I was removed"));
        socket.IsClosed.ShouldBeFalse();
    }

    [Fact]
    public async Task NewDirectConversation_ReachesRecipientSocketWithItsFirstMessage()
    {
        var me = await Api.RegisterAsync();
        var stranger = await Api.RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        await Api.As(stranger).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = me.Id, content = "first contact" });
        (await socket.NextAsync(f => IsMessage(f, "first contact")))["seq"]!.GetValue<long>().ShouldBe(1);
    }

    [Theory]
    [InlineData(ApiRoutes.RoomSocket)]
    [InlineData(ApiRoutes.RoomSocketAlias)]
    public async Task RoomSocket_GetsOnlyItsRoom_AndPostsWithUntypedFrame(string path)
    {
        var me = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me);
        var other = await Api.CreateRoomAsync(me);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(path, room), me.AccessToken);
        await socket.NextAsync("ready");

        await Api.PostMessageAsync(me, other, "elsewhere");
        await socket.SendAsync(new { content = "via socket", client_message_id = "s-1" });
        var created = await socket.NextAsync("message.created");
        created["content"].Text().ShouldBe("via socket");
        created["chatroom_id"].Text().ShouldBe(room.ToString());
        created["client_message_id"].Text().ShouldBe("s-1");

        var history = await (await Api.As(me).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        history["items"]!.AsArray().Single()!["content"].Text().ShouldBe("via socket");
    }

    [Fact]
    public async Task RoomSocket_RemovedFromRoom_ClosesWith4403()
    {
        var owner = await Api.RegisterAsync();
        var me = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, true, me.Id);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken);
        await socket.NextAsync("ready");
        await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, me.Id));
        (await socket.NextAsync("member.left"))["user_id"].Text().ShouldBe(me.Id.ToString());
        ((int?)await socket.ClosedAsync(TimeSpan.FromSeconds(2))).ShouldBe(4403);
    }

    [Fact]
    public async Task RoomDeleted_EventReachesSocketsThenRoomSocketCloses()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await using var roomSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await using var userSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, owner.AccessToken);
        await roomSocket.NextAsync("ready");
        await userSocket.NextAsync("ready");
        await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room));
        (await roomSocket.NextAsync("chatroom.deleted"))["chatroom_id"].Text().ShouldBe(room.ToString());
        (await userSocket.NextAsync("chatroom.deleted"))["chatroom_id"].Text().ShouldBe(room.ToString());
        ((int?)await roomSocket.ClosedAsync()).ShouldBe(4403);
        userSocket.IsClosed.ShouldBeFalse();
    }

    /// <summary>Two members of one room, each with a ready user socket (the caller disposes them).</summary>
    private async Task<(Account Me, Account Friend, Guid Room, ChatSocket Mine, ChatSocket Theirs)> TwoMembersOnUserSocketsAsync()
    {
        var me = await Api.RegisterAsync();
        var friend = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me, false, friend.Id);
        var mine = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        var theirs = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, friend.AccessToken);
        await mine.NextAsync("ready");
        await theirs.NextAsync("ready");
        return (me, friend, room, mine, theirs);
    }

    [Fact]
    public async Task Typing_AfterARename_CarriesTheCurrentName()
    {
        var (me, friend, room, mine, theirs) = await TwoMembersOnUserSocketsAsync();
        await using var _ = mine;
        await using var __ = theirs;

        var renamed = Api.UniqueName("renamed");
        await (await Api.As(me).PatchAsync(ApiRoutes.Me, new { username = renamed, current_password = me.Password })).ShouldHaveStatus(System.Net.HttpStatusCode.OK);
        await mine.SendAsync(new { type = "typing", chatroom_id = room });
        (await theirs.NextAsync("typing"))["username"].Text().ShouldBe(renamed);
    }

    [Fact]
    public async Task MessageSendFrame_TypingReadPingAndSync_Work()
    {
        var (me, friend, room, mine, theirs) = await TwoMembersOnUserSocketsAsync();
        await using var _ = mine;
        await using var __ = theirs;

        await mine.SendAsync(new { type = "message.send", chatroom_id = room, content = "typed frame" });
        (await theirs.NextAsync("message.created"))["content"].Text().ShouldBe("typed frame");

        await mine.SendAsync(new { type = "typing", chatroom_id = room });
        var typing = await theirs.NextAsync("typing");
        typing["user_id"].Text().ShouldBe(me.Id.ToString());
        typing["username"].Text().ShouldBe(me.Username);
        typing["chatroom_id"].Text().ShouldBe(room.ToString());

        await theirs.SendAsync(new { type = "read", chatroom_id = room, seq = 1 });
        var read = await mine.NextAsync("read");
        read["user_id"].Text().ShouldBe(friend.Id.ToString());
        read["seq"]!.GetValue<long>().ShouldBe(1);

        await mine.SendAsync(new { type = "ping" });
        await mine.NextAsync("pong");

        await Api.PostMessageAsync(friend, room, "second");
        await mine.NextAsync(f => IsMessage(f, "second"));
        // The socket had both live: a sync does not send them again (each message once per socket).
        await mine.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
        (await mine.DrainAsync(TimeSpan.FromMilliseconds(500))).ShouldNotContain(f => f["type"]!.GetValue<string>() == "message.created");
        await Api.PostMessageAsync(friend, room, "third");
        (await mine.NextAsync("message.created"))["seq"]!.GetValue<long>().ShouldBe(3);
    }

    [Fact]
    public async Task Reconnect_ThenSync_ReplaysOnlyWhatTheNewSocketMissed_NothingItHadLiveAgain()
    {
        var (me, friend, room, mine, theirs) = await TwoMembersOnUserSocketsAsync();
        await using var _ = mine;
        foreach (var n in Enumerable.Range(1, 2))
        {
            await Api.PostMessageAsync(friend, room, $"before {n}");
            await theirs.NextAsync(f => IsMessage(f, $"before {n}"));
        }
        await theirs.DisposeAsync(); // the client had seqs 1 and 2
        await Api.PostMessageAsync(me, room, "while away");

        await using var again = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, friend.AccessToken);
        await again.NextAsync("ready");
        await Api.PostMessageAsync(me, room, "after the reconnect");
        await again.NextAsync(f => IsMessage(f, "after the reconnect"));
        await again.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 2 });
        var replayed = await again.NextAsync("message.created");
        replayed["seq"]!.GetValue<long>().ShouldBe(3);
        replayed["content"].Text().ShouldBe("while away");
        (await again.DrainAsync(TimeSpan.FromMilliseconds(500))).ShouldNotContain(f => f["type"]!.GetValue<string>() == "message.created");

        // From the start: only what this socket never had, once, however often it asks.
        await again.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
        await again.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
        (await again.DrainAsync(TimeSpan.FromMilliseconds(500))).Where(f => f["type"]!.GetValue<string>() == "message.created")
            .Select(f => f["seq"]!.GetValue<long>()).ShouldBe([1L, 2L]);
    }

    [Fact]
    public async Task BadFrames_GetErrorEvents_StoreNothing_AndSocketSurvives()
    {
        var me = await Api.RegisterAsync();
        var owner = await Api.RegisterAsync();
        var mine = await Api.CreateRoomAsync(me);
        var notMine = await Api.CreateRoomAsync(owner);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");

        async Task<string> ErrorCodeOf(string text)
        {
            await socket.SendTextAsync(text);
            return (await socket.NextAsync("error"))["code"].Text();
        }

        (await ErrorCodeOf("not json")).ShouldBe("invalid_json");
        (await ErrorCodeOf("[1,2]")).ShouldBe("invalid_json");
        (await ErrorCodeOf("""{"type":"launch.rockets"}""")).ShouldBe("unknown_type");
        (await ErrorCodeOf("""{"type":"message.send","content":"no room"}""")).ShouldBe("validation_failed");
        (await ErrorCodeOf("""{"type":"read","chatroom_id":"not-a-guid","seq":1}""")).ShouldBe("invalid_json");
        (await ErrorCodeOf("""{"type":"read","chatroom_id":"00000000-0000-0000-0000-000000000001","seq":"one"}""")).ShouldBe("invalid_json");
        (await ErrorCodeOf($$"""{"type":"message.send","chatroom_id":"{{mine}}","content":"   "}""")).ShouldBe("validation_failed");
        (await ErrorCodeOf($$"""{"type":"message.send","chatroom_id":"{{mine}}","content":"{{new string('x', 4001)}}"}""")).ShouldBe("validation_failed");
        (await ErrorCodeOf($$"""{"type":"message.send","chatroom_id":"{{mine}}","content":"nul \u0000 inside"}""")).ShouldBe("validation_failed");
        (await ErrorCodeOf($$"""{"type":"message.send","chatroom_id":"{{notMine}}","content":"intrude"}""")).ShouldBe("forbidden");
        (await ErrorCodeOf($$"""{"recipient_id":"{{me.Id}}","content":"myself"}""")).ShouldBe("validation_failed");
        (await ErrorCodeOf($$"""{"type":"typing","chatroom_id":"{{notMine}}"}""")).ShouldBe("forbidden");
        (await ErrorCodeOf("""{"content":"untyped on a user socket"}""")).ShouldBe("unknown_frame");
        var errorWithId = await Task.Run(async () =>
        {
            await socket.SendTextAsync($$"""{"type":"message.send","chatroom_id":"{{mine}}","content":"","client_message_id":"bad-1"}""");
            return await socket.NextAsync("error");
        });
        errorWithId["client_message_id"].Text().ShouldBe("bad-1");

        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
        foreach (var room in new[] { mine, notMine })
        {
            var history = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).Json();
            history["last_seq"]!.GetValue<long>().ShouldBe(0);
        }
    }

    [Fact]
    public async Task UnreadableFrames_AnswerInvalidJsonInOurWords_AndStoreNothing()
    {
        var me = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken);
        await socket.NextAsync("ready");

        await socket.SendTextAsync("""{"type":"read","chatroom_id":"not-a-guid","seq":1}""");
        var wrongType = await socket.NextAsync("error");
        wrongType["code"].Text().ShouldBe("invalid_json");
        wrongType["message"].Text().ShouldBe("The frame's chatroom_id is not of the expected JSON type.");

        // The reader skips a property name nobody reads without looking at its bytes; the rest would be a room send.
        byte[] notUtf8 = [.. """{"con"""u8, 0xFF, .. """tent":1,"content":"stored?"}"""u8];
        await socket.Socket.SendAsync(notUtf8, WebSocketMessageType.Text, true, CancellationToken.None);
        var error = await socket.NextAsync("error");
        error["code"].Text().ShouldBe("invalid_json");
        error["message"].Text().ShouldBe("The frame is not UTF-8 text.");

        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
        (await (await Api.As(me).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).Json())["last_seq"]!.GetValue<long>().ShouldBe(0);
    }

    [Fact]
    public async Task OversizedFrame_ClosesWith1009()
    {
        var me = await Api.RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        await socket.SendTextAsync($$"""{"type":"ping","pad":"{{new string('x', 17 * 1024)}}"}""");
        (await socket.ClosedAsync()).ShouldBe(WebSocketCloseStatus.MessageTooBig);
    }

    [Fact]
    public async Task FrameOfExactly16KiB_IsAccepted()
    {
        var me = await Api.RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        var prefix = """{"type":"ping","pad":""";
        var text = prefix + "\"" + new string('x', 16 * 1024 - prefix.Length - 3) + "\"}";
        text.Length.ShouldBe(16 * 1024);
        await socket.SendTextAsync(text);
        await socket.NextAsync("pong");
    }

    /// <summary>A removal whose member.left the socket never saw (deleted behind the events' back here).</summary>
    private async Task RemoveSilentlyAsync(Guid room, Guid userId)
    {
        await using var scope = app.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SliceChat.Infrastructure.Persistence.ChatDbContext>();
        await db.Members.Where(m => m.ChatroomId == room && m.UserId == userId).ExecuteDeleteAsync();
    }

    [Fact]
    public async Task Sync_AfterAnUnseenRemoval_ReplaysNothing_AndStopsFollowing()
    {
        var (me, friend, room, mine, theirs) = await TwoMembersOnUserSocketsAsync();
        await using var _ = mine;
        await using var __ = theirs;
        await Api.PostMessageAsync(me, room, "before");
        await theirs.NextAsync(f => IsMessage(f, "before"));

        await RemoveSilentlyAsync(room, friend.Id);
        await theirs.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
        (await theirs.NextAsync("error"))["code"].Text().ShouldBe("forbidden");
        await Api.PostMessageAsync(me, room, "after");
        await mine.NextAsync(f => IsMessage(f, "after"));
        (await theirs.DrainAsync(TimeSpan.FromMilliseconds(500))).ShouldNotContain(f => f["type"]!.GetValue<string>() == "message.created");
        theirs.IsClosed.ShouldBeFalse();
    }

    [Fact]
    public async Task RoomSocket_SyncAfterAnUnseenRemoval_ClosesWith4403()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, true, member.Id);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), member.AccessToken);
        await socket.NextAsync("ready");

        await RemoveSilentlyAsync(room, member.Id);
        await socket.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
        ((int?)await socket.ClosedAsync(TimeSpan.FromSeconds(3))).ShouldBe(4403);
    }

    [Fact]
    public async Task FollowFromTheBus_ForANonMember_IsIgnored()
    {
        var me = await Api.RegisterAsync();
        var owner = await Api.RegisterAsync();
        var privateRoom = await Api.CreateRoomAsync(owner, isPrivate: true);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");

        // A follow nobody entitled them to: a bus message is no proof of membership.
        var bus = app.App.Services.GetRequiredService<SliceChat.Infrastructure.Messaging.IMessageBus>();
        var channels = app.App.Services.GetRequiredService<SliceChat.Infrastructure.Messaging.ChannelNames>();
        await bus.PublishAsync(channels.User(me.Id), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
            new SliceChat.Infrastructure.Conversations.FollowConversation(privateRoom, 0,
                new SliceChat.Infrastructure.Conversations.MemberChange(privateRoom, me.Id, me.Username)), SliceChat.Infrastructure.Slices.SliceServices.JsonOptions));
        await Task.Delay(300);
        await Api.PostMessageAsync(owner, privateRoom, "secret");

        var frames = await socket.DrainAsync(TimeSpan.FromMilliseconds(700));
        frames.ShouldNotContain(f => IsMessage(f, "secret"));
        frames.ShouldNotContain(f => f["chatroom_id"] != null && f["chatroom_id"]!.GetValue<string>() == privateRoom.ToString());
    }

    [Fact]
    public async Task Logout_ClosesSocketWith4401()
    {
        var me = await Api.RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        await Api.As(me).PostAsync(ApiRoutes.Logout);
        ((int?)await socket.ClosedAsync(TimeSpan.FromSeconds(2))).ShouldBe(4401);
    }

    [Fact]
    public async Task ExpiredToken_ClosesSocketWith4401_UnlessRefreshedInBand()
    {
        var me = await Api.RegisterAsync();
        var shortLived = Tokens.Issue(app.App, me, TimeSpan.FromSeconds(2));
        await using var refreshed = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, shortLived);
        await using var expiring = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, shortLived);
        await refreshed.NextAsync("ready");
        await expiring.NextAsync("ready");

        await refreshed.SendAsync(new { type = "auth", token = me.AccessToken });
        ((int?)await expiring.ClosedAsync(TimeSpan.FromSeconds(5))).ShouldBe(4401);
        await refreshed.SendAsync(new { type = "ping" });
        await refreshed.NextAsync("pong");
        refreshed.IsClosed.ShouldBeFalse();

        await refreshed.SendAsync(new { type = "auth", token = "garbage" });
        (await refreshed.NextAsync("error"))["code"].Text().ShouldBe("invalid_token");
    }

    [Fact]
    public async Task Shutdown_ClosesSocketsWith1001()
    {
        var instance = app.StartInstance();
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        var stopping = instance.DisposeAsync().AsTask();
        (await socket.ClosedAsync(TimeSpan.FromSeconds(5))).ShouldBe(WebSocketCloseStatus.EndpointUnavailable);
        await stopping;
    }

    [Fact]
    public async Task FrameFlood_GetsRateLimitedErrors_AndTheSocketSurvives()
    {
        var limited = app.StartInstance(s =>
        {
            s["Limits:RateLimitingEnabled"] = "true";
            s["Limits:SocketFramesPerSecond"] = "5";
        });
        var me = await new Api(limited.CreateClient()).RegisterAsync();
        await using var socket = await ChatSocket.ConnectAsync(limited, ApiRoutes.UserSocket, me.AccessToken);
        await socket.NextAsync("ready");
        for (var i = 0; i < 40; i++)
        {
            await socket.SendAsync(new { type = "ping" });
        }
        var frames = await socket.DrainAsync(TimeSpan.FromMilliseconds(500));
        var pongs = frames.Count(f => f["type"]!.GetValue<string>() == "pong");
        var limitedErrors = frames.Count(f => f["type"]!.GetValue<string>() == "error" && f["code"]!.GetValue<string>() == "rate_limited");
        (pongs + limitedErrors).ShouldBe(40);
        pongs.ShouldBeInRange(10, 15); // a burst of twice the rate, plus what refills meanwhile
        limitedErrors.ShouldBeGreaterThan(0);

        await Task.Delay(1100);
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync("pong");
    }

    [Fact]
    public async Task TypingFlood_IsLimitedPerUserAndRoom()
    {
        var limited = app.StartInstance(s =>
        {
            s["Limits:RateLimitingEnabled"] = "true";
            s["Limits:TypingPerSecond"] = "2";
        });
        var api = new Api(limited.CreateClient());
        var me = await api.RegisterAsync();
        var friend = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(me, false, friend.Id);
        await using var mine = await ChatSocket.ConnectAsync(limited, ApiRoutes.UserSocket, me.AccessToken);
        await using var theirs = await ChatSocket.ConnectAsync(limited, ApiRoutes.UserSocket, friend.AccessToken);
        await mine.NextAsync("ready");
        await theirs.NextAsync("ready");
        for (var i = 0; i < 6; i++)
        {
            await mine.SendAsync(new { type = "typing", chatroom_id = room });
        }
        var seen = (await theirs.DrainAsync(TimeSpan.FromMilliseconds(500))).Count(f => f["type"]!.GetValue<string>() == "typing");
        seen.ShouldBeInRange(2, 4);
        (await mine.NextAsync("error"))["code"].Text().ShouldBe("rate_limited");
    }
}
