// Measures what the contract promises about speed, against a baseline taken in the same run:
//   1. a history page of a 100,000-message room, against the same page of a 100-message room, and the conversations
//      list of a caller in 200 conversations;
//   2. a failed login of an unknown user, against one with a wrong password (they must look alike);
//   3. end-to-end latency of a REST post on instance A to a socket on instance B (idle system),
//      against the REST post's own round trip.
// With the argument `sends [runs]`: sends per second of 8 concurrent REST senders over 10 rooms (SendThroughput.cs);
// `presence-cost [sockets]`: Redis commands per socket open and close and per renewal round (PresenceCost.cs);
// `attachments [runs]`: upload and download MB/s of a 10 MiB attachment (AttachmentThroughput.cs).
// Two app instances run in this process on real Kestrel ports, over the PostgreSQL and Redis
// that bench/run.sh starts. Prints medians (p50), p99 and ratios as a Markdown table.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace SliceChat.Bench;

internal static class Benchmarks
{
    public static async Task Main(string[] args)
    {
        if (args is ["idle-clients", var url, var clients])
        {
            await IdleSockets.ClientsAsync(new Uri(url), int.Parse(clients, System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        // The app's content root, for WebApplicationFactory outside a test project.
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "SliceChat.sln")))
        {
            root = root.Parent;
        }
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SLICECHAT", Path.Combine(root!.FullName, "src", "SliceChat"));
        var postgres = Environment.GetEnvironmentVariable("SLICECHAT_TEST_POSTGRES") ?? throw new InvalidOperationException("Run bench/run.sh.");
        var redis = Environment.GetEnvironmentVariable("SLICECHAT_TEST_REDIS") ?? throw new InvalidOperationException("Run bench/run.sh.");
        var samples = int.TryParse(Environment.GetEnvironmentVariable("SLICECHAT_BENCH_SAMPLES"), out var n) ? n : 300;
        if (args is ["attachments", ..])
        {
            await AttachmentThroughput.RunAsync(postgres, redis, args.Length > 1 && int.TryParse(args[1], out var files) ? files : 7);
            return;
        }
        if (args is ["sends", ..])
        {
            var runs = args.Length > 1 && int.TryParse(args[1], out var r) ? r : 3;
            await SendThroughput.RunAsync(postgres, redis, runs, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));
            return;
        }

        var database = "slicechat_bench_" + Guid.NewGuid().ToString("N")[..8];
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin).ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = database }.ConnectionString;
        async Task DropDatabaseAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var drop = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString);
            await drop.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", drop).ExecuteNonQueryAsync();
        }
        if (args is ["presence-cost", ..var sizes])
        {
            await PresenceCost.RunAsync(connectionString, redis, sizes is [var size] ? int.Parse(size, System.Globalization.CultureInfo.InvariantCulture) : 10_000);
            await DropDatabaseAsync();
            return;
        }
        if (args is ["idle-sockets", ..var rest])
        {
            await IdleSockets.RunAsync(connectionString, redis, rest is [var count] ? int.Parse(count, System.Globalization.CultureInfo.InvariantCulture) : 3000);
            await DropDatabaseAsync();
            return;
        }

        await using var a = new Instance(connectionString, redis);
        await using var b = new Instance(connectionString, redis);
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

        var http = new HttpClient { BaseAddress = a.Address };
        var username = "bench" + Guid.NewGuid().ToString("N")[..8];
        (await http.PostAsJsonAsync("/api/v1/auth/register", new { username, email = $"{username}@example.com", password = "benchmark password" }, json)).EnsureSuccessStatusCode();
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "benchmark password" }, json)).Content.ReadFromJsonAsync<JsonElement>();
        var token = login.GetProperty("access_token").GetString()!;
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var userId = (await http.GetFromJsonAsync<JsonElement>("/api/v1/users/me")).GetProperty("id").GetGuid();

        async Task<Guid> RoomAsync(int messages)
        {
            var room = await (await http.PostAsJsonAsync("/api/v1/chatrooms", new { name = $"bench {messages}" }, json)).Content.ReadFromJsonAsync<JsonElement>();
            var id = room.GetProperty("id").GetGuid();
            await using var db = new NpgsqlConnection(connectionString);
            await db.OpenAsync();
            var seed = new NpgsqlCommand("""
                INSERT INTO messages (id, chatroom_id, seq, sender_id, content, created_at)
                SELECT gen_random_uuid(), @room, s, @user, 'benchmark message ' || s, now() FROM generate_series(1, @count) AS s;
                UPDATE chatrooms SET last_seq = @count WHERE id = @room;
                ANALYZE messages;
                """, db);
            seed.Parameters.AddWithValue("room", id);
            seed.Parameters.AddWithValue("user", userId);
            seed.Parameters.AddWithValue("count", (long)messages);
            await seed.ExecuteNonQueryAsync();
            return id;
        }

        var sampleAllocations = Environment.GetEnvironmentVariable("SLICECHAT_BENCH_ALLOCATIONS") == "1";
        var allocatedPerSample = new Dictionary<List<double>, long>();
        var allocatedTypes = new Dictionary<List<double>, IReadOnlyList<(string Type, long Samples, long Bytes)>>();

        // Times `action`; `untimed` runs after each sample, outside the measurement. Also counts the bytes the
        // process allocated per sample (both instances and the in-process client), by type with SLICECHAT_BENCH_ALLOCATIONS=1.
        async Task<List<double>> TimeAsync(Func<Task> action, Func<Task>? untimed = null)
        {
            for (var i = 0; i < 20; i++)
            {
                await action(); // warm-up
                await (untimed?.Invoke() ?? Task.CompletedTask);
            }
            var times = new List<double>(samples);
            using var sampler = sampleAllocations ? new AllocationSampler() : null;
            sampler?.Start();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < samples; i++)
            {
                var watch = Stopwatch.StartNew();
                await action();
                times.Add(watch.Elapsed.TotalMilliseconds);
                await (untimed?.Invoke() ?? Task.CompletedTask);
            }
            allocatedPerSample[times] = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / samples;
            if (sampler?.Stop() is { } types)
            {
                allocatedTypes[times] = types;
            }
            return times;
        }

        static double Percentile(List<double> values, double p)
        {
            var sorted = values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        }

        var small = await RoomAsync(100);
        var large = await RoomAsync(100_000);
        var rows = new List<(string Name, List<double> Times, string Baseline)>();

        async Task PageAsync(Guid room, string query) =>
            (await http.GetAsync($"/api/v1/chatrooms/{room}/messages?limit=50{query}")).EnsureSuccessStatusCode();

        rows.Add(("history, newest page, 100-message room", await TimeAsync(() => PageAsync(small, "")), ""));
        rows.Add(("history, newest page, 100,000-message room", await TimeAsync(() => PageAsync(large, "")), "history, newest page, 100-message room"));
        rows.Add(("history, before_seq=50000, 100,000-message room", await TimeAsync(() => PageAsync(large, "&before_seq=50000")), "history, newest page, 100-message room"));
        rows.Add(("history, after_seq=99000, 100,000-message room", await TimeAsync(() => PageAsync(large, "&after_seq=99000")), "history, newest page, 100-message room"));

        // The caller's conversations list at 200 conversations (the two rooms above and these), each with its last message.
        await using (var db = new NpgsqlConnection(connectionString))
        {
            await db.OpenAsync();
            var seed = new NpgsqlCommand("""
                CREATE TEMP TABLE rooms AS SELECT gen_random_uuid() AS id, g AS n FROM generate_series(1, 198) g;
                INSERT INTO chatrooms (id, kind, name, is_private, created_by, created_at, last_seq, last_activity_at)
                    SELECT id, 0, 'bench list ' || n, false, @user, now(), 1, now() - n * interval '1 second' FROM rooms;
                INSERT INTO members (chatroom_id, user_id, role, joined_at, last_read_seq) SELECT id, @user, 1, now(), 0 FROM rooms;
                INSERT INTO messages (id, chatroom_id, seq, sender_id, content, created_at)
                    SELECT gen_random_uuid(), id, 1, @user, 'benchmark message 1', now() FROM rooms;
                ANALYZE chatrooms; ANALYZE members; ANALYZE messages;
                """, db);
            seed.Parameters.AddWithValue("user", userId);
            await seed.ExecuteNonQueryAsync();
        }
        rows.Add(("conversations list, 200 conversations", await TimeAsync(async () =>
            (await http.GetAsync("/api/v1/messages/conversations")).EnsureSuccessStatusCode()), ""));

        // Login must not tell an unknown user from a wrong password by its timing.
        var anonymous = new HttpClient { BaseAddress = a.Address };
        async Task FailedLoginAsync(string name)
        {
            var response = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = name, password = "not the password" }, json);
            if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized)
            {
                throw new InvalidOperationException($"Expected 401, got {response.StatusCode}.");
            }
        }
        rows.Add(("login, wrong password", await TimeAsync(() => FailedLoginAsync(username)), ""));
        rows.Add(("login, unknown user", await TimeAsync(() => FailedLoginAsync("nobody" + Guid.NewGuid().ToString("N")[..8])), "login, wrong password"));

        // End to end: POST on A, frame on a socket on B.
        var live = await RoomAsync(0);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(new UriBuilder(b.Address) { Scheme = "ws" }.Uri, $"/ws/chatrooms/{live}?token={token}"), CancellationToken.None);
        var buffer = new byte[64 * 1024];
        async Task<string> NextFrameAsync()
        {
            var length = 0;
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        await NextFrameAsync(); // ready
        var sent = 0;
        rows.Add(("REST post on A (round trip)", await TimeAsync(
            async () => (await http.PostAsJsonAsync($"/api/v1/chatrooms/{live}/messages", new { content = $"m{sent++}" }, json)).EnsureSuccessStatusCode(),
            untimed: NextFrameAsync), ""));
        rows.Add(("REST post on A to socket frame on B", await TimeAsync(async () =>
        {
            var frame = NextFrameAsync();
            (await http.PostAsJsonAsync($"/api/v1/chatrooms/{live}/messages", new { content = $"m{sent++}" }, json)).EnsureSuccessStatusCode();
            await frame;
        }), "REST post on A (round trip)"));

        Console.WriteLine($"SliceChat benchmarks — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {samples} samples each after 20 warm-up");
        Console.WriteLine();
        Console.WriteLine("| measurement | p50 ms | p99 ms | p50 / baseline p50 | KB allocated per sample |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var (name, times, baseline) in rows)
        {
            var ratio = baseline == "" ? "baseline" : $"{Percentile(times, 0.5) / Percentile(rows.Single(r => r.Name == baseline).Times, 0.5):0.00}× of “{baseline}”";
            Console.WriteLine($"| {name} | {Percentile(times, 0.5):0.00} | {Percentile(times, 0.99):0.00} | {ratio} | {allocatedPerSample[times] / 1024.0:0.0} |");
        }
        foreach (var (name, times, _) in rows.Where(r => allocatedTypes.ContainsKey(r.Times)))
        {
            Console.WriteLine();
            Console.WriteLine($"allocation samples of “{name}” (bytes per sample, samples, type):");
            foreach (var (type, count, bytes) in allocatedTypes[times].Take(25))
            {
                Console.WriteLine($"  {bytes / samples,8} B  {count,5}  {type}");
            }
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        NpgsqlConnection.ClearAllPools();
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin).ExecuteNonQueryAsync();
        }
    }
}

/// <summary>One app instance on a real Kestrel port.</summary>
internal sealed class Instance : WebApplicationFactory<Program>
{
    private readonly string postgres;
    private readonly string redis;
    private readonly IReadOnlyDictionary<string, string> settings;

    /// <param name="settings">More settings, over the benchmark's own.</param>
    public Instance(string postgres, string redis, IReadOnlyDictionary<string, string>? settings = null)
    {
        this.postgres = postgres;
        this.redis = redis;
        this.settings = settings ?? new Dictionary<string, string>();
        UseKestrel(0);
        StartServer();
    }

    public Uri Address => new UriBuilder(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) { Host = "127.0.0.1" }.Uri;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:Postgres", postgres);
        builder.UseSetting("Redis:Configuration", redis);
        builder.UseSetting("Jwt:SigningKey", "benchmark-signing-key-0123456789-abcdefghij");
        builder.UseSetting("Limits:RateLimitingEnabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
