using System.Net;
using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Users;

/// <summary>Login sessions on two instances: listing, revoking one, all, and a password change that logs out the others.</summary>
public sealed class SessionsTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    private Api Api => app.Api;

    private async Task<(string Access, string Refresh)> LoginAsync(Account account, string userAgent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiRoutes.Login)
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { username = account.Username, password = account.Password }),
        };
        request.Headers.UserAgent.ParseAdd(userAgent);
        var response = await Api.Http.SendAsync(request);
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var tokens = await response.Json();
        return (tokens["access_token"].Text(), tokens["refresh_token"].Text());
    }

    private async Task ShouldBeRevokedAsync(string access, string refresh)
    {
        await (await Api.As(access).GetAsync(ApiRoutes.Me)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        await (await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = refresh })).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Sessions_ListsLiveOnesNewestFirst_MarkingTheCurrent()
    {
        var me = await Api.RegisterAsync();
        var phone = await LoginAsync(me, "PhoneApp/1.0");
        var laptop = await LoginAsync(me, "LaptopBrowser/2.0");
        await Api.As(phone.Access).PostAsync(ApiRoutes.Logout);

        var response = await Api.As(laptop.Access).GetAsync(ApiRoutes.Sessions);
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var sessions = (await response.Json()).AsArray();
        sessions.Count.ShouldBe(2); // the registration's login and the laptop; the phone logged out
        sessions[0]!.AsObject().Select(p => p.Key).Order().ShouldBe(["created_at", "current", "id", "last_used_at", "user_agent"]);
        sessions[0]!["user_agent"].Text().ShouldBe("LaptopBrowser/2.0");
        sessions[0]!["current"]!.GetValue<bool>().ShouldBeTrue();
        sessions[1]!["current"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task RevokeSession_LogsThatSessionOutEverywhere_OnlyForItsOwner()
    {
        var me = await Api.RegisterAsync();
        var stranger = await Api.RegisterAsync();
        var other = await LoginAsync(me, "Other/1.0");
        var sessions = (await (await Api.As(me).GetAsync(ApiRoutes.Sessions)).Json()).AsArray();
        var otherId = sessions.Single(s => s!["user_agent"]?.GetValue<string>() == "Other/1.0")!["id"].Text();

        await (await Api.As(stranger).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Session, otherId))).ShouldBeProblem(HttpStatusCode.NotFound);
        await (await Api.As(me).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Session, Guid.CreateVersion7()))).ShouldBeProblem(HttpStatusCode.NotFound);
        (await Api.As(me).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Session, otherId))).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await ShouldBeRevokedAsync(other.Access, other.Refresh);
        (await Api.As(me).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Api.As(me).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Session, otherId))).ShouldBeProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task LogoutAll_RevokesEverySession_AndClosesSocketsOnTheOtherInstance()
    {
        var me = await Api.RegisterAsync();
        var other = await LoginAsync(me, "Other/1.0");
        var b = app.StartInstance();
        await using var socket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, other.Access);
        await socket.NextAsync("ready");

        (await Api.As(me).PostAsync(ApiRoutes.LogoutAll)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        ((int?)await socket.ClosedAsync(TimeSpan.FromSeconds(3))).ShouldBe(4401);
        await ShouldBeRevokedAsync(me.AccessToken, me.RefreshToken);
        await ShouldBeRevokedAsync(other.Access, other.Refresh);
    }

    [Fact]
    public async Task PasswordChange_RevokesTheOtherSessions_AndKeepsTheCallers()
    {
        var me = await Api.RegisterAsync();
        var other = await LoginAsync(me, "Other/1.0");
        var b = app.StartInstance();
        await using var socket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, other.Access);
        await socket.NextAsync("ready");

        var changed = await Api.As(me).PatchAsync(ApiRoutes.Me, new { password = "a brand new passphrase", current_password = me.Password });
        await changed.ShouldHaveStatus(HttpStatusCode.OK);

        ((int?)await socket.ClosedAsync(TimeSpan.FromSeconds(3))).ShouldBe(4401);
        await ShouldBeRevokedAsync(other.Access, other.Refresh);
        (await Api.As(me).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = me.RefreshToken })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await Api.LoginAsync(me.Username, "a brand new passphrase");
    }

    [Fact]
    public async Task EmailChange_KeepsTheOtherSessions()
    {
        var me = await Api.RegisterAsync();
        var other = await LoginAsync(me, "Other/1.0");
        var changed = await Api.As(me).PatchAsync(ApiRoutes.Me, new { email = $"new{me.Email}", current_password = me.Password });
        await changed.ShouldHaveStatus(HttpStatusCode.OK);
        (await Api.As(other.Access).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
