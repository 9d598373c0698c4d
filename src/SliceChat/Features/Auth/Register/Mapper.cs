using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Auth.Register;

public static class Mapper
{
    public static User ToEntity(Request request) => new()
    {
        Id = Guid.CreateVersion7(),
        Username = request.Username!,
        NormalizedUsername = AccountRules.Normalize(request.Username!),
        Email = request.Email,
        NormalizedEmail = AccountRules.Normalize(request.Email!),
        PasswordHash = "",
        CreatedAt = Clock.Now(),
    };
}
