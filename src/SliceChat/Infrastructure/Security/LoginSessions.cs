using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;

namespace SliceChat.Infrastructure.Security;

public sealed record IssuedTokens(AccessToken Access, string RefreshToken);

/// <summary>Starts login sessions, rotates their refresh tokens (spending each once) and revokes them.</summary>
public sealed class LoginSessions(ChatDbContext db, TokenService tokens, SessionRevocation revocation, IOptions<JwtOptions> options)
{
    public async Task<IssuedTokens> StartAsync(User user, string? userAgent, CancellationToken ct)
    {
        var now = Clock.Now();
        var session = new LoginSession
        {
            Id = SequentialIds.Next(),
            UserId = user.Id,
            CreatedAt = now,
            LastUsedAt = now,
            UserAgent = userAgent is { Length: > LoginSession.UserAgentMax } ? userAgent[..LoginSession.UserAgentMax] : userAgent,
            ExpiresAt = now.AddDays(options.Value.RefreshTokenDays),
        };
        db.LoginSessions.Add(session);
        var refresh = AddRefreshToken(session.Id, now);
        await db.SaveChangesAsync(ct);
        return new IssuedTokens(tokens.IssueAccessToken(user.Id, user.Username, session.Id), refresh);
    }

    /// <summary>
    /// Spends the refresh token and issues a new pair. A token that was already spent is a sign that it
    /// leaked, so its whole session is revoked. Null when the token is unknown, spent, or its session is over.
    /// </summary>
    public async Task<IssuedTokens?> RefreshAsync(string refreshToken, CancellationToken ct)
    {
        var hash = TokenService.HashRefreshToken(refreshToken);
        var now = Clock.Now();
        var found = await (
            from t in db.RefreshTokens
            join s in db.LoginSessions on t.SessionId equals s.Id
            join u in db.Users on s.UserId equals u.Id
            where t.TokenHash == hash
            select new { Token = t, Session = s, User = u }).AsNoTracking().SingleOrDefaultAsync(ct);
        if (found is null || found.Session.RevokedAt is not null || found.Session.ExpiresAt <= now || found.User.DeletedAt is not null)
        {
            return null;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Conditional, so of two racing uses of one token exactly one wins.
        var spent = await db.RefreshTokens
            .Where(t => t.Id == found.Token.Id && t.SpentAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.SpentAt, now), ct);
        if (spent == 0)
        {
            await transaction.RollbackAsync(ct);
            await RevokeAsync([found.Session.Id], ct);
            return null;
        }
        var refresh = AddRefreshToken(found.Session.Id, now);
        await db.SaveChangesAsync(ct);
        await db.LoginSessions.Where(s => s.Id == found.Session.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastUsedAt, now), ct);
        await transaction.CommitAsync(ct);
        return new IssuedTokens(tokens.IssueAccessToken(found.User.Id, found.User.Username, found.Session.Id), refresh);
    }

    /// <summary>Revokes the sessions in the database, then on every instance (their access tokens and sockets).</summary>
    public async Task RevokeAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken ct)
    {
        var now = Clock.Now();
        var sessions = await db.LoginSessions.Where(s => sessionIds.Contains(s.Id)).Select(s => new { s.Id, s.UserId }).ToListAsync(ct);
        await db.LoginSessions.Where(s => sessionIds.Contains(s.Id) && s.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RevokedAt, now), ct);
        await revocation.PublishAsync(sessions.Select(s => new SessionRevoked(s.UserId, s.Id)));
    }

    /// <summary>Revokes every live session of the user but <paramref name="exceptSessionId"/> (a password change keeps the caller's).</summary>
    public async Task RevokeAllOfUserAsync(Guid userId, Guid? exceptSessionId, CancellationToken ct)
    {
        var ids = await Live(userId).Where(s => s.Id != exceptSessionId).Select(s => s.Id).ToListAsync(ct);
        await RevokeAsync(ids, ct);
    }

    /// <summary>The user's sessions that are neither revoked nor expired.</summary>
    public IQueryable<LoginSession> Live(Guid userId)
    {
        var now = Clock.Now();
        return db.LoginSessions.Where(s => s.UserId == userId && s.RevokedAt == null && s.ExpiresAt > now);
    }

    private string AddRefreshToken(Guid sessionId, DateTimeOffset now)
    {
        var token = TokenService.NewRefreshToken();
        db.RefreshTokens.Add(new RefreshToken { Id = Guid.CreateVersion7(), SessionId = sessionId, TokenHash = TokenService.HashRefreshToken(token), CreatedAt = now });
        return token;
    }
}
