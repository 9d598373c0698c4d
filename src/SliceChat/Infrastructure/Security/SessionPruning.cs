using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Security;

/// <summary>
/// Deletes login sessions that can never be used again (expired, or revoked longer ago than an access token
/// lives), with their refresh tokens, so the tables do not grow for ever. Every instance runs it; the deletes
/// are idempotent. A database error waits for the next round.
/// </summary>
public sealed partial class SessionPruning(IServiceScopeFactory scopes, IOptions<JwtOptions> options, ILogger<SessionPruning> logger) : BackgroundService
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.PruneSessionsMinutes));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                LogPruned(logger, await PruneAsync(stoppingToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Pruned {Count} dead login sessions")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "Pruning login sessions failed; trying again next round")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
