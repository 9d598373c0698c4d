using SliceChat.Features;
using System.Net;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Chatrooms;

/// <summary>
/// Every conversation route against every kind of caller: an outsider of a private room, a non-member
/// of a public room, a member and the owner (of a private room). Each case builds its own room.
/// </summary>
public sealed class AuthorizationTableTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    public enum Caller
    {
        Outsider,
        NonMember,
        Member,
        Owner,
    }

    private sealed record World(Account Owner, Account Member, Account Stranger, Account Target, Guid Room, string OwnersMessage);

    private static readonly (string Route, Caller Caller, HttpStatusCode Expected)[] Table =
    [
        ("GET room", Caller.Outsider, HttpStatusCode.NotFound), ("GET room", Caller.NonMember, HttpStatusCode.OK), ("GET room", Caller.Member, HttpStatusCode.OK), ("GET room", Caller.Owner, HttpStatusCode.OK),
        ("POST join", Caller.Outsider, HttpStatusCode.NotFound), ("POST join", Caller.NonMember, HttpStatusCode.OK), ("POST join", Caller.Member, HttpStatusCode.OK), ("POST join", Caller.Owner, HttpStatusCode.OK),
        ("POST leave", Caller.Outsider, HttpStatusCode.NotFound), ("POST leave", Caller.NonMember, HttpStatusCode.NotFound), ("POST leave", Caller.Member, HttpStatusCode.NoContent), ("POST leave", Caller.Owner, HttpStatusCode.NoContent),
        ("GET members", Caller.Outsider, HttpStatusCode.NotFound), ("GET members", Caller.NonMember, HttpStatusCode.OK), ("GET members", Caller.Member, HttpStatusCode.OK), ("GET members", Caller.Owner, HttpStatusCode.OK),
        ("POST members", Caller.Outsider, HttpStatusCode.NotFound), ("POST members", Caller.NonMember, HttpStatusCode.Forbidden), ("POST members", Caller.Member, HttpStatusCode.Forbidden), ("POST members", Caller.Owner, HttpStatusCode.Created),
        ("DELETE member", Caller.Outsider, HttpStatusCode.NotFound), ("DELETE member", Caller.NonMember, HttpStatusCode.Forbidden), ("DELETE member", Caller.Member, HttpStatusCode.Forbidden), ("DELETE member", Caller.Owner, HttpStatusCode.NoContent),
        ("DELETE room", Caller.Outsider, HttpStatusCode.NotFound), ("DELETE room", Caller.NonMember, HttpStatusCode.Forbidden), ("DELETE room", Caller.Member, HttpStatusCode.Forbidden), ("DELETE room", Caller.Owner, HttpStatusCode.NoContent),
        ("POST message", Caller.Outsider, HttpStatusCode.NotFound), ("POST message", Caller.NonMember, HttpStatusCode.Forbidden), ("POST message", Caller.Member, HttpStatusCode.Created), ("POST message", Caller.Owner, HttpStatusCode.Created),
        ("GET messages", Caller.Outsider, HttpStatusCode.NotFound), ("GET messages", Caller.NonMember, HttpStatusCode.Forbidden), ("GET messages", Caller.Member, HttpStatusCode.OK), ("GET messages", Caller.Owner, HttpStatusCode.OK),
        ("POST read", Caller.Outsider, HttpStatusCode.NotFound), ("POST read", Caller.NonMember, HttpStatusCode.Forbidden), ("POST read", Caller.Member, HttpStatusCode.NoContent), ("POST read", Caller.Owner, HttpStatusCode.NoContent),
        ("PATCH message", Caller.Outsider, HttpStatusCode.NotFound), ("PATCH message", Caller.NonMember, HttpStatusCode.NotFound), ("PATCH message", Caller.Member, HttpStatusCode.Forbidden), ("PATCH message", Caller.Owner, HttpStatusCode.OK),
        ("DELETE message", Caller.Outsider, HttpStatusCode.NotFound), ("DELETE message", Caller.NonMember, HttpStatusCode.NotFound), ("DELETE message", Caller.Member, HttpStatusCode.Forbidden), ("DELETE message", Caller.Owner, HttpStatusCode.NoContent),
    ];

    public static TheoryData<string, Caller, HttpStatusCode> Cases()
    {
        var data = new TheoryData<string, Caller, HttpStatusCode>();
        foreach (var (route, caller, expected) in Table)
        {
            data.Add(route, caller, expected);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Route_Caller_GetsContractAnswer(string route, Caller caller, HttpStatusCode expected)
    {
        var world = await BuildAsync(caller);
        var who = caller switch
        {
            Caller.Owner => world.Owner,
            Caller.Member => world.Member,
            _ => world.Stranger,
        };
        var api = app.Api.As(who);
        var room = world.Room;
        var response = route switch
        {
            "GET room" => await api.GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room)),
            "POST join" => await api.PostAsync(ApiRoutes.Fill(ApiRoutes.JoinChatroom, room)),
            "POST leave" => await api.PostAsync(ApiRoutes.Fill(ApiRoutes.LeaveChatroom, room)),
            "GET members" => await api.GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room)),
            "POST members" => await api.PostAsync(ApiRoutes.Fill(ApiRoutes.Members, room), new { user_id = world.Target.Id }),
            "DELETE member" => await api.DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, caller == Caller.Owner ? world.Member.Id : world.Owner.Id)),
            "DELETE room" => await api.DeleteAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room)),
            "POST message" => await api.PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "hi" }),
            "GET messages" => await api.GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room)),
            "POST read" => await api.PostAsync(ApiRoutes.Fill(ApiRoutes.ReadMarker, room), new { seq = 1 }),
            "PATCH message" => await api.PatchAsync(ApiRoutes.Fill(ApiRoutes.Message, world.OwnersMessage), new { content = "changed" }),
            "DELETE message" => await api.DeleteAsync(ApiRoutes.Fill(ApiRoutes.Message, world.OwnersMessage)),
            _ => throw new ArgumentOutOfRangeException(nameof(route)),
        };
        if ((int)expected >= 400)
        {
            await response.ShouldBeProblem(expected);
        }
        else
        {
            await response.ShouldHaveStatus(expected);
        }
    }

    [Fact]
    public void Table_CoversEveryRouteForEveryCaller()
    {
        Table.GroupBy(t => t.Route).ShouldAllBe(g => g.Select(t => t.Caller).Distinct().Count() == 4);
    }

    /// <summary>Outsiders face a private room; non-members a public one; members and owners a private one.</summary>
    private async Task<World> BuildAsync(Caller caller)
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var member = await api.RegisterAsync();
        var stranger = await api.RegisterAsync();
        var target = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner, isPrivate: caller != Caller.NonMember, member.Id);
        var message = await api.PostMessageAsync(owner, room, "owner's words");
        return new World(owner, member, stranger, target, room, message["id"].Text());
    }
}
