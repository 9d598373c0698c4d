using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Features.Users;

/// <summary>Which of username and email another account holds, for a clear 409 (the unique indexes cover races).</summary>
public static class UniqueAccountFields
{
    public static async Task<string?> FindTakenAsync(ChatDbContext db, Guid? exceptUserId, string? normalizedUsername, string? normalizedEmail, CancellationToken ct)
    {
        if (normalizedUsername is not null && await db.Users.AnyAsync(u => u.NormalizedUsername == normalizedUsername && u.Id != exceptUserId, ct))
        {
            return "The username is taken.";
        }
        if (normalizedEmail is not null && await db.Users.AnyAsync(u => u.NormalizedEmail == normalizedEmail && u.Id != exceptUserId, ct))
        {
            return "The email is taken.";
        }
        return null;
    }

    public static string DescribeViolation(DbUpdateException exception) =>
        DbErrors.ConstraintDetail(exception).Contains("email", StringComparison.OrdinalIgnoreCase)
            ? "The email is taken."
            : "The username is taken.";
}
