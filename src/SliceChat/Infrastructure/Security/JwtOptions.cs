namespace SliceChat.Infrastructure.Security;

/// <summary>Settings under <c>Jwt:</c>.</summary>
public sealed class JwtOptions
{
    public const string Section = "Jwt";
    public const int MinimumKeyBytes = 32;

    /// <summary>HS256 key, at least 32 bytes of UTF-8. Required outside Development.</summary>
    public string? SigningKey { get; set; }
    public string Issuer { get; set; } = "slicechat";
    public string Audience { get; set; } = "slicechat";
    public int AccessTokenMinutes { get; set; } = 15;
    public int RefreshTokenDays { get; set; } = 30;
    public int ClockSkewSeconds { get; set; } = 5;
    /// <summary>How long an instance trusts its cached "session still active" answer when a revocation message is lost.</summary>
    public int SessionCacheSeconds { get; set; } = 10;
    /// <summary>Most validated access tokens an instance remembers until they expire (<see cref="ValidatedTokens"/>); 0 validates every request's.</summary>
    public int ValidatedTokenCacheSize { get; set; } = 10_000;
    /// <summary>How often expired and long-revoked login sessions are deleted.</summary>
    public int PruneSessionsMinutes { get; set; } = 60;
}
