using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Presence;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// <c>Limits:SocketsPerUser</c>: a user's open sockets, counted across every instance and login session, and whether
/// the user is online (has any). A socket holds a slot from its handshake until it closes. With Redis configured, a
/// user's slots are a sorted set of socket ids scored by their expiry (Redis' own clock), and the users online a sorted
/// set scored by their newest slot's expiry; each instance renews the slots of its open sockets (a few scripts for all
/// of them) every third of the slots' lifetime (<c>Limits:SocketSlotSeconds</c> or three quarters of
/// <c>Presence:TimeoutSeconds</c>, whichever is shorter), so the sockets of an instance that died stop counting after that, and the instance that next
/// finds such a user without live slots takes them offline. This instance also counts its own slots, which is the
/// whole count without Redis and the fallback while Redis is down or slow (the pattern of <see cref="RateLimits"/>);
/// slots taken meanwhile reach Redis at the next renewal, and those freed meanwhile leave it then (or at once when their
/// user's next claim is refused).
/// Every script decides a user's change of status atomically, so each change is raised (<see cref="Changed"/>) by
/// exactly one instance. Not a rate limit: <c>Limits:RateLimitingEnabled</c> does not turn it off.
/// </summary>
public sealed class SocketSlots : IHostedService, IDisposable
{
    /// <summary>
    /// KEYS[1] the user's slots, KEYS[2] the users online; ARGV[1] the socket id, ARGV[2] the slot's lifetime in ms,
    /// ARGV[3] the cap, ARGV[4] the user id. Drops expired slots, then takes one unless the cap is reached.
    /// Returns 0 when refused, 1 when taken, Redis' time (unix ms) when taken and the user came online by it.
    /// </summary>
    private const string Claim = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if redis.call('ZADD', KEYS[2], 'GT', now + tonumber(ARGV[2]), ARGV[4]) == 1 then return now end
        return 1
        """;

    /// <summary>
    /// KEYS[1] the users online, then one key per slot: its user's slots; ARGV[1] the lifetime in ms, then per slot its
    /// id and its user id. Renews (or adds) the slots; returns Redis' time (unix ms), then the users who came online by
    /// it (Redis had lost them).
    /// </summary>
    private const string Renew = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local life = tonumber(ARGV[1])
        local came = { now }
        for i = 2, #KEYS do
            redis.call('ZADD', KEYS[i], now + life, ARGV[2 * i - 2])
            redis.call('PEXPIRE', KEYS[i], life)
            if redis.call('ZADD', KEYS[1], 'GT', now + life, ARGV[2 * i - 1]) == 1 then came[#came + 1] = ARGV[2 * i - 1] end
        end
        return came
        """;

    /// <summary>
    /// KEYS[1] the users online, KEYS[2] the last-seen hash, then one key per slot: its user's slots; ARGV per slot its id
    /// (empty: none) and its user id. Frees the slots and drops expired ones; a user left without a live slot goes
    /// offline. Returns Redis' time (unix ms), then the users who went offline by it.
    /// </summary>
    private const string Release = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local gone = { now }
        for i = 3, #KEYS do
            local user = ARGV[2 * i - 4]
            redis.call('ZREM', KEYS[i], ARGV[2 * i - 5])
            redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
            local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
            if #newest > 0 then
                redis.call('ZADD', KEYS[1], 'XX', 'GT', newest[2], user)
            elseif redis.call('ZREM', KEYS[1], user) == 1 then
                redis.call('HSET', KEYS[2], user, now)
                gone[#gone + 1] = user
            end
        end
        return gone
        """;

    /// <summary>KEYS[1] the users online; ARGV[1] how many. Users whose newest slot has expired (their instance died).</summary>
    private const string Expired = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
        """;

    /// <summary>
    /// KEYS[1] the users online, KEYS[2] the last-seen hash; ARGV the user ids. Returns Redis' time (unix ms), then per
    /// user 1 or 0 (online) and when they were last seen (unix ms, -1 unknown).
    /// </summary>
    private const string States = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        local scores = redis.call('ZMSCORE', KEYS[1], unpack(ARGV))
        local seen = redis.call('HMGET', KEYS[2], unpack(ARGV))
        local out = { now }
        for i = 1, #ARGV do
            out[#out + 1] = (scores[i] and tonumber(scores[i]) > now) and 1 or 0
            out[#out + 1] = seen[i] or -1
        end
        return out
        """;

    /// <summary>Slots renewed per script call, and expired users settled per sweep.</summary>
    private const int ScriptBatch = 500;

    private readonly Lock gate = new();
    private readonly Dictionary<Guid, int> localCounts = [];
    private readonly Dictionary<Guid, Guid> localSlots = []; // slot id -> user id
    private readonly Dictionary<Guid, DateTimeOffset> localLastSeen = [];
    private readonly GuardedRedis redis;
    private readonly ChannelNames names;
    private readonly TimeProvider time;
    private readonly int cap;
    private readonly long lifetimeMilliseconds;
    private readonly TimeSpan commandTimeout;
    private ITimer? renewal;
    // Sockets closing together (an instance draining, a client's burst) free their slots in a few scripts, not one each:
    // thousands of scripts at once outlasted the guarded Redis' timeout, and the slots were left to expire.
    private readonly Channel<(string SlotId, Guid UserId, TaskCompletionSource Done)> releases =
        Channel.CreateUnbounded<(string, Guid, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });
    private int renewing;
    // Releases Redis did not take (down, slow, or left alone after a failure): tried again as soon as Redis may be used
    // again, when a claim of their user is refused and at every renewal, so a user whose sockets closed meanwhile is
    // neither refused for them nor shown online until the slots expire. Forgotten once the slots have expired by themselves.
    private readonly List<(string SlotId, Guid UserId, long FailedAt)> unsettled = [];
    private ITimer? unsettledRetry;

    public SocketSlots(IOptions<LimitsOptions> options, IOptions<PresenceOptions> presence, ChannelNames names, TimeProvider time, GuardedRedis redis)
    {
        var limits = options.Value;
        this.redis = redis;
        this.names = names;
        this.time = time;
        cap = limits.SocketsPerUser;
        commandTimeout = TimeSpan.FromMilliseconds(limits.SocketSlotRedisTimeoutMilliseconds);
        // A dead instance's user goes offline at most a lifetime plus a sweep (a third of it) after its last renewal.
        lifetimeMilliseconds = Math.Min(limits.SocketSlotSeconds * 1000L, presence.Value.TimeoutSeconds * 750L);
    }

    /// <summary>The answer's <c>Retry-After</c> when the cap is reached: sockets do not free on a schedule.</summary>
    public static TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(5);

    public int Cap => cap;

    /// <summary>A user came online or went offline (raised once per change, on the instance whose script decided it).</summary>
    public event Action<PresenceChange>? Changed;

    /// <summary>Takes a slot for a new socket of <paramref name="userId"/>; null when the user has <c>Limits:SocketsPerUser</c> open.</summary>
    public async Task<SocketSlot?> TryClaimAsync(Guid userId)
    {
        var slot = new SocketSlot(this, Guid.CreateVersion7(), userId);
        bool cameOnlineHere;
        lock (gate)
        {
            var count = localCounts.GetValueOrDefault(userId);
            if (count >= cap)
            {
                return null;
            }
            localCounts[userId] = count + 1;
            localSlots[slot.Id] = userId;
            cameOnlineHere = count == 0;
        }
        var claimed = await ClaimAsync(slot);
        if (claimed is 0 && await SettleUnsettledAsync(userId))
        {
            claimed = await ClaimAsync(slot); // the user's count in Redis held sockets that had closed
        }
        switch (claimed)
        {
            case 0:
                ReleaseLocally(slot);
                return null;
            case > 1 and var at:
                Raise(userId, online: true, DateTimeOffset.FromUnixTimeMilliseconds(at));
                break;
            case null when !redis.IsConfigured && cameOnlineHere:
                Raise(userId, online: true, time.GetUtcNow());
                break;
        }
        return slot;
    }

    private async Task<long?> ClaimAsync(SocketSlot slot)
    {
        var claimed = await redis.TryAsync(db => db.ScriptEvaluateAsync(Claim, [names.SocketSlots(slot.UserId), names.OnlineUsers],
            [slot.Id.ToString("N"), lifetimeMilliseconds, cap, slot.UserId.ToString("N")]), "socket-slot command", commandTimeout);
        return claimed is null ? null : (long)claimed;
    }

    internal async Task ReleaseAsync(SocketSlot slot)
    {
        var wentOfflineHere = ReleaseLocally(slot);
        if (!redis.IsConfigured)
        {
            if (wentOfflineHere)
            {
                Raise(slot.UserId, online: false, time.GetUtcNow());
            }
            return;
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!releases.Writer.TryWrite((slot.Id.ToString("N"), slot.UserId, done)))
        {
            await SettleAsync([(slot.Id.ToString("N"), slot.UserId)]); // disposed: no release loop (and no retry)
            return;
        }
        await done.Task;
    }

    private async Task ReleaseLoopAsync()
    {
        var batch = new List<(string SlotId, Guid UserId, TaskCompletionSource Done)>();
        while (await releases.Reader.WaitToReadAsync())
        {
            while (batch.Count < ScriptBatch && releases.Reader.TryRead(out var release))
            {
                batch.Add(release);
            }
            try
            {
                var slots = batch.Select(r => (r.SlotId, r.UserId)).ToList();
                if (!await SettleAsync(slots))
                {
                    var now = time.GetTimestamp();
                    lock (gate)
                    {
                        unsettled.AddRange(slots.Select(s => (s.SlotId, s.UserId, now)));
                    }
                    RetryUnsettledAfterPause();
                }
                batch.ForEach(r => r.Done.TrySetResult());
            }
            catch (Exception e)
            {
                batch.ForEach(r => r.Done.TrySetException(e)); // the loop goes on for the next sockets
            }
            batch.Clear();
        }
    }

    /// <summary>
    /// Tries the unsettled releases again once Redis' pause after a failure (<see cref="GuardedRedis.Pause"/>) is over,
    /// and after each later pause, until none is left. Only this instance can settle them: another instance, refusing
    /// their user a socket for them, has nothing of its own to settle, and the next renewal is up to a third of a slot's
    /// lifetime away.
    /// </summary>
    private void RetryUnsettledAfterPause() =>
        unsettledRetry?.Change(redis.Pause + TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);

    private async Task RetryUnsettledAsync()
    {
        await SettleUnsettledAsync(userId: null);
        lock (gate)
        {
            if (unsettled.Count == 0)
            {
                return;
            }
        }
        RetryUnsettledAfterPause();
    }

    /// <summary>Tries the releases Redis did not take again: those of <paramref name="userId"/>, or all; true when any were settled now.</summary>
    private async Task<bool> SettleUnsettledAsync(Guid? userId)
    {
        List<(string SlotId, Guid UserId, long FailedAt)> due;
        lock (gate)
        {
            if (unsettled.Count == 0)
            {
                return false;
            }
            unsettled.RemoveAll(u => time.GetElapsedTime(u.FailedAt).TotalMilliseconds > lifetimeMilliseconds); // expired in Redis
            due = [.. unsettled.Where(u => userId is null || u.UserId == userId)];
            unsettled.RemoveAll(u => userId is null || u.UserId == userId);
        }
        var settled = false;
        foreach (var chunk in due.Chunk(ScriptBatch))
        {
            if (await SettleAsync([.. chunk.Select(u => (u.SlotId, u.UserId))]))
            {
                settled = true;
                continue;
            }
            lock (gate)
            {
                unsettled.AddRange(chunk);
            }
        }
        return settled;
    }

    /// <summary>Runs <see cref="Release"/>: each user goes offline when no live slot of theirs is left. False when Redis did not answer.</summary>
    private async Task<bool> SettleAsync(IReadOnlyList<(string SlotId, Guid UserId)> slots)
    {
        var released = await redis.TryAsync(db => db.ScriptEvaluateAsync(Release,
            [names.OnlineUsers, names.LastSeen, .. slots.Select(s => (RedisKey)names.SocketSlots(s.UserId))],
            [.. slots.SelectMany(s => new RedisValue[] { s.SlotId, s.UserId.ToString("N") })]), "socket-slot command", commandTimeout);
        if (released is null)
        {
            return false;
        }
        var results = (RedisResult[])released!;
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)results[0]);
        foreach (var user in results.Skip(1))
        {
            Raise(Guid.ParseExact((string)user!, "N"), online: false, at);
        }
        return true;
    }

    /// <returns>Whether this was the user's last slot on this instance.</returns>
    private bool ReleaseLocally(SocketSlot slot)
    {
        lock (gate)
        {
            if (!localSlots.Remove(slot.Id))
            {
                return false;
            }
            var count = localCounts[slot.UserId] - 1;
            if (count > 0)
            {
                localCounts[slot.UserId] = count;
                return false;
            }
            localCounts.Remove(slot.UserId);
            localLastSeen[slot.UserId] = time.GetUtcNow();
            return true;
        }
    }

    private void Raise(Guid userId, bool online, DateTimeOffset at) => Changed?.Invoke(new PresenceChange(userId, online, at));

    /// <summary>
    /// Each user's status: online while a socket of theirs is open on any instance (this instance's own knowledge
    /// without Redis or while it is down). An online user's last sight is now.
    /// </summary>
    public async Task<Dictionary<Guid, UserPresence>> StatesAsync(IReadOnlyCollection<Guid> userIds)
    {
        if (userIds.Count == 0)
        {
            return [];
        }
        var ids = userIds.Distinct().ToList();
        var found = await redis.TryAsync(db => db.ScriptEvaluateAsync(States, [names.OnlineUsers, names.LastSeen],
            [.. ids.Select(id => (RedisValue)id.ToString("N"))]), "presence command");
        if (found is not null)
        {
            var values = (RedisResult[])found!;
            var now = DateTimeOffset.FromUnixTimeMilliseconds((long)values[0]);
            return ids.Select((id, i) => (id, Online: (long)values[1 + 2 * i] == 1, Seen: (long)values[2 + 2 * i]))
                .ToDictionary(s => s.id, s => s.Online
                    ? new UserPresence(s.id, true, now)
                    : new UserPresence(s.id, false, s.Seen < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(s.Seen)));
        }
        var localNow = time.GetUtcNow();
        lock (gate)
        {
            return ids.ToDictionary(id => id, id => localCounts.ContainsKey(id)
                ? new UserPresence(id, true, localNow)
                : new UserPresence(id, false, localLastSeen.TryGetValue(id, out var seen) ? seen : null));
        }
    }

    /// <summary>
    /// Renews every slot of this instance's open sockets in Redis (and adds those taken while it was down), a batch per
    /// script, frees those Redis missed the release of, then takes offline the users whose slots nobody renewed (their
    /// instance died).
    /// </summary>
    private async Task RenewAllAsync()
    {
        if (Interlocked.Exchange(ref renewing, 1) == 1)
        {
            return;
        }
        try
        {
            List<SocketSlot> slots;
            lock (gate)
            {
                slots = localSlots.Select(s => new SocketSlot(this, s.Key, s.Value)).ToList();
            }
            await Task.WhenAll(slots.Chunk(ScriptBatch).Select(RenewAsync));
            await SettleUnsettledAsync(userId: null); // after the renewal: a user who reconnected meanwhile stays online
            await SweepAsync();
        }
        finally
        {
            Volatile.Write(ref renewing, 0);
        }
    }

    private async Task RenewAsync(SocketSlot[] slots)
    {
        var renewed = await redis.TryAsync(db => db.ScriptEvaluateAsync(Renew,
            [names.OnlineUsers, .. slots.Select(s => (RedisKey)names.SocketSlots(s.UserId))],
            [lifetimeMilliseconds, .. slots.SelectMany(s => new RedisValue[] { s.Id.ToString("N"), s.UserId.ToString("N") })]), "socket-slot command", commandTimeout);
        if (renewed is null)
        {
            return; // Redis is down: the next round tries again
        }
        List<SocketSlot> closed;
        HashSet<Guid> stillOnline;
        lock (gate)
        {
            closed = slots.Where(s => !localSlots.ContainsKey(s.Id)).ToList();
            stillOnline = [.. localCounts.Keys];
        }
        var results = (RedisResult[])renewed!;
        var now = DateTimeOffset.FromUnixTimeMilliseconds((long)results[0]);
        foreach (var cameOnline in results.Skip(1).Select(r => Guid.ParseExact((string)r!, "N")).Where(stillOnline.Contains))
        {
            Raise(cameOnline, online: true, now);
        }
        foreach (var slot in closed)
        {
            await ReleaseAsync(slot); // it closed while being renewed
        }
    }

    private async Task SweepAsync()
    {
        var expired = await redis.TryAsync(db => db.ScriptEvaluateAsync(Expired, [names.OnlineUsers], [ScriptBatch]), "presence command");
        if (expired is null)
        {
            return;
        }
        var users = (RedisResult[])expired!;
        if (users.Length > 0)
        {
            await SettleAsync([.. users.Select(u => ("", Guid.ParseExact((string)u!, "N")))]);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (redis.IsConfigured)
        {
            var every = TimeSpan.FromMilliseconds(lifetimeMilliseconds / 3);
            renewal = time.CreateTimer(_ => _ = RenewAllAsync(), null, every, every);
            unsettledRetry = time.CreateTimer(_ => _ = RetryUnsettledAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _ = Task.Run(ReleaseLoopAsync, CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        renewal?.Dispose();
        unsettledRetry?.Dispose();
        releases.Writer.TryComplete();
    }
}

/// <summary>A user came online (<see cref="Online"/>) or went offline, at <see cref="At"/>.</summary>
public sealed record PresenceChange(Guid UserId, bool Online, DateTimeOffset At);

/// <summary>A user's status; <see cref="LastSeenAt"/> is now for a user online, null when never seen.</summary>
public sealed record UserPresence(Guid UserId, bool Online, DateTimeOffset? LastSeenAt);

/// <summary>One socket's place in its user's <c>Limits:SocketsPerUser</c>; disposing it frees the place (once).</summary>
public sealed class SocketSlot(SocketSlots owner, Guid id, Guid userId) : IAsyncDisposable
{
    private int released;

    public Guid Id { get; } = id;
    public Guid UserId { get; } = userId;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref released, 1) == 0)
        {
            await owner.ReleaseAsync(this);
        }
    }
}
