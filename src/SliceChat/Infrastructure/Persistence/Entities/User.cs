namespace SliceChat.Infrastructure.Persistence.Entities;

public sealed class User
{
    public const string TombstoneName = "[deleted]";

    public Guid Id { get; set; }
    public required string Username { get; set; }
    /// <summary>Lower-cased username; unique, so names differ case-insensitively on every provider.</summary>
    public required string NormalizedUsername { get; set; }
    /// <summary>Null once the account is deleted.</summary>
    public string? Email { get; set; }
    public string? NormalizedEmail { get; set; }
    public required string PasswordHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}
