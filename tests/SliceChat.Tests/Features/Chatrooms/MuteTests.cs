using System.Net;
using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Chatrooms;

/// <summary><c>PATCH /api/v1/chatrooms/{id}/membership</c>: muting a conversation for oneself.</summary>
public sealed class MuteTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private Api Api => app.Api;

    [Fact]
    public async Task Mute_Member_TogglesItsOwnEntry_OthersSeeNoMuted()
    {
        var owner = await Api.RegisterAsync();
        var member = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, member.Id);

        var muted = await Api.As(member).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, room), new { muted = true });
        await muted.ShouldHaveStatus(HttpStatusCode.OK);
        var entry = await muted.Json();
        entry["user_id"].Text().ShouldBe(member.Id.ToString());
        entry["muted"]!.GetValue<bool>().ShouldBeTrue();

        var seenByMember = (await (await Api.As(member).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        seenByMember.Single(m => m!["user_id"].Text() == member.Id.ToString())!["muted"]!.GetValue<bool>().ShouldBeTrue();
        var seenByOwner = (await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
        seenByOwner.Single(m => m!["user_id"].Text() == member.Id.ToString())!.AsObject().ContainsKey("muted").ShouldBeFalse();
        seenByOwner.Single(m => m!["user_id"].Text() == owner.Id.ToString())!["muted"]!.GetValue<bool>().ShouldBeFalse();

        var unmuted = await Api.As(member).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, room), new { muted = false });
        (await unmuted.Json())["muted"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task Mute_DirectConversation_Works()
    {
        var alice = await Api.RegisterAsync();
        var bob = await Api.RegisterAsync();
        var dm = await Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = bob.Id, content = "hi" });
        var room = (await dm.Json())["chatroom_id"].Text();
        var muted = await Api.As(bob).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, room), new { muted = true });
        await muted.ShouldHaveStatus(HttpStatusCode.OK);
        (await muted.Json())["muted"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task Mute_NotVisible404_VisibleButNotMember403_NoMuted400()
    {
        var owner = await Api.RegisterAsync();
        var stranger = await Api.RegisterAsync();
        var hidden = await Api.CreateRoomAsync(owner, isPrivate: true);
        var open = await Api.CreateRoomAsync(owner);
        await (await Api.As(stranger).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, hidden), new { muted = true })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Api.As(stranger).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, Guid.NewGuid()), new { muted = true })).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Api.As(stranger).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, open), new { muted = true })).ShouldBeProblem(HttpStatusCode.Forbidden);
        await (await Api.As(owner).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, open), new { })).ShouldBeValidationProblem("muted");
    }
}
