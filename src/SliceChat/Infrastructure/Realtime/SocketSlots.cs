using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// <c>Limits:SocketsPerUser</c>: a user's open sockets, counted across every instance and login session. A socket
/// holds a slot from its handshake until it closes. With Redis configured, a user's slots are a sorted set of socket
/// ids scored by their expiry (Redis' own clock); each instance renews the slots of its open sockets every third of
/// <c>Limits:SocketSlotSeconds</c>, so the sockets of an instance that died stop counting after that. This instance
/// also counts its own slots, which is the whole count without Redis and the fallback while Redis is down or slow
/// (the pattern of <see cref="RateLimits"/>); slots taken meanwhile reach Redis at the next renewal.
/// Not a rate limit: <c>Limits:RateLimitingEnabled</c> does not turn it off.
/// </summary>
public sealed class SocketSlots : IHostedService, IDisposable
{
    /// <summary>
    /// KEYS[1] the user's slots; ARGV[1] the socket id, ARGV[2] the slot's lifetime in ms, ARGV[3] the cap.
    /// Drops expired slots, then takes one unless the cap is reached. Returns 1 when taken, else 0.
    /// </summary>
    private const string Claim = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    /// <summary>KEYS[1] the user's slots; ARGV[1] the socket id, ARGV[2] the lifetime in ms. Renews (or adds) the slot.</summary>
    private const string Renew = """
        local t = redis.call('TIME')
        local now = t[1] * 1000 + math.floor(t[2] / 1000)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    private readonly Lock gate = new();
    private readonly Dictionary<Guid, int> localCounts = [];
    private readonly Dictionary<Guid, Guid> localSlots = []; // slot id -> user id
    private readonly GuardedRedis redis;
    private readonly ChannelNames names;
    private readonly TimeProvider time;
    private readonly int cap;
    private readonly long lifetimeMilliseconds;
    private ITimer? renewal;
    private int renewing;

    public SocketSlots(IOptions<LimitsOptions> options, ChannelNames names, TimeProvider time, GuardedRedis redis)
    {
        var limits = options.Value;
        this.redis = redis;
        this.names = names;
        this.time = time;
        cap = limits.SocketsPerUser;
        lifetimeMilliseconds = limits.SocketSlotSeconds * 1000L;
    }

    /// <summary>The answer's <c>Retry-After</c> when the cap is reached: sockets do not free on a schedule.</summary>
    public static TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(5);

    public int Cap => cap;

    /// <summary>Takes a slot for a new socket of <paramref name="userId"/>; null when the user has <c>Limits:SocketsPerUser</c> open.</summary>
    public async Task<SocketSlot?> TryClaimAsync(Guid userId)
    {
        var slot = new SocketSlot(this, Guid.CreateVersion7(), userId);
        lock (gate)
        {
            var count = localCounts.GetValueOrDefault(userId);
            if (count >= cap)
            {
                return null;
            }
            localCounts[userId] = count + 1;
            localSlots[slot.Id] = userId;
        }
        if (await RedisAsync(Claim, slot, cap) is 0)
        {
            ReleaseLocally(slot);
            return null;
        }
        return slot;
    }

    internal async Task ReleaseAsync(SocketSlot slot)
    {
        ReleaseLocally(slot);
        // A failure leaves the slot to expire in Redis after Limits:SocketSlotSeconds.
        await redis.TryAsync(async db => RedisResult.Create(await db.SortedSetRemoveAsync(names.SocketSlots(slot.UserId), slot.Id.ToString("N"))),
            "socket-slot command");
    }

    private void ReleaseLocally(SocketSlot slot)
    {
        lock (gate)
        {
            if (!localSlots.Remove(slot.Id))
            {
                return;
            }
            var count = localCounts[slot.UserId] - 1;
            if (count == 0)
            {
                localCounts.Remove(slot.UserId);
            }
            else
            {
                localCounts[slot.UserId] = count;
            }
        }
    }

    /// <summary>Runs one script on the slot's set; null when Redis is absent, down or slow (this instance's count decides).</summary>
    private async Task<long?> RedisAsync(string script, SocketSlot slot, int withCap = 0)
    {
        var result = await redis.TryAsync(db => db.ScriptEvaluateAsync(script, [names.SocketSlots(slot.UserId)],
            withCap > 0 ? [slot.Id.ToString("N"), lifetimeMilliseconds, withCap] : [slot.Id.ToString("N"), lifetimeMilliseconds]), "socket-slot command");
        return result is null ? null : (long)result;
    }

    /// <summary>Renews every slot of this instance's open sockets in Redis (and adds those taken while it was down), all at once.</summary>
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
            await Task.WhenAll(slots.Select(RenewAsync));
        }
        finally
        {
            Volatile.Write(ref renewing, 0);
        }
    }

    private async Task RenewAsync(SocketSlot slot)
    {
        if (await RedisAsync(Renew, slot) is null)
        {
            return; // Redis is down: the next round tries again
        }
        bool open;
        lock (gate)
        {
            open = localSlots.ContainsKey(slot.Id);
        }
        if (!open)
        {
            await ReleaseAsync(slot); // it closed while being renewed
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (redis.IsConfigured)
        {
            var every = TimeSpan.FromMilliseconds(lifetimeMilliseconds / 3);
            renewal = time.CreateTimer(_ => _ = RenewAllAsync(), null, every, every);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => renewal?.Dispose();
}

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
