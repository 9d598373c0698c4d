using Microsoft.EntityFrameworkCore;

namespace SliceChat.Infrastructure.Persistence;

public static class UserNames
{
    /// <summary>A user's name as it is now (access tokens carry the name they were issued with).</summary>
    public static Task<string> UsernameAsync(this ChatDbContext db, Guid userId, CancellationToken ct) =>
        db.Users.Where(u => u.Id == userId).Select(u => u.Username).SingleAsync(ct);
}
