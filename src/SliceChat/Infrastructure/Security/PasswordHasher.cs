using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Security;

public sealed class PasswordHashingOptions
{
    public const string Section = "Passwords";

    /// <summary>bcrypt's cost (log2 of its rounds): 12 by default; tests and benchmarks set 4.</summary>
    public int BcryptWorkFactor { get; set; } = 12;
}

/// <summary>
/// bcrypt (BCrypt.Net-Next). The password is pre-hashed with SHA-384 ("enhanced" hashing), so every character
/// counts, not only bcrypt's first 72 bytes. Hashes of the earlier PBKDF2 scheme (ASP.NET Core Identity's
/// format, which never starts with "$2") still verify and ask for a rehash, which login performs.
/// </summary>
public sealed class PasswordHasher(IOptions<PasswordHashingOptions> options)
{
    private const BCrypt.Net.HashType PreHash = BCrypt.Net.HashType.SHA384;
    private readonly PasswordHasher<User> legacy = new();
    private readonly Lazy<string> unknownUserHash = new(() => BCrypt.Net.BCrypt.EnhancedHashPassword(
        Guid.NewGuid().ToString(), PreHash, options.Value.BcryptWorkFactor));

    /// <summary>Costs what verifying a real user's password costs, for logins naming no user.</summary>
    public void VerifyUnknownUser(string providedPassword) =>
        _ = BCrypt.Net.BCrypt.EnhancedVerify(providedPassword, unknownUserHash.Value, PreHash);

    public string HashPassword(User user, string password) =>
        BCrypt.Net.BCrypt.EnhancedHashPassword(password, PreHash, options.Value.BcryptWorkFactor);

    public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
    {
        if (!hashedPassword.StartsWith("$2", StringComparison.Ordinal))
        {
            return legacy.VerifyHashedPassword(user, hashedPassword, providedPassword) == PasswordVerificationResult.Failed
                ? PasswordVerificationResult.Failed
                : PasswordVerificationResult.SuccessRehashNeeded;
        }
        if (!BCrypt.Net.BCrypt.EnhancedVerify(providedPassword, hashedPassword, PreHash))
        {
            return PasswordVerificationResult.Failed;
        }
        return BCrypt.Net.BCrypt.PasswordNeedsRehash(hashedPassword, options.Value.BcryptWorkFactor)
            ? PasswordVerificationResult.SuccessRehashNeeded
            : PasswordVerificationResult.Success;
    }
}
