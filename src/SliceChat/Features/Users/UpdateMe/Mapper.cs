using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Features.Users.UpdateMe;

public static class Mapper
{
    /// <summary>Copies the fields the request names onto the account; the password is set by the caller (it is hashed).</summary>
    public static void Apply(Request request, User user)
    {
        if (request.Username is not null)
        {
            user.Username = request.Username;
            user.NormalizedUsername = AccountRules.Normalize(request.Username);
        }
        if (request.Email is not null)
        {
            user.Email = request.Email;
            user.NormalizedEmail = AccountRules.Normalize(request.Email);
        }
    }
}
