using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SliceChat.Features;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Security;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure.Security;

public sealed class PasswordHasherTests
{
    private static readonly User AnyUser = new() { Username = "ada", NormalizedUsername = "ada", PasswordHash = "" };

    private static PasswordHasher Hasher(int workFactor = 4) => new(Options.Create(new PasswordHashingOptions { BcryptWorkFactor = workFactor }));

    [Fact]
    public void Hash_IsBcryptAtTheConfiguredCost_AndVerifies()
    {
        var hash = Hasher(5).HashPassword(AnyUser, "correct horse battery");
        hash.ShouldStartWith("$2");
        hash.ShouldContain("$05$");
        Hasher(5).VerifyHashedPassword(AnyUser, hash, "correct horse battery").ShouldBe(PasswordVerificationResult.Success);
        Hasher(5).VerifyHashedPassword(AnyUser, hash, "correct horse battery!").ShouldBe(PasswordVerificationResult.Failed);
    }

    [Fact]
    public void PasswordsDifferingPastTheSeventySecondByte_AreDifferentPasswords()
    {
        var prefix = new string('a', 80);
        var hash = Hasher().HashPassword(AnyUser, prefix + "1");
        Hasher().VerifyHashedPassword(AnyUser, hash, prefix + "2").ShouldBe(PasswordVerificationResult.Failed);
        Hasher().VerifyHashedPassword(AnyUser, hash, prefix + "1").ShouldBe(PasswordVerificationResult.Success);
    }

    [Fact]
    public void Pbkdf2Hash_StillVerifies_AndAsksForARehash()
    {
        var legacy = new PasswordHasher<User>().HashPassword(AnyUser, "correct horse battery");
        Hasher().VerifyHashedPassword(AnyUser, legacy, "correct horse battery").ShouldBe(PasswordVerificationResult.SuccessRehashNeeded);
        Hasher().VerifyHashedPassword(AnyUser, legacy, "wrong horse battery").ShouldBe(PasswordVerificationResult.Failed);
    }

    [Fact]
    public void HashOfALowerCost_AsksForARehash()
    {
        var hash = Hasher(4).HashPassword(AnyUser, "correct horse battery");
        Hasher(6).VerifyHashedPassword(AnyUser, hash, "correct horse battery").ShouldBe(PasswordVerificationResult.SuccessRehashNeeded);
    }
}

public sealed class PasswordLoginTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private Api Api => app.Api;

    private async Task<string> StoredHashAsync(Guid userId)
    {
        await using var scope = app.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.PasswordHash).SingleAsync();
    }

    [Fact]
    public async Task Login_WithAPbkdf2Hash_Succeeds_AndStoresABcryptHash()
    {
        var account = await Api.RegisterAsync();
        await using (var scope = app.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            var legacy = new PasswordHasher<User>().HashPassword(new User { Username = "", NormalizedUsername = "", PasswordHash = "" }, account.Password);
            await db.Users.Where(u => u.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordHash, legacy));
        }

        await Api.LoginAsync(account.Username, account.Password);
        (await StoredHashAsync(account.Id)).ShouldStartWith("$2");
        await Api.LoginAsync(account.Username, account.Password);
        var wrong = await Api.PostAsync(ApiRoutes.Login, new { username = account.Username, password = "not " + account.Password });
        await wrong.ShouldBeProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_WithAPasswordEqualInItsFirst72Bytes_Returns401()
    {
        var username = Api.UniqueName();
        var password = new string('x', 100);
        var registered = await Api.PostAsync(ApiRoutes.Register, new { username, email = $"{username}@example.com", password });
        await registered.ShouldHaveStatus(HttpStatusCode.Created);

        var almost = await Api.PostAsync(ApiRoutes.Login, new { username, password = new string('x', 99) + "y" });
        await almost.ShouldBeProblem(HttpStatusCode.Unauthorized);
        await Api.LoginAsync(username, password);
    }
}

public sealed class SessionPruningTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Prune_DeletesExpiredAndLongRevokedSessions_WithTheirRefreshTokens_AndKeepsLiveOnes()
    {
        var live = await app.Api.RegisterAsync();
        var expired = await app.Api.RegisterAsync();
        var revoked = await app.Api.RegisterAsync();
        var justRevoked = await app.Api.RegisterAsync();
        List<Guid> dead;
        await using (var scope = app.App.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            var now = Clock.Now();
            dead = await db.LoginSessions.Where(s => s.UserId == expired.Id || s.UserId == revoked.Id).Select(s => s.Id).ToListAsync();
            (await db.RefreshTokens.CountAsync(t => dead.Contains(t.SessionId))).ShouldBeGreaterThan(0);
            await db.LoginSessions.Where(s => s.UserId == expired.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiresAt, now.AddMinutes(-1)));
            await db.LoginSessions.Where(s => s.UserId == revoked.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now.AddDays(-1)));
            await db.LoginSessions.Where(s => s.UserId == justRevoked.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now));
        }

        (await app.App.Services.GetRequiredService<SessionPruning>().PruneAsync(CancellationToken.None)).ShouldBeGreaterThanOrEqualTo(2);

        await using var check = app.App.Services.CreateAsyncScope();
        var left = check.ServiceProvider.GetRequiredService<ChatDbContext>();
        (await left.LoginSessions.CountAsync(s => s.UserId == expired.Id || s.UserId == revoked.Id)).ShouldBe(0);
        (await left.RefreshTokens.CountAsync(t => dead.Contains(t.SessionId))).ShouldBe(0);
        (await left.LoginSessions.CountAsync(s => s.UserId == justRevoked.Id)).ShouldBe(1);
        (await app.Api.As(live).GetAsync(ApiRoutes.Me)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await app.Api.PostAsync(ApiRoutes.Refresh, new { refresh_token = live.RefreshToken })).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
