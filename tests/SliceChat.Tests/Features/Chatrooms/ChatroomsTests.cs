using SliceChat.Features;
using System.Net;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Chatrooms;

public abstract class ChatroomsTests(AppFixture fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task Create_ValidBody_Returns201RoomWithOwnerAsMember()
    {
        var owner = await Api.RegisterAsync();
        var friend = await Api.RegisterAsync();
        var response = await Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = "  Lounge  ", description = "chat", member_ids = new[] { friend.Id } });

        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var room = await response.Json();
        room.AsObject().Select(p => p.Key).Order().ShouldBe(["created_at", "created_by", "description", "id", "is_private", "kind", "last_seq", "member_count", "name"]);
        room["name"].Text().ShouldBe("Lounge");
        room["kind"].Text().ShouldBe("group");
        room["is_private"]!.GetValue<bool>().ShouldBeFalse();
        room["created_by"].Text().ShouldBe(owner.Id.ToString());
        room["member_count"]!.GetValue<int>().ShouldBe(2);
        room["last_seq"]!.GetValue<long>().ShouldBe(0);
        response.Headers.Location!.ToString().ShouldBe(ApiRoutes.Fill(ApiRoutes.Chatroom, room["id"].Text()));

        var members = (await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room["id"].Text()))).Json()).AsArray();
        members.Single(m => m!["user_id"].Text() == owner.Id.ToString())!["role"].Text().ShouldBe("owner");
        members.Single(m => m!["user_id"].Text() == friend.Id.ToString())!["role"].Text().ShouldBe("member");
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("")]
    public async Task Create_BlankName_Returns400(string name)
    {
        var owner = await Api.RegisterAsync();
        await (await Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name })).ShouldBeValidationProblem("name");
    }

    [Fact]
    public async Task Create_LongNameAndDescription_Returns400()
    {
        var owner = await Api.RegisterAsync();
        var response = await Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = new string('n', 101), description = new string('d', 1001) });
        await response.ShouldBeValidationProblem("description", "name");
    }

    [Fact]
    public async Task Create_UnknownMember_Returns404AndCreatesNothing()
    {
        var owner = await Api.RegisterAsync();
        await (await Api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name = "x", member_ids = new[] { Guid.NewGuid() } })).ShouldBeProblem(HttpStatusCode.NotFound);
        var joined = await (await Api.As(owner).GetAsync(ApiRoutes.Chatrooms)).Json();
        joined["items"]!.AsArray().Count.ShouldBe(0);
    }

    [Fact]
    public async Task List_JoinedAndPublic_PagesNewestFirstWithoutGapsOrRepeats()
    {
        var owner = await Api.RegisterAsync();
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await Api.CreateRoomAsync(owner, isPrivate: i == 2));
        }
        var seen = new List<Guid>();
        string? before = null;
        bool hasMore;
        do
        {
            var page = await (await Api.As(owner).GetAsync(ApiRoutes.Chatrooms + $"?scope=joined&limit=2{(before is null ? "" : $"&before={before}")}")).Json();
            var items = page["items"]!.AsArray().Select(r => Guid.Parse(r!["id"].Text())).ToList();
            seen.AddRange(items);
            hasMore = page["has_more"]!.GetValue<bool>();
            before = items.LastOrDefault().ToString();
        }
        while (hasMore);
        seen.ShouldBe(Enumerable.Reverse(created));

        var stranger = await Api.RegisterAsync();
        var publicRooms = await (await Api.As(stranger).GetAsync(ApiRoutes.Chatrooms + "?scope=public&limit=100")).Json();
        var publicIds = publicRooms["items"]!.AsArray().Select(r => Guid.Parse(r!["id"].Text())).ToList();
        publicIds.ShouldNotContain(created[2]);
        created.Where((_, i) => i != 2).ShouldAllBe(id => publicIds.Contains(id));
        (await (await Api.As(stranger).GetAsync(ApiRoutes.Chatrooms)).Json())["items"]!.AsArray().Count.ShouldBe(0);
    }

    [Theory]
    [InlineData("scope=everything", "scope")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    public async Task List_BadQuery_Returns400(string query, string field)
    {
        var user = await Api.RegisterAsync();
        await (await Api.As(user).GetAsync(ApiRoutes.Chatrooms + $"?{query}")).ShouldBeValidationProblem(field);
    }

    [Fact]
    public async Task Join_PublicRoom_IsIdempotent()
    {
        var owner = await Api.RegisterAsync();
        var joiner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await Api.PostMessageAsync(owner, room, "before the join");

        var first = await Api.As(joiner).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room));
        await first.ShouldHaveStatus(HttpStatusCode.OK);
        (await first.Json())["member_count"]!.GetValue<int>().ShouldBe(2);
        var second = await Api.As(joiner).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room));
        (await second.Json())["member_count"]!.GetValue<int>().ShouldBe(2);

        var members = (await (await Api.As(joiner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        members.Single(m => m!["user_id"].Text() == joiner.Id.ToString())!["last_read_seq"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Join_PrivateRoom_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var outsider = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, isPrivate: true);
        await (await Api.As(outsider).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Leave_Owner_HandsRoomToLongestStandingMember()
    {
        var owner = await Api.RegisterAsync();
        var first = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, first.Id);
        var second = await Api.RegisterAsync();
        await Api.As(second).PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room));

        (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.LeaveChatroom, room))).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var members = (await (await Api.As(first).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        members.Select(m => m!["user_id"].Text()).ShouldNotContain(owner.Id.ToString());
        members.Single(m => m!["user_id"].Text() == first.Id.ToString())!["role"].Text().ShouldBe("owner");
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.LeaveChatroom, room))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Members_NeverShowEmails()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        var members = (await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        members.Single()!.AsObject().Select(p => p.Key).Order().ShouldBe(["joined_at", "last_read_seq", "muted", "role", "user_id", "username"]);
    }

    [Fact]
    public async Task Members_ShowReadMarkersToMembersOnly()
    {
        var owner = await Api.RegisterAsync();
        var browser = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await Api.PostMessageAsync(owner, room, "read me");
        await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, room), new { seq = 1 });

        var asMember = (await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        asMember.Single()!["last_read_seq"]!.GetValue<long>().ShouldBe(1);
        var asBrowser = (await (await Api.As(browser).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        asBrowser.Single()!["last_read_seq"].ShouldBeNull();
        asBrowser.Single()!["username"].Text().ShouldBe(owner.Username);
    }

    [Fact]
    public async Task AddMember_OwnerOfPrivateRoom_Returns201Member()
    {
        var owner = await Api.RegisterAsync();
        var friend = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, isPrivate: true);
        var response = await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.Members, room), new { user_id = friend.Id });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var member = await response.Json();
        member["user_id"].Text().ShouldBe(friend.Id.ToString());
        member["role"].Text().ShouldBe("member");
        (await Api.As(friend).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var again = await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.Members, room), new { user_id = friend.Id });
        await again.ShouldHaveStatus(HttpStatusCode.OK);
        (await again.Json())["joined_at"].Text().ShouldBe(member["joined_at"].Text());
        (await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray().Count.ShouldBe(2);
    }

    [Fact]
    public async Task AddMember_NonOwnerOfPrivateRoom_Returns403()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var other = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, true, member.Id);
        await (await Api.As(member).PostAsync(ApiRoutes.Fill(ApiRoutes.Members, room), new { user_id = other.Id })).ShouldBeProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AddMember_UnknownUser_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.Members, room), new { user_id = Guid.NewGuid() })).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AddMember_MissingUserId_Returns400()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        await (await Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.Members, room), new { })).ShouldBeValidationProblem("user_id");
    }

    [Fact]
    public async Task RemoveMember_OwnerRemoves_MemberLosesAccess()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, true, member.Id);
        (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, member.Id))).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await Api.As(member).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RemoveMember_Me_Leaves()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, member.Id);
        (await Api.As(member).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, "me"))).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var room1 = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).Json();
        room1["member_count"]!.GetValue<int>().ShouldBe(1);
    }

    [Fact]
    public async Task RemoveMember_NotOwner_Returns403AndNotMember_Returns404()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var outsider = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, member.Id);
        await (await Api.As(member).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, owner.Id))).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, outsider.Id))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_Owner_RemovesRoomMembersAndMessages()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, member.Id);
        await Api.PostMessageAsync(member, room, "hello");

        await (await Api.As(member).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).ShouldBeProblem(HttpStatusCode.Forbidden);
        (await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Api.As(member).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).ShouldBeProblem(HttpStatusCode.NotFound);
        (await (await Api.As(member).GetAsync(ApiRoutes.ConversationsAlias)).Json()).AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task Get_UnknownRoom_Returns404()
    {
        var user = await Api.RegisterAsync();
        await (await Api.As(user).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, Guid.NewGuid()))).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}

public sealed class PostgresChatroomsTests(PostgresApp app) : ChatroomsTests(app), IClassFixture<PostgresApp>;

public sealed class SqliteChatroomsTests(SqliteApp app) : ChatroomsTests(app), IClassFixture<SqliteApp>;
