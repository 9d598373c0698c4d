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

    // Misses of many requests at once (the sockets of a crowd of users reconnecting, a user's several sockets) share a
    // query. Made on first use (it calls this instance); two made at once would each still answer their own callers.
    private CoalescedLookup<(Guid SessionId, Guid UserId), bool> Misses => field ??= new(async wanted =>
    {
        var active = await QueryActiveAsync(wanted, Environment.TickCount64, CancellationToken.None);
        return wanted.ToDictionary(w => w, w => active.Contains(w.SessionId));
    }, QueryChunk);

    /// <summary>Raised on every instance for each revocation, for closing the affected sockets.</summary>
    public event Action<SessionRevoked>? Revoked;

    public async Task<bool> IsActiveAsync(Guid sessionId, Guid userId, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (sessions.TryGetValue(sessionId, out var cached) && cached.ValidUntil > now)
        {
            return cached.Active;
        }
        return await Misses.GetAsync((sessionId, userId), ct);
    }

    /// <summary>
    /// Which of these sessions are no longer active, for the socket sweep: the cached answers, and the
    /// rest in one query per <see cref="QueryChunk"/> sessions instead of one per socket. A round that
    /// queries also refreshes the answers that would run out within half the cache time, so the
    /// sockets' sessions come due together instead of one round each.
    /// </summary>
    public async Task<HashSet<Guid>> InactiveAmongAsync(IReadOnlyCollection<(Guid SessionId, Guid UserId)> candidates, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        var soon = now + options.Value.SessionCacheSeconds * 500L;
        var inactive = new HashSet<Guid>();
        var due = new List<(Guid SessionId, Guid UserId)>();
        var anyExpired = false;
        foreach (var candidate in candidates)
        {
            if (sessions.TryGetValue(candidate.SessionId, out var cached) && cached.ValidUntil > now)
            {
                if (!cached.Active)
                {
                    inactive.Add(candidate.SessionId);
                }
                else if (cached.ValidUntil <= soon)
                {
                    due.Add(candidate);
                }
            }
            else
            {
                due.Add(candidate);
                anyExpired = true;
            }
        }
        if (!anyExpired)
        {
            return inactive;
        }
        foreach (var chunk in due.Chunk(QueryChunk))
        {
            var active = await QueryActiveAsync(chunk, now, ct);
            inactive.UnionWith(chunk.Select(c => c.SessionId).Where(id => !active.Contains(id)));
        }
        return inactive;
    }

    private const int QueryChunk = 1000;

    /// <summary>Reads the sessions' state from the database and caches it; returns the active ones.</summary>
    private async Task<HashSet<Guid>> QueryActiveAsync(IReadOnlyCollection<(Guid SessionId, Guid UserId)> wanted, long now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var utcNow = Clock.Now();
        var ids = wanted.Select(w => w.SessionId).ToList();
        var live = (await db.LoginSessions.Where(s => ids.Contains(s.Id) && s.RevokedAt == null && s.ExpiresAt > utcNow)
            .Select(s => new { s.Id, s.UserId }).ToListAsync(ct)).Select(s => (s.Id, s.UserId)).ToHashSet();
        if (sessions.Count > MaxCachedSessions)
        {
            sessions.Clear();
        }
        var validUntil = now + options.Value.SessionCacheSeconds * 1000L;
        var active = new HashSet<Guid>();
        foreach (var (sessionId, userId) in wanted)
        {
            var found = live.Contains((sessionId, userId));
            // A revocation seen over the bus while this query ran wins.
            if (sessions.AddOrUpdate(sessionId,
                    _ => new CachedState(found, validUntil),
                    (_, current) => current.Active ? new CachedState(found, validUntil) : current).Active)
            {
                active.Add(sessionId);
            }
        }
        return active;
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
