namespace SliceChat.Infrastructure.Persistence.Entities;

/// <summary>One login: the <c>sid</c> of its access tokens and the chain of its refresh tokens.</summary>
public sealed class LoginSession
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The last login or refresh of this session.</summary>
    public DateTimeOffset LastUsedAt { get; set; }
    /// <summary>The client's User-Agent at login, cut to <see cref="UserAgentMax"/> characters, so a user can tell sessions apart.</summary>
    public string? UserAgent { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public const int UserAgentMax = 256;
}

/// <summary>A refresh token, stored only as its SHA-256 hash. A spent token presented again revokes its session.</summary>
public sealed class RefreshToken
{
    public Guid Id { get; set; }
    public Guid SessionId { get; set; }
    public required string TokenHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SpentAt { get; set; }
}
