using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SliceChat.Infrastructure.Security;

public sealed record AccessToken(string Token, int ExpiresInSeconds);

/// <summary>Issues access tokens (HS256 JWTs with sub, name, jti, sid) and opaque refresh tokens.</summary>
public sealed class TokenService(SigningKey signingKey, IOptions<JwtOptions> options)
{
    private readonly JsonWebTokenHandler handler = new();

    public AccessToken IssueAccessToken(Guid userId, string username, Guid sessionId)
    {
        var jwt = options.Value;
        var now = DateTime.UtcNow;
        var lifetime = TimeSpan.FromMinutes(jwt.AccessTokenMinutes);
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(signingKey.Key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId.ToString(),
                ["name"] = username,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString(),
                [JwtRegisteredClaimNames.Sid] = sessionId.ToString(),
            },
        });
        return new AccessToken(token, (int)lifetime.TotalSeconds);
    }

    public static string NewRefreshToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static string HashRefreshToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
