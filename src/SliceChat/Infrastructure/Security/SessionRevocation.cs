using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Security;

/// <summary>A login session was revoked (logout, refresh-token reuse, account deletion).</summary>
public sealed record SessionRevoked(Guid UserId, Guid SessionId);

/// <summary>
/// Answers "is this login session still active?" for every authenticated request without a database
/// round trip each time: answers are cached for <c>Jwt:SessionCacheSeconds</c>, and revocations reach
/// every instance at once over the bus (the cache bounds the damage when such a message is lost).
/// </summary>
public sealed class SessionRevocation(IServiceScopeFactory scopes, IMessageBus bus, ChannelNames channels, IOptions<JwtOptions> options) : IHostedService
{
    private const int MaxCachedSessions = 100_000;
    private readonly ConcurrentDictionary<Guid, CachedState> sessions = new();
    private IAsyncDisposable? subscription;

    /// <summary>Raised on every instance for each revocation, for closing the affected sockets.</summary>
    public event Action<SessionRevoked>? Revoked;

    public async Task<bool> IsActiveAsync(Guid sessionId, Guid userId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (sessions.TryGetValue(sessionId, out var cached) && cached.ValidUntil > now)
        {
            return cached.Active;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var utcNow = Clock.Now();
        var active = await db.LoginSessions.AnyAsync(s => s.Id == sessionId && s.UserId == userId && s.RevokedAt == null && s.ExpiresAt > utcNow, ct);
        if (sessions.Count > MaxCachedSessions)
        {
            sessions.Clear();
        }
        // A revocation seen over the bus while this query ran wins.
        var validUntil = now + options.Value.SessionCacheSeconds * 1000L;
        return sessions.AddOrUpdate(sessionId,
            _ => new CachedState(active, validUntil),
            (_, current) => current.Active ? new CachedState(active, validUntil) : current).Active;
    }

    /// <summary>Call after the revocations are committed: tells every instance, this one included.</summary>
    public async Task PublishAsync(IEnumerable<SessionRevoked> revocations)
    {
        foreach (var revoked in revocations)
        {
            await bus.PublishAsync(channels.Sessions, JsonSerializer.SerializeToUtf8Bytes(revoked));
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken) =>
        subscription = await bus.SubscribeAsync(channels.Sessions, OnMessage);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (subscription is not null)
        {
            await subscription.DisposeAsync();
        }
    }

    private void OnMessage(ReadOnlyMemory<byte> message)
    {
        var revoked = JsonSerializer.Deserialize<SessionRevoked>(message.Span);
        if (revoked is null)
        {
            return;
        }
        var revokedFor = Environment.TickCount64 + TimeSpan.FromMinutes(options.Value.AccessTokenMinutes + 1).Ticks / TimeSpan.TicksPerMillisecond;
        sessions[revoked.SessionId] = new CachedState(false, revokedFor);
        Revoked?.Invoke(revoked);
    }

    private sealed record CachedState(bool Active, long ValidUntil);
}
