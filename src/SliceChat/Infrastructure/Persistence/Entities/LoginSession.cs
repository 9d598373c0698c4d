namespace SliceChat.Infrastructure.Persistence.Entities;

/// <summary>One login: the <c>sid</c> of its access tokens and the chain of its refresh tokens.</summary>
public sealed class LoginSession
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
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
