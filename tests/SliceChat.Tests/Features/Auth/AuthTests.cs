using SliceChat.Features;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Security;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Auth;

/// <summary>The contract's auth rows; run on PostgreSQL and on the embedded SQLite mode.</summary>
public abstract class AuthTests(AppFixture fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task Register_ValidBody_Returns201WithUserAndLocation()
    {
        var username = Api.UniqueName("Reg");
        var response = await Api.PostAsync(ApiRoutes.Register, new { username, email = $"{username}@Example.com", password = Api.Password });

        await response.ShouldHaveStatus(HttpStatusCode.Created);
        var user = await response.Json();
        user.AsObject().Select(p => p.Key).Order().ShouldBe(["created_at", "email", "id", "username"]);
        user["username"].Text().ShouldBe(username);
        user["email"].Text().ShouldBe($"{username}@Example.com");
        response.Headers.Location!.ToString().ShouldBe(ApiRoutes.Fill(ApiRoutes.User, user["id"].Text()));
        user["created_at"].Text().ShouldEndWith("+00:00");
    }

    [Fact]
    public async Task Signup_Alias_Returns201()
    {
        var username = Api.UniqueName();
        var response = await Api.PostAsync(ApiRoutes.Signup, new { username, email = $"{username}@example.com", password = Api.Password });
        await response.ShouldHaveStatus(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("ab", "ok@example.com", "password1", "username")]
    [InlineData("has space", "ok@example.com", "password1", "username")]
    [InlineData("validname", "not-an-email", "password1", "email")]
    [InlineData("validname", "ok@example.com", "short", "password")]
    [InlineData("", "", "", "email,password,username")]
    public async Task Register_InvalidField_Returns400NamingIt(string username, string email, string password, string fields)
    {
        var response = await Api.PostAsync(ApiRoutes.Register, new { username, email, password });
        await response.ShouldBeValidationProblem(fields.Split(','));
    }

    [Fact]
    public async Task Register_PasswordOver128_Returns400()
    {
        var response = await Api.PostAsync(ApiRoutes.Register, new { username = Api.UniqueName(), email = "x@example.com", password = new string('p', 129) });
        await response.ShouldBeValidationProblem("password");
    }

    [Fact]
    public async Task Register_UsernameTakenInOtherCase_Returns409()
    {
        var account = await Api.RegisterAsync();
        var response = await Api.PostAsync(ApiRoutes.Register, new { username = account.Username.ToUpperInvariant(), email = $"other{account.Email}", password = Api.Password });
        (await response.ShouldBeProblem(HttpStatusCode.Conflict))["detail"].Text().ShouldContain("username");
    }

    [Fact]
    public async Task Register_EmailTakenInOtherCase_Returns409()
    {
        var account = await Api.RegisterAsync();
        var response = await Api.PostAsync(ApiRoutes.Register, new { username = Api.UniqueName(), email = account.Email.ToUpperInvariant(), password = Api.Password });
        (await response.ShouldBeProblem(HttpStatusCode.Conflict))["detail"].Text().ShouldContain("email");
    }

    [Fact]
    public async Task Register_ConcurrentSameUsername_OneWinsRestGet409()
    {
        var username = Api.UniqueName();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Api.PostAsync(ApiRoutes.Register, new { username = i % 2 == 0 ? username : username.ToUpperInvariant(), email = $"{i}{username}@example.com", password = Api.Password })));
        responses.Count(r => r.StatusCode == HttpStatusCode.Created).ShouldBe(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.Conflict).ShouldBe(7);
    }

    [Fact]
    public async Task Login_Json_ReturnsBearerTokens()
    {
        var account = await Api.RegisterAsync();
        var response = await Api.PostAsync(ApiRoutes.Login, new { username = account.Username, password = account.Password });
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var tokens = await response.Json();
        tokens["token_type"].Text().ShouldBe("bearer");
        tokens["expires_in"]!.GetValue<int>().ShouldBe(15 * 60);
        tokens["refresh_token"].Text().ShouldNotBeNullOrEmpty();
        var me = await Api.As(tokens["access_token"].Text()).GetAsync(ApiRoutes.Me);
        (await me.Json())["id"].Text().ShouldBe(account.Id.ToString());
    }

    [Fact]
    public async Task Login_FormWithEmail_ReturnsTokens()
    {
        var account = await Api.RegisterAsync();
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = account.Email.ToUpperInvariant(), ["password"] = account.Password });
        var response = await Api.Http.PostAsync(ApiRoutes.Login, form);
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        (await response.Json())["access_token"].Text().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Login_UnknownUserAndWrongPassword_SameProblem401()
    {
        var account = await Api.RegisterAsync();
        var wrongPassword = await Api.PostAsync(ApiRoutes.Login, new { username = account.Username, password = "not the password" });
        var unknownUser = await Api.PostAsync(ApiRoutes.Login, new { username = Api.UniqueName(), password = "not the password" });

        var a = await wrongPassword.ShouldBeProblem(HttpStatusCode.Unauthorized);
        var b = await unknownUser.ShouldBeProblem(HttpStatusCode.Unauthorized);
        a["detail"].Text().ShouldBe(b["detail"].Text());
        a["title"].Text().ShouldBe(b["title"].Text());
    }

    [Fact]
    public async Task Login_MissingPassword_Returns400()
    {
        var response = await Api.PostAsync(ApiRoutes.Login, new { username = "someone" });
        await response.ShouldBeValidationProblem("password");
    }

    [Fact]
    public async Task Login_NotJson_Returns400Problem()
    {
        var response = await Api.Http.PostAsync(ApiRoutes.Login, new StringContent("{oops", Encoding.UTF8, "application/json"));
        await response.ShouldBeProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Login_PlainTextBody_Returns415Problem()
    {
        var response = await Api.Http.PostAsync(ApiRoutes.Login, new StringContent("username=a&password=b", Encoding.UTF8, "text/plain"));
        await response.ShouldBeProblem(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Refresh_Rotates_OldTokenSpent()
    {
        var account = await Api.RegisterAsync();
        var first = await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = account.RefreshToken });
        await first.ShouldHaveStatus(HttpStatusCode.OK);
        var rotated = await first.Json();
        rotated["refresh_token"].Text().ShouldNotBe(account.RefreshToken);
        (await Api.As(rotated["access_token"].Text()).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_SpentTokenReused_RevokesWholeSession()
    {
        var account = await Api.RegisterAsync();
        var rotated = await (await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = account.RefreshToken })).Json();

        var reuse = await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = account.RefreshToken });
        await reuse.ShouldBeProblem(HttpStatusCode.Unauthorized);

        (await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = rotated["refresh_token"].Text() })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Api.As(rotated["access_token"].Text()).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Api.As(account).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refresh_UnknownToken_Returns401()
    {
        var response = await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = "nope" });
        await response.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_RevokesAccessAndRefreshTokens()
    {
        var account = await Api.RegisterAsync();
        var other = await Api.LoginAsync(account.Username, account.Password);

        (await Api.As(account).PostAsync(ApiRoutes.Logout)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await (await Api.As(account).GetAsync(ApiRoutes.Me)).ShouldBeProblem(HttpStatusCode.Unauthorized);
        (await Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = account.RefreshToken })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        // Another login session of the same user is untouched.
        (await Api.As(other["access_token"].Text()).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Logout_WithoutToken_Returns401Problem()
    {
        await (await Api.PostAsync(ApiRoutes.Logout)).ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_TokenWithAlgNone_Returns401()
    {
        var account = await Api.RegisterAsync();
        var payload = account.AccessToken.Split('.')[1];
        var header = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        (await Api.As($"{header}.{payload}.").GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_TokenSignedWithOtherKey_Returns401()
    {
        var account = await Api.RegisterAsync();
        var forger = new TokenService(new SigningKey(new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(new byte[32])),
            Microsoft.Extensions.Options.Options.Create(new JwtOptions()));
        var forged = forger.IssueAccessToken(account.Id, account.Username, Guid.NewGuid()).Token;
        (await Api.As(forged).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_ExpiredToken_Returns401()
    {
        var account = await Api.RegisterAsync();
        var sid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(account.AccessToken).GetClaim("sid").Value;
        var key = fixture.App.Services.GetRequiredService<SigningKey>();
        var past = DateTime.UtcNow.AddMinutes(-10);
        var expired = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "slicechat",
            Audience = "slicechat",
            IssuedAt = past,
            NotBefore = past,
            Expires = past.AddMinutes(5),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(key.Key, "HS256"),
            Claims = new Dictionary<string, object> { ["sub"] = account.Id.ToString(), ["name"] = account.Username, ["sid"] = sid, ["jti"] = "x" },
        });
        (await Api.As(expired).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}

public sealed class PostgresAuthTests(PostgresApp app) : AuthTests(app), IClassFixture<PostgresApp>;

public sealed class SqliteAuthTests(SqliteApp app) : AuthTests(app), IClassFixture<SqliteApp>;
