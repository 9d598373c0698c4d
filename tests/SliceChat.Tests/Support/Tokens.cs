using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SliceChat.Infrastructure.Security;

namespace SliceChat.Tests.Support;

public static class Tokens
{
    /// <summary>An access token of the account's login session that expires after <paramref name="lifetime"/>.</summary>
    public static string Issue(AppFactory app, Account account, TimeSpan lifetime, DateTime? issuedAt = null)
    {
        var key = app.Services.GetRequiredService<SigningKey>();
        var sid = new JsonWebToken(account.AccessToken).GetClaim("sid").Value;
        var now = issuedAt ?? DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "slicechat",
            Audience = "slicechat",
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object> { ["sub"] = account.Id.ToString(), ["name"] = account.Username, ["sid"] = sid, ["jti"] = Guid.NewGuid().ToString() },
        });
    }
}
