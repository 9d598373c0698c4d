// What presence costs Redis: `bash bench/run.sh micro presence-cost [sockets]` (default 10,000).
// An app instance over the PostgreSQL and Redis of bench/run.sh. Its SocketSlots (the socket cap and presence) take
// `sockets` slots for as many users, one more for each of them, and free them all; then another instance holds
// `sockets` slots through three renewal rounds. Redis' INFO commandstats before and after each phase give the
// commands per socket open and close and per renewal round: the calls the instance sends (EVALSHA/EVAL, PUBLISH)
// and every command they run inside Redis.
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Realtime;
using StackExchange.Redis;

namespace SliceChat.Bench;

internal static class PresenceCost
{
    public static async Task RunAsync(string connectionString, string redis, int sockets)
    {
        // A connection of its own for INFO (an admin command), which the counts leave out.
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{redis},allowAdmin=true");
        var info = admin.GetServer(admin.GetEndPoints()[0]);
        var rows = new List<(string Phase, Dictionary<string, long> Calls, int Per)>();

        async Task<Dictionary<string, long>> CallsAsync()
        {
            var stats = await info.InfoAsync("commandstats");
            return stats.SelectMany(g => g).Where(p => p.Key.StartsWith("cmdstat_", StringComparison.Ordinal) && p.Key != "cmdstat_info")
                .ToDictionary(p => p.Key["cmdstat_".Length..], p => long.Parse(p.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture));
        }

        async Task<Dictionary<string, long>> QuietCallsAsync()
        {
            // Until nothing moves for a while: presence changes publish in the background, after a database lookup.
            var last = await CallsAsync();
            while (true)
            {
                await Task.Delay(2000);
                var now = await CallsAsync();
                if (now.Sum(c => c.Value) == last.Sum(c => c.Value))
                {
                    return now;
                }
                last = now;
            }
        }

        async Task MeasureAsync(string phase, int per, Func<Task> work)
        {
            var before = await QuietCallsAsync();
            await work();
            var after = await QuietCallsAsync();
            rows.Add((phase, after.ToDictionary(c => c.Key, c => c.Value - before.GetValueOrDefault(c.Key)), per));
        }

        var users = Enumerable.Range(0, sockets).Select(_ => Guid.CreateVersion7()).ToList();
        // Opens and closes: renewals every 15 minutes, so that none falls into these phases.
        await using (var server = Start(connectionString, redis, timeoutSeconds: 3600, slotSeconds: 3600))
        {
            var slots = server.Services.GetRequiredService<SocketSlots>();
            var first = new List<SocketSlot>();
            var second = new List<SocketSlot>();
            await MeasureAsync("open, first socket of a user (comes online)", sockets, async () => first.AddRange(await ClaimAllAsync(slots, users)));
            await MeasureAsync("open, second socket of a user", sockets, async () => second.AddRange(await ClaimAllAsync(slots, users)));
            await MeasureAsync("close, one of two sockets", sockets, () => FreeAllAsync(second));
            await MeasureAsync("close, last socket (goes offline)", sockets, () => FreeAllAsync(first));
        }

        // Renewal rounds with `sockets` open: bursts of calls every 3 s, counted one by one.
        await using (var server = Start(connectionString, redis, timeoutSeconds: 12, slotSeconds: 30))
        {
            var open = await ClaimAllAsync(server.Services.GetRequiredService<SocketSlots>(), users);
            var previous = await QuietCallsAsync();
            var burstStart = previous;
            var inBurst = false;
            var rounds = 0;
            var clock = Stopwatch.StartNew();
            while (rounds < 3 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50);
                var now = await CallsAsync();
                var moved = now.Sum(c => c.Value) != previous.Sum(c => c.Value);
                if (moved && !inBurst)
                {
                    inBurst = true;
                    burstStart = previous;
                }
                else if (!moved && inBurst)
                {
                    inBurst = false;
                    rounds++;
                    rows.Add(("renewal round (the instance's every socket)", now.ToDictionary(c => c.Key, c => c.Value - burstStart.GetValueOrDefault(c.Key)), 1));
                }
                previous = now;
            }
            await FreeAllAsync(open);
            await QuietCallsAsync(); // the offline changes published before the instance goes
        }

        Console.WriteLine($"Presence's Redis cost with {sockets} sockets, Redis {info.Version}");
        Console.WriteLine();
        Console.WriteLine("| phase | calls sent | commands run in Redis |");
        Console.WriteLine("|---|---|---|");
        foreach (var (phase, calls, per) in rows)
        {
            static bool Sent(string command) => command is "evalsha" or "eval" or "publish";
            string List(Func<string, bool> which) => string.Join(", ", calls.Where(c => c.Value > 0 && which(c.Key)).OrderBy(c => c.Key)
                .Select(c => $"{c.Key} {(double)c.Value / per:0.##}"));
            Console.WriteLine($"| {phase}{(per == 1 ? "" : ", per socket")} | {(double)calls.Where(c => Sent(c.Key)).Sum(c => c.Value) / per:0.##} ({List(Sent)}) | {List(c => c is not ("evalsha" or "eval"))} |");
        }
    }

    /// <summary>Slots live the shorter of three quarters of <paramref name="timeoutSeconds"/> and <paramref name="slotSeconds"/>, renewed every third of that.</summary>
    private static Instance Start(string connectionString, string redis, int timeoutSeconds, int slotSeconds) => new(connectionString, redis, new Dictionary<string, string>
    {
        ["Presence:TimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Limits:SocketSlotSeconds"] = slotSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // A slow call (a loaded machine) would leave Redis alone for Limits:RateLimitFallbackSeconds, and the slots
        // taken meanwhile would reach it only at the next renewal: a different count.
        ["Limits:RateLimitRedisTimeoutMilliseconds"] = "2000",
    });

    private static async Task FreeAllAsync(List<SocketSlot> slots)
    {
        foreach (var chunk in slots.Chunk(20))
        {
            await Task.WhenAll(chunk.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private static async Task<List<SocketSlot>> ClaimAllAsync(SocketSlots slots, List<Guid> users)
    {
        // A few at a time, as handshakes come: a burst of hundreds at once outruns Limits:RateLimitRedisTimeoutMilliseconds
        // on a small machine, and the slots would wait for the next renewal.
        var claimed = new List<SocketSlot>(users.Count);
        foreach (var chunk in users.Chunk(20))
        {
            claimed.AddRange((await Task.WhenAll(chunk.Select(slots.TryClaimAsync)))
                .Select(s => s ?? throw new InvalidOperationException("A slot was refused.")));
        }
        return claimed;
    }
}
