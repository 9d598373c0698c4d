using SliceChat.Features;
using System.Net;
using System.Text.Json.Nodes;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Messages;

public abstract class MessagesTests(AppFixture fixture)
{
    private Api Api => fixture.Api;

    private static List<long> Seqs(JsonNode page) => page["items"]!.AsArray().Select(m => m!["seq"]!.GetValue<long>()).ToList();

    [Fact]
    public async Task Send_Member_Returns201MessageWithContractFields()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        var response = await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "hello", client_message_id = "c-1" });

        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var message = (await response.Json()).AsObject();
        message.Select(p => p.Key).Order().ShouldBe(["attachments", "chatroom_id", "client_message_id", "content", "created_at", "deleted_at", "edited_at", "id", "recipient_id", "sender_id", "sender_username", "seq"]);
        message["seq"]!.GetValue<long>().ShouldBe(1);
        message["chatroom_id"].Text().ShouldBe(room.ToString());
        message["sender_username"].Text().ShouldBe(owner.Username);
        message["recipient_id"].ShouldBeNull();
        message["edited_at"].ShouldBeNull();
        message["deleted_at"].ShouldBeNull();
        message["client_message_id"].Text().ShouldBe("c-1");
    }

    [Fact]
    public async Task Send_RepeatedClientMessageId_Returns200WithOriginal()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        var first = await Api.PostMessageAsync(owner, room, "once", "same-id");
        var repeat = await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "once again", client_message_id = "same-id" });

        await repeat.ShouldHaveStatus(HttpStatusCode.OK);
        var original = await repeat.Json();
        original["id"].Text().ShouldBe(first["id"].Text());
        original["content"].Text().ShouldBe("once");
        Seqs(await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json()).ShouldBe([1]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    public async Task Send_BlankContent_Returns400(string content)
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content })).ShouldBeValidationProblem("content");
    }

    [Theory]
    [InlineData("nul \u0000 inside")]
    [InlineData("bell \u0007")]
    [InlineData("escape \u001b[31m")]
    public async Task ControlCharacters_InContentAndNames_Return400AndStoreNothing(string text)
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        var sent = await Api.PostMessageAsync(owner, room, "tabs\tand\r\nnewlines are fine");

        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = text })).ShouldBeValidationProblem("content");
        await (await Api.As(owner).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = (await Api.RegisterAsync()).Id, content = text })).ShouldBeValidationProblem("content");
        await (await Api.As(owner).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, sent["id"].Text()), new { content = text })).ShouldBeValidationProblem("content");
        await (await Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = text })).ShouldBeValidationProblem("name");
        await (await Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = "fine", description = text })).ShouldBeValidationProblem("description");
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "fine", client_message_id = text })).ShouldBeValidationProblem("client_message_id");
        await (await Api.As(owner).GetAsync(ApiRoutes.Users + "?query=" + Uri.EscapeDataString(text))).ShouldBeValidationProblem("query");
        await (await Api.PostAsync(ApiRoutes.Login, new { username = text, password = "whatever it is" })).ShouldBeValidationProblem("username");

        var history = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        history["items"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(["tabs\tand\r\nnewlines are fine"]);
        (await (await Api.As(owner).GetAsync(ApiRoutes.Conversations)).Json()).AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task Send_ContentOver4000_Returns400AndStoresNothing()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = new string('x', 4001) })).ShouldBeValidationProblem("content");
        (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = new string('x', 4000) })).StatusCode.ShouldBe(HttpStatusCode.Created);
        Seqs(await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json()).ShouldBe([1]);
    }

    [Fact]
    public async Task Send_VisibleNonMember_Returns403_InvisibleRoom_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var outsider = await Api.RegisterAsync();
        var publicRoom = await Api.CreateRoomAsync(owner);
        var privateRoom = await Api.CreateRoomAsync(owner, isPrivate: true);
        await (await Api.As(outsider).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, publicRoom), new { content = "hi" })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await Api.As(outsider).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, privateRoom), new { content = "hi" })).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Send_OverTheMessageRate_Returns429WithRetryAfter_AndStoresNothingMore()
    {
        var limited = new Api(fixture.StartInstance(s =>
        {
            s["Limits:RateLimitingEnabled"] = "true";
            s["Limits:MessagesPerMinute"] = "3";
        }).CreateClient());
        var owner = await limited.RegisterAsync();
        var room = await limited.CreateRoomAsync(owner);
        await limited.PostMessageAsync(owner, room, "m0", "original");
        for (var i = 1; i < 3; i++)
        {
            await limited.PostMessageAsync(owner, room, $"m{i}");
        }
        var repeat = await limited.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "m0", client_message_id = "original" });
        await repeat.ShouldHaveStatus(HttpStatusCode.OK); // a retry is answered, never rate limited
        var response = await limited.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "one too many" });
        await response.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter.ShouldNotBeNull();
        var retry = await limited.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "m0 again", client_message_id = "first" });
        await retry.ShouldBeProblem(HttpStatusCode.TooManyRequests); // a new id is a new message: limited
        var dm = await limited.As(owner).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = (await limited.RegisterAsync()).Id, content = "also too many" });
        await dm.ShouldBeProblem(HttpStatusCode.TooManyRequests);
        Seqs(await (await limited.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json()).ShouldBe([1, 2, 3]);
    }

    [Fact]
    public async Task Send_AfterRename_ShowsTheCurrentName()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        var renamed = Api.UniqueName("Renamed");
        (await Api.As(owner).PatchAsync(ApiRoutes.Me, new { username = renamed, current_password = owner.Password })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Api.PostMessageAsync(owner, room, "who am I"))["sender_username"].Text().ShouldBe(renamed);
    }

    [Fact]
    public async Task History_PagesBothWays()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        for (var i = 1; i <= 7; i++)
        {
            await Api.PostMessageAsync(owner, room, $"m{i}");
        }
        var newest = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?limit=3")).Json();
        Seqs(newest).ShouldBe([5, 6, 7]);
        newest["has_more"]!.GetValue<bool>().ShouldBeTrue();
        var older = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?limit=3&before_seq=5")).Json();
        Seqs(older).ShouldBe([2, 3, 4]);
        var oldest = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?limit=3&before_seq=2")).Json();
        Seqs(oldest).ShouldBe([1]);
        oldest["has_more"]!.GetValue<bool>().ShouldBeFalse();
        var newer = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?after_seq=4&limit=2")).Json();
        Seqs(newer).ShouldBe([5, 6]);
        newer["has_more"]!.GetValue<bool>().ShouldBeTrue();
        var caughtUp = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?after_seq=7")).Json();
        Seqs(caughtUp).ShouldBeEmpty();
        caughtUp["has_more"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("before_seq=0", "before_seq")]
    [InlineData("after_seq=-1", "after_seq")]
    public async Task History_BadQuery_Returns400(string query, string field)
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + $"?{query}")).ShouldBeValidationProblem(field);
    }

    [Fact]
    public async Task History_PublicNonMember_Returns403_PrivateOutsider_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var outsider = await Api.RegisterAsync();
        await (await Api.As(outsider).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, await Api.CreateRoomAsync(owner)))).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await Api.As(outsider).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, await Api.CreateRoomAsync(owner, true)))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SendDm_FirstMessage_CreatesConversationVisibleToBoth()
    {
        var alice = await Api.RegisterAsync();
        var bob = await Api.RegisterAsync();
        var response = await Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = bob.Id, content = "hi bob" });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var message = await response.Json();
        message["recipient_id"].Text().ShouldBe(bob.Id.ToString());
        message["seq"]!.GetValue<long>().ShouldBe(1);

        var reply = await Api.As(bob).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = alice.Id, content = "hi alice" });
        (await reply.Json())["chatroom_id"].Text().ShouldBe(message["chatroom_id"].Text());

        var history = await (await Api.As(bob).GetAsync(ApiRoutes.Fill(ApiRoutes.DirectHistory, alice.Id))).Json();
        history["items"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(["hi bob", "hi alice"]);
    }

    [Fact]
    public async Task SendDm_ToSelf_Returns400()
    {
        var alice = await Api.RegisterAsync();
        await (await Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = alice.Id, content = "me" })).ShouldBeValidationProblem("recipient_id");
    }

    [Fact]
    public async Task SendDm_UnknownRecipient_Returns404()
    {
        var alice = await Api.RegisterAsync();
        await (await Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = Guid.NewGuid(), content = "anyone?" })).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SendDm_MissingFields_Returns400()
    {
        var alice = await Api.RegisterAsync();
        await (await Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { })).ShouldBeValidationProblem("content", "recipient_id");
    }

    [Fact]
    public async Task DmHistory_NeverTalked_ReturnsEmptyPage_UnknownUser_Returns404()
    {
        var alice = await Api.RegisterAsync();
        var bob = await Api.RegisterAsync();
        var empty = await (await Api.As(alice).GetAsync(ApiRoutes.Fill(ApiRoutes.DirectHistory, bob.Id))).Json();
        empty["items"]!.AsArray().ShouldBeEmpty();
        empty["has_more"]!.GetValue<bool>().ShouldBeFalse();
        await (await Api.As(alice).GetAsync(ApiRoutes.Fill(ApiRoutes.DirectHistory, Guid.NewGuid()))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Edit_Author_Returns200WithEditedAt_OtherMember_Returns403()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, member.Id);
        var message = await Api.PostMessageAsync(owner, room, "draft");
        var id = message["id"].Text();

        await (await Api.As(member).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, id), new { content = "hijack" })).ShouldBeProblem(HttpStatusCode.Forbidden);
        var edited = await Api.As(owner).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, id), new { content = "final" });
        await edited.ShouldHaveStatus(HttpStatusCode.OK);
        var body = await edited.Json();
        body["content"].Text().ShouldBe("final");
        body["edited_at"].ShouldNotBeNull();
        body["seq"]!.GetValue<long>().ShouldBe(1);
        await (await Api.As(owner).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, id), new { content = " " })).ShouldBeValidationProblem("content");
        await (await Api.As(owner).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, Guid.NewGuid()), new { content = "x" })).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_Author_RemovesContentKeepsSeq_OtherMember_Returns403()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, member.Id);
        var id = (await Api.PostMessageAsync(owner, room, "secret"))["id"].Text();

        await (await Api.As(member).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, id))).ShouldBeProblem(HttpStatusCode.Forbidden);
        (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, id))).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var page = await (await Api.As(member).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        var deleted = page["items"]!.AsArray().Single()!;
        deleted["content"].Text().ShouldBe("");
        deleted["deleted_at"].ShouldNotBeNull();
        deleted["seq"]!.GetValue<long>().ShouldBe(1);
        await (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, id))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EditDelete_MessageInInvisibleRoom_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var outsider = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, isPrivate: true);
        var id = (await Api.PostMessageAsync(owner, room, "private"))["id"].Text();
        await (await Api.As(outsider).PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, id), new { content = "x" })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Api.As(outsider).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, id))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletedAccount_MessagesStayUnderTombstoneAndLeavesMemberLists()
    {
        var owner = await Api.RegisterAsync();
        var leaver = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, leaver.Id);
        await Api.PostMessageAsync(leaver, room, "bye all");
        var direct = await Api.As(leaver).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = owner.Id, content = "bye you" });
        var directRoom = (await direct.Json())["chatroom_id"].Text();

        (await Api.As(leaver).DeleteAsync(ApiRoutes.Me, new { current_password = leaver.Password })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        // The direct conversation takes no more messages: its partner is gone.
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, directRoom), new { content = "still there?" }))
            .ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Api.As(owner).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = leaver.Id, content = "still there?" }))
            .ShouldBeProblem(HttpStatusCode.NotFound);

        var history = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        var message = history["items"]!.AsArray().Single()!;
        message["content"].Text().ShouldBe("bye all");
        message["sender_username"].Text().ShouldBe("[deleted]");
        message["sender_id"].Text().ShouldBe(leaver.Id.ToString());
        var members = (await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        members.Select(m => m!["user_id"].Text()).ShouldBe([owner.Id.ToString()]);
        var dm = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.DirectHistory, leaver.Id))).Json();
        dm["items"]!.AsArray().Single()!["sender_username"].Text().ShouldBe("[deleted]");
    }
}

public sealed class PostgresMessagesTests(PostgresApp app) : MessagesTests(app), IClassFixture<PostgresApp>;

public sealed class SqliteMessagesTests(SqliteApp app) : MessagesTests(app), IClassFixture<SqliteApp>;
