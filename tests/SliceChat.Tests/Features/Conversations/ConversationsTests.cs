using SliceChat.Features;
using System.Net;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Conversations;

public abstract class ConversationsTests(AppFixture fixture)
{
    private Api Api => fixture.Api;

    [Theory]
    [InlineData(ApiRoutes.Conversations)]
    [InlineData(ApiRoutes.ConversationsAlias)]
    public async Task List_DirectAndGroup_NewestActivityFirstWithUnreadCounts(string path)
    {
        var me = await Api.RegisterAsync();
        var friend = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me, false, friend.Id);
        await Api.PostMessageAsync(friend, room, "one");
        await Api.PostMessageAsync(friend, room, "two");
        await Api.As(friend).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = me.Id, content = "psst" });

        var response = await Api.As(me).GetAsync(path);
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var list = (await response.Json()).AsArray();
        list.Count.ShouldBe(2);

        var direct = list[0]!;
        direct.AsObject().Select(p => p.Key).Order().ShouldBe(["chatroom_id", "kind", "last_message", "last_read_seq", "last_seq", "name", "partner", "unread_count", "updated_at"]);
        direct["kind"].Text().ShouldBe("direct");
        direct["name"].Text().ShouldBe(friend.Username);
        direct["partner"]!["id"].Text().ShouldBe(friend.Id.ToString());
        direct["partner"]!["username"].Text().ShouldBe(friend.Username);
        direct["partner"]!.AsObject().Select(p => p.Key).Order().ShouldBe(["id", "status", "username"]);
        direct["partner"]!["status"].Text().ShouldBe("offline"); // no socket open
        direct["last_message"]!["content"].Text().ShouldBe("psst");
        direct["unread_count"]!.GetValue<long>().ShouldBe(1);

        var group = list[1]!;
        group["kind"].Text().ShouldBe("group");
        group["chatroom_id"].Text().ShouldBe(room.ToString());
        group["partner"].ShouldBeNull();
        group["last_seq"]!.GetValue<long>().ShouldBe(2);
        group["last_read_seq"]!.GetValue<long>().ShouldBe(0);
        group["unread_count"]!.GetValue<long>().ShouldBe(2);
        group["last_message"]!["content"].Text().ShouldBe("two");
    }

    [Fact]
    public async Task List_OwnMessages_AreNeverUnread()
    {
        var me = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me);
        await Api.PostMessageAsync(me, room, "mine");
        var list = (await (await Api.As(me).GetAsync(ApiRoutes.ConversationsAlias)).Json()).AsArray();
        list.Single()!["unread_count"]!.GetValue<long>().ShouldBe(0);
        list.Single()!["last_read_seq"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task List_EmptyConversation_HasNullLastMessage()
    {
        var me = await Api.RegisterAsync();
        await Api.CreateRoomAsync(me);
        var list = (await (await Api.As(me).GetAsync(ApiRoutes.ConversationsAlias)).Json()).AsArray();
        list.Single()!["last_message"].ShouldBeNull();
    }

    [Fact]
    public async Task List_WithoutToken_Returns401()
    {
        await (await Api.GetAsync(ApiRoutes.ConversationsAlias)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task MarkRead_MovesForwardOnlyAndNeverPastLastSeq()
    {
        var me = await Api.RegisterAsync();
        var friend = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(friend, false, me.Id);
        for (var i = 0; i < 3; i++)
        {
            await Api.PostMessageAsync(friend, room, $"m{i}");
        }

        async Task<long> LastRead() => (await (await Api.As(me).GetAsync(ApiRoutes.ConversationsAlias)).Json()).AsArray().Single()!["last_read_seq"]!.GetValue<long>();

        (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, room), new { seq = 2 })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await LastRead()).ShouldBe(2);
        (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, room), new { seq = 1 })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await LastRead()).ShouldBe(2);
        (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, room), new { seq = 99 })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await LastRead()).ShouldBe(3);
    }

    [Fact]
    public async Task MarkRead_BadSeq_Returns400_NonMemberOfAPublicRoom403_InvisibleRoom404()
    {
        var me = await Api.RegisterAsync();
        var other = await Api.RegisterAsync();
        var publicRoom = await Api.CreateRoomAsync(other);
        var privateRoom = await Api.CreateRoomAsync(other, isPrivate: true);
        var mine = await Api.CreateRoomAsync(me);
        await (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, mine), new { seq = -1 })).ShouldBeValidationProblem("seq");
        await (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, mine), new { })).ShouldBeValidationProblem("seq");
        await (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, publicRoom), new { seq = 1 })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await Api.As(me).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, privateRoom), new { seq = 1 })).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}

public sealed class PostgresConversationsTests(PostgresApp app) : ConversationsTests(app), IClassFixture<PostgresApp>;

public sealed class SqliteConversationsTests(SqliteApp app) : ConversationsTests(app), IClassFixture<SqliteApp>;
