using SliceChat.Features;
using System.Net;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Users;

public abstract class UsersTests(AppFixture fixture)
{
    private Api Api => fixture.Api;

    [Theory]
    [InlineData(ApiRoutes.Me)]
    [InlineData(ApiRoutes.AuthMe)]
    public async Task Me_Authenticated_ReturnsOwnUserWithEmail(string path)
    {
        var account = await Api.RegisterAsync();
        var response = await Api.As(account).GetAsync(path);
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var me = await response.Json();
        me["id"].Text().ShouldBe(account.Id.ToString());
        me["email"].Text().ShouldBe(account.Email);
    }

    [Fact]
    public async Task Me_WithoutToken_Returns401Problem()
    {
        await (await Api.GetAsync(ApiRoutes.Me)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task UpdateMe_NewUsernameAndPassword_Returns200AndLoginUsesThem()
    {
        var account = await Api.RegisterAsync();
        var username = Api.UniqueName("New");
        var response = await Api.As(account).PatchAsync(ApiRoutes.Me, new { username, password = "a brand new password", current_password = account.Password });
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        (await response.Json())["username"].Text().ShouldBe(username);
        await Api.LoginAsync(username, "a brand new password");
    }

    [Fact]
    public async Task UpdateMe_WrongCurrentPassword_Returns401()
    {
        var account = await Api.RegisterAsync();
        var response = await Api.As(account).PatchAsync(ApiRoutes.Me, new { username = Api.UniqueName(), current_password = "wrong password" });
        await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task UpdateMe_TakenEmail_Returns409()
    {
        var other = await Api.RegisterAsync();
        var account = await Api.RegisterAsync();
        var response = await Api.As(account).PatchAsync(ApiRoutes.Me, new { email = other.Email.ToUpperInvariant(), current_password = account.Password });
        await response.ShouldBeProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task UpdateMe_InvalidFields_Returns400()
    {
        var account = await Api.RegisterAsync();
        var response = await Api.As(account).PatchAsync(ApiRoutes.Me, new { username = "x", email = "bad" });
        await response.ShouldBeValidationProblem("current_password", "email", "username");
    }

    [Fact]
    public async Task DeleteMe_RevokesSessionsErasesAccountAndFreesName()
    {
        var account = await Api.RegisterAsync();
        var secondSession = await Api.LoginAsync(account.Username, account.Password);

        var response = await Api.As(account).DeleteAsync(ApiRoutes.Me, new { current_password = account.Password });
        response.StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await Api.As(account).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Api.As(secondSession["access_token"].Text()).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Api.PostAsync(ApiRoutes.Login, new { username = account.Username, password = account.Password })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var viewer = await Api.RegisterAsync();
        (await Api.As(viewer).GetAsync(ApiRoutes.Fill(ApiRoutes.User, account.Id))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        await Api.RegisterAsync(account.Username);
    }

    [Fact]
    public async Task DeleteMe_WrongPassword_Returns401AndKeepsAccount()
    {
        var account = await Api.RegisterAsync();
        await (await Api.As(account).DeleteAsync(ApiRoutes.Me, new { current_password = "wrong password" })).ShouldBeProblem(HttpStatusCode.Unauthorized);
        (await Api.As(account).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Search_Prefix_ReturnsIdAndUsernameOnly()
    {
        var prefix = Api.UniqueName("s")[..12];
        var first = await Api.RegisterAsync(prefix + "_one");
        await Api.RegisterAsync(prefix + "_two");
        await Api.RegisterAsync(Api.UniqueName("zz"));

        var response = await Api.As(first).GetAsync(ApiRoutes.Users + $"?query={prefix.ToUpperInvariant()}&limit=10");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var users = (await response.Json()).AsArray();
        users.Select(u => u!["username"].Text()).ShouldBe([prefix + "_one", prefix + "_two"]);
        users.ShouldAllBe(u => u!.AsObject().Count == 2 && u["id"] != null);
    }

    [Fact]
    public async Task Search_UnderscoreIsNotAWildcard()
    {
        var prefix = Api.UniqueName("w")[..10];
        var account = await Api.RegisterAsync(prefix + "x1");
        var response = await Api.As(account).GetAsync(ApiRoutes.Users + $"?query={prefix}_");
        (await response.Json()).AsArray().Count.ShouldBe(0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(51)]
    public async Task Search_LimitOutOfRange_Returns400(int limit)
    {
        var account = await Api.RegisterAsync();
        await (await Api.As(account).GetAsync(ApiRoutes.Users + $"?query=a&limit={limit}")).ShouldBeValidationProblem("limit");
    }

    [Fact]
    public async Task Search_WithoutToken_Returns401()
    {
        (await Api.GetAsync(ApiRoutes.Users + "?query=a")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Profile_Known_ReturnsPublicFieldsOnly()
    {
        var target = await Api.RegisterAsync();
        var viewer = await Api.RegisterAsync();
        var response = await Api.As(viewer).GetAsync(ApiRoutes.Fill(ApiRoutes.User, target.Id));
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var profile = (await response.Json()).AsObject();
        profile.Select(p => p.Key).Order().ShouldBe(["created_at", "id", "username"]);
    }

    [Fact]
    public async Task Profile_Unknown_Returns404Problem()
    {
        var viewer = await Api.RegisterAsync();
        await (await Api.As(viewer).GetAsync(ApiRoutes.Fill(ApiRoutes.User, Guid.NewGuid()))).ShouldBeProblem(HttpStatusCode.NotFound);
    }
}

public sealed class PostgresUsersTests(PostgresApp app) : UsersTests(app), IClassFixture<PostgresApp>;

public sealed class SqliteUsersTests(SqliteApp app) : UsersTests(app), IClassFixture<SqliteApp>;
