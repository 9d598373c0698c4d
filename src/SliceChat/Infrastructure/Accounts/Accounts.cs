using Microsoft.AspNetCore.Identity;
using SliceChat.Infrastructure.Security;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Accounts;

/// <summary>The account rules that need the database: password checks and unique names and emails.</summary>
public sealed class Accounts(ChatDbContext db, PasswordHasher hasher)
{
    /// <summary>
    /// The live user whose username or email is <paramref name="login"/> and whose password this is, else null.
    /// An unknown login costs one hash verification too, so timing does not tell which failed.
    /// </summary>
    public async Task<User?> LoginAsync(string login, string password, CancellationToken ct)
    {
        var normalized = AccountRules.Normalize(login);
        var user = await db.Users
            .Where(u => u.DeletedAt == null && (u.NormalizedUsername == normalized || u.NormalizedEmail == normalized))
            .FirstOrDefaultAsync(ct);
        if (user is null)
        {
            hasher.VerifyUnknownUser(password);
            return null;
        }
        return await VerifyAsync(user, password, ct) ? user : null;
    }

    /// <summary>The live user (tracked) when the password is theirs, else null. A legacy hash is replaced on success.</summary>
    public async Task<User?> VerifyPasswordAsync(Guid userId, string password, CancellationToken ct)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId && u.DeletedAt == null, ct);
        return user is not null && await VerifyAsync(user, password, ct) ? user : null;
    }

    /// <summary>
    /// Checks the password and, when the hash is of an older scheme or cost, stores a new one at once, only if the
    /// stored hash is still the one verified: a password change committed meanwhile is never undone.
    /// </summary>
    private async Task<bool> VerifyAsync(User user, string password, CancellationToken ct)
    {
        var verified = user.PasswordHash;
        var result = hasher.VerifyHashedPassword(user, verified, password);
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            var rehashed = hasher.HashPassword(user, password);
            await db.Users.Where(u => u.Id == user.Id && u.PasswordHash == verified)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordHash, rehashed), ct);
        }
        return result != PasswordVerificationResult.Failed;
    }

    public void SetPassword(User user, string password) => user.PasswordHash = hasher.HashPassword(user, password);

    /// <summary>
    /// Saves the account; when a unique index refuses it (another account took the name or email since
    /// <see cref="TakenAsync"/>), answers which of the two, else null.
    /// </summary>
    public async Task<string?> SaveAsync(User user, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            return DbErrors.ConstraintDetail(e).Contains("email", StringComparison.OrdinalIgnoreCase) ? EmailTaken : UsernameTaken;
        }
    }

    /// <summary>Which of the account's new username and email another account holds, if any, for a clear 409 before the save (the indexes decide races).</summary>
    public async Task<string?> TakenAsync(User user, CancellationToken ct)
    {
        var entry = db.Entry(user);
        var checkName = entry.State == EntityState.Added || entry.Property(u => u.NormalizedUsername).IsModified;
        var checkEmail = entry.State == EntityState.Added || entry.Property(u => u.NormalizedEmail).IsModified;
        if (checkName && await db.Users.AnyAsync(u => u.NormalizedUsername == user.NormalizedUsername && u.Id != user.Id, ct))
        {
            return UsernameTaken;
        }
        if (checkEmail && user.NormalizedEmail is not null && await db.Users.AnyAsync(u => u.NormalizedEmail == user.NormalizedEmail && u.Id != user.Id, ct))
        {
            return EmailTaken;
        }
        return null;
    }

    private const string UsernameTaken = "The username is taken.", EmailTaken = "The email is taken.";
}
