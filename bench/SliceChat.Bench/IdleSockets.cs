// What a socket costs the server: `bash bench/run.sh idle-sockets [count]` (default 3,000).
// One app instance on a real Kestrel port; the client sockets live in a child process (this same
// program, `idle-clients`), so that only the server's memory is in the numbers.
//   0. opens: sockets opened per second, the server's CPU and bytes allocated per open (this process: the server alone);
//   1. idle: GC heap (live bytes after a full collection) and working set, before and after opening
//      `count` room sockets that have had their ready frame, divided by `count`;
//   2. per delivery: bytes the server allocates per message.created with `count` sockets in the room,
//      against the same with one socket, divided by the extra sockets;
//   3. the floor: GC heap and working set per idle socket of a bare Kestrel WebSocket app, measured the same way.
// The sockets carry their access token in ?token= as a browser's do; SLICECHAT_BENCH_TOKEN_IN=header sends it in
// Authorization instead, as other clients may.
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Bench;

internal static class IdleSockets
{
    private const int Messages = 200;

    public static async Task RunAsync(string connectionString, string redis, int count)
    {
        // Rate limiting on, as in production (each socket has its frame budget), with room for the posts below.
        await using var server = new Instance(connectionString, redis, new Dictionary<string, string>
        {
            ["Limits:RateLimitingEnabled"] = "true",
            ["Limits:MessagesPerMinute"] = "1000000",
            // One user opens every socket: the per-user cap must let them all in.
            ["Limits:SocketsPerUser"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var http = new HttpClient { BaseAddress = server.Address };
        var username = "idle" + Guid.NewGuid().ToString("N")[..8];
        (await http.PostAsJsonAsync("/api/v1/auth/register", new { username, email = $"{username}@example.com", password = "benchmark password" }, json)).EnsureSuccessStatusCode();
        var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "benchmark password" }, json)).Content.ReadFromJsonAsync<JsonElement>();
        var token = login.GetProperty("access_token").GetString()!;
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var room = (await (await http.PostAsJsonAsync("/api/v1/chatrooms", new { name = "idle sockets" }, json)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var registry = server.Services.GetRequiredService<ConnectionRegistry>();
        var url = new Uri(new UriBuilder(server.Address) { Scheme = "ws" }.Uri, $"/ws/chatrooms/{room}?token={token}");

        async Task PostAsync(int messages)
        {
            for (var i = 0; i < messages; i++)
            {
                (await http.PostAsJsonAsync($"/api/v1/chatrooms/{room}/messages", new { content = $"message {i}" }, json)).EnsureSuccessStatusCode();
            }
            while (registry.QueuedFrames > 0)
            {
                await Task.Delay(10);
            }
        }

        // Warm-up: JIT, pools, the room's feed, with a few sockets and messages. Three rounds with pauses: the runtime
        // counts calls towards the optimised tier only once start-up's compiling has paused, so after one round the open
        // path was still in its quick first-tier code (perf) and its tier-up compiles fell into the measured opening.
        for (var round = 0; round < 3; round++)
        {
            using var warm = Clients(url, 100);
            await warm.ExpectAsync("ready");
            await PostAsync(20);
            warm.Send("exit");
            await warm.Process.WaitForExitAsync();
            while (registry.Sockets.Count > 0)
            {
                await Task.Delay(50);
            }
            await Task.Delay(500);
        }

        var (heapBefore, setBefore) = Measure();
        var cpuBefore = ProcessorTime();
        using var sampler = Environment.GetEnvironmentVariable("SLICECHAT_BENCH_ALLOCATIONS") == "1" ? new AllocationSampler() : null;
        sampler?.Start();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var opening = Stopwatch.StartNew();
        using var clients = Clients(url, count);
        await clients.ExpectAsync("ready");
        var openSeconds = opening.Elapsed.TotalSeconds;
        var openCpu = ProcessorTime() - cpuBefore;
        var openAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        if (sampler?.Stop() is { } samples)
        {
            Console.WriteLine($"allocation samples while opening (type, samples, bytes per open):");
            foreach (var (type, n, bytes) in samples.Take(40))
            {
                Console.WriteLine($"  {bytes / count,8} B  {n,5}  {type}");
            }
        }
        while (registry.Sockets.Count < count)
        {
            await Task.Delay(50);
        }
        await Task.Delay(2000);
        var (heapAfter, setAfter) = Measure();
        if (int.TryParse(Environment.GetEnvironmentVariable("SLICECHAT_BENCH_HOLD_SECONDS"), out var hold))
        {
            Console.WriteLine($"holding {hold} s with the sockets open (pid {Environment.ProcessId}), e.g. for dotnet-gcdump");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }

        var allocatedMany = await AllocatedAsync(() => PostAsync(Messages));
        clients.Send("trim");
        await clients.ExpectAsync("trimmed");
        while (registry.Sockets.Count > 1)
        {
            await Task.Delay(50);
        }
        var allocatedOne = await AllocatedAsync(() => PostAsync(Messages));
        clients.Send("exit");
        await clients.Process.WaitForExitAsync();

        Console.WriteLine($"opens: {count / openSeconds:0}/s (64 at once, the client process starting included); " +
            $"server CPU per open {openCpu.TotalMicroseconds / count:0} µs, allocated per open {openAllocated / count} B");
        Console.WriteLine($"idle sockets: {count}; GC heap {(heapAfter - heapBefore) / (double)count:0} B/socket; " +
            $"working set {(setAfter - setBefore) / (double)count:0} B/socket; " +
            $"allocated per delivery {(allocatedMany - allocatedOne) / (double)Messages / (count - 1):0.0} B " +
            $"({allocatedMany / Messages} B/message with {count} sockets, {allocatedOne / Messages} B/message with 1)");
        await MeasureKestrelFloorAsync(url.PathAndQuery, count);
    }

    /// <summary>
    /// The same measurement on a bare Kestrel app in this process: the default WebApplication with UseWebSockets and one
    /// route that accepts the socket, sends one frame and waits with a zero-byte receive, nothing else. What an idle
    /// socket costs before anything SliceChat adds; the request line is the app's own (?token= included).
    /// </summary>
    private static async Task MeasureKestrelFloorAsync(string pathAndQuery, int count)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.UseWebSockets();
        var ready = "{\"type\":\"ready\"}"u8.ToArray();
        app.Map("/ws/chatrooms/{id}", async (HttpContext context) =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await socket.SendAsync(ready, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            try
            {
                while ((await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
                {
                }
            }
            catch (WebSocketException)
            {
            }
        });
        await app.StartAsync();
        var url = new Uri(new Uri(app.Urls.First().Replace("http", "ws", StringComparison.Ordinal)), pathAndQuery);
        using (var warm = Clients(url, 100))
        {
            await warm.ExpectAsync("ready");
            warm.Send("exit");
            await warm.Process.WaitForExitAsync();
        }
        await Task.Delay(1000);
        var (heapBefore, setBefore) = Measure();
        using var clients = Clients(url, count);
        await clients.ExpectAsync("ready");
        await Task.Delay(2000);
        var (heapAfter, setAfter) = Measure();
        clients.Send("exit");
        await clients.Process.WaitForExitAsync();
        await app.StopAsync();
        Console.WriteLine($"bare Kestrel (the floor): GC heap {(heapAfter - heapBefore) / (double)count:0} B/socket; " +
            $"working set {(setAfter - setBefore) / (double)count:0} B/socket");
    }

    private static (long Heap, long WorkingSet) Measure()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        using var self = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), self.WorkingSet64);
    }

    private static TimeSpan ProcessorTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static async Task<long> AllocatedAsync(Func<Task> action)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await action();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    private static ClientProcess Clients(Uri url, int count)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileName(Environment.ProcessPath!) is "dotnet" or "dotnet.exe")
        {
            start.ArgumentList.Add(typeof(IdleSockets).Assembly.Location); // `dotnet SliceChat.Bench.dll`
        }
        start.ArgumentList.Add("idle-clients");
        start.ArgumentList.Add(url.ToString());
        start.ArgumentList.Add(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new ClientProcess(Process.Start(start)!);
    }

    private sealed class ClientProcess(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        public async Task ExpectAsync(string line)
        {
            var got = await Process.StandardOutput.ReadLineAsync();
            if (got != line)
            {
                throw new InvalidOperationException($"The client process said '{got}', not '{line}'.");
            }
        }

        public void Send(string command)
        {
            Process.StandardInput.WriteLine(command);
            Process.StandardInput.Flush();
        }

        public void Dispose() => Process.Dispose();
    }

    private static bool InHeader => Environment.GetEnvironmentVariable("SLICECHAT_BENCH_TOKEN_IN") == "header";

    /// <summary>Moves <paramref name="url"/>'s ?token= into the socket's Authorization header; returns the URL without it.</summary>
    private static Uri WithTokenInHeader(ClientWebSocket socket, Uri url)
    {
        socket.Options.SetRequestHeader("Authorization", "Bearer " + System.Web.HttpUtility.ParseQueryString(url.Query)["token"]);
        return new Uri(url.GetLeftPart(UriPartial.Path));
    }

    /// <summary>The child process: opens the sockets, reads every frame, and obeys "trim" and "exit" on stdin.</summary>
    public static async Task ClientsAsync(Uri url, int count)
    {
        var sockets = new List<ClientWebSocket>(count);
        var readers = new List<Task>(count);
        using var gate = new SemaphoreSlim(64);
        var opening = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                var socket = new ClientWebSocket();
                await socket.ConnectAsync(InHeader ? WithTokenInHeader(socket, url) : url, CancellationToken.None);
                var buffer = new byte[4096];
                await socket.ReceiveAsync(buffer, CancellationToken.None); // ready
                lock (sockets)
                {
                    sockets.Add(socket);
                    readers.Add(ReadAsync(socket, buffer));
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(opening);
        Console.WriteLine("ready");
        while (Console.ReadLine() is { } command)
        {
            if (command == "trim")
            {
                foreach (var socket in sockets.Skip(1))
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                }
                Console.WriteLine("trimmed");
            }
            else if (command == "exit")
            {
                break;
            }
        }
        foreach (var socket in sockets)
        {
            socket.Abort();
        }
    }

    private static async Task ReadAsync(ClientWebSocket socket, byte[] buffer)
    {
        try
        {
            while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (WebSocketException)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }
}
