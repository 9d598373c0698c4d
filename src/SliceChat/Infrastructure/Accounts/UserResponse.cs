using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Accounts;

/// <summary>A user as its owner sees it; the only shape that carries an email.</summary>
public sealed record UserResponse(Guid Id, string Username, string? Email, DateTimeOffset CreatedAt)
{
    public static UserResponse From(User user) => new(user.Id, user.Username, user.Email, user.CreatedAt);
}
