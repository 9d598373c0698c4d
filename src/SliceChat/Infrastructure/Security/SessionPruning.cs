using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Security;

/// <summary>
/// Deletes login sessions that can never be used again (expired, or revoked longer ago than an access token
/// lives), with their refresh tokens, so the tables do not grow for ever. Every instance runs it; the deletes
/// are idempotent. A database error waits for the next round.
/// </summary>
public sealed class SessionPruning(IServiceScopeFactory scopes, IOptions<JwtOptions> options, ILogger<SessionPruning> logger)
    : PeriodicCleanup(TimeSpan.FromMinutes(options.Value.PruneSessionsMinutes), logger)
{
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var now = Clock.Now();
        var revokedBefore = now.AddMinutes(-options.Value.AccessTokenMinutes);
        // Refresh tokens go with their session (cascading foreign key).
        return await db.LoginSessions.Where(s => s.ExpiresAt <= now || s.RevokedAt <= revokedBefore).ExecuteDeleteAsync(ct);
    }

    protected override string Removes => "dead login sessions";

    protected override Task<int> RoundAsync(CancellationToken ct) => PruneAsync(ct);
}
