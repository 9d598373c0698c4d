using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using SliceChat.Features;
using SliceChat.Tests.Support;
using Xunit.Abstractions;

namespace SliceChat.Tests.Infrastructure;

/// <summary>
/// <c>scripts/cluster.sh</c> with two instances behind a real nginx, over the test servers' PostgreSQL (a database
/// of its own) and Redis (channels of its own).
/// </summary>
public sealed class NginxCluster : IAsyncLifetime
{
    /// <summary>How many app instances the script starts.</summary>
    public int Instances { get; init; } = 2;

    private readonly string database = TestServers.CreatePostgresDatabase();
    private readonly string directory = Path.Combine(Path.GetTempPath(), "slicechat-cluster-test-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly ConcurrentQueue<string> log = new();
    private Process? script;

    public Uri Url { get; private set; } = null!;

    public Uri SocketUrl => new UriBuilder(Url) { Scheme = "ws" }.Uri;

    public string Log => string.Join('\n', log);

    private ProcessStartInfo Script(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash", ["scripts/cluster.sh", .. arguments])
        {
            WorkingDirectory = AppProcess.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["SLICECHAT_CLUSTER_DIR"] = directory;
        start.Environment["SLICECHAT_CLUSTER_PORT"] = AppProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["SLICECHAT_CLUSTER_POSTGRES"] = database;
        start.Environment["SLICECHAT_CLUSTER_PREFIX"] = "test-" + Guid.NewGuid().ToString("N")[..8];
        start.Environment["SLICECHAT_CLUSTER_DRAIN_SECONDS"] = "1";
        start.Environment["SLICECHAT_CLUSTER_APP_ENV"] = "Limits__RateLimitingEnabled=false Passwords__BcryptWorkFactor=4 Logging__LogLevel__Default=Warning";
        start.Environment["SLICECHAT_APP_DLL"] = AppProcess.AppDll;
        return start;
    }

    public async Task InitializeAsync()
    {
        script = Process.Start(Script("start", Instances.ToString(CultureInfo.InvariantCulture)))!;
        var url = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        script.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                log.Enqueue(line);
                if (line.StartsWith("http://", StringComparison.Ordinal))
                {
                    url.TrySetResult(line);
                }
            }
        };
        script.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        var started = await Task.WhenAny(url.Task, script.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(180)));
        if (started != url.Task)
        {
            throw new InvalidOperationException($"scripts/cluster.sh start did not print its URL:\n{Log}");
        }
        Url = new Uri(url.Task.Result);
    }

    /// <summary>Runs <c>scripts/cluster.sh</c> with <paramref name="arguments"/> against this cluster; its exit code.</summary>
    public async Task<int> RunAsync(params string[] arguments)
    {
        using var run = Process.Start(Script(arguments))!;
        run.OutputDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        run.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? "");
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        await run.WaitForExitAsync();
        return run.ExitCode;
    }

    /// <summary>Sockets open on instance <paramref name="instance"/>, from its own /metrics port.</summary>
    public async Task<double> SocketsOpenAsync(int instance)
    {
        var port = (await File.ReadAllTextAsync(Path.Combine(directory, $"app{instance}.metrics-port"))).Trim();
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("slicechat_sockets_open", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line.Split(' ')[^1], CultureInfo.InvariantCulture);
    }

    /// <summary>The PIDs the script recorded: each instance's and nginx's.</summary>
    public IReadOnlyList<int> ProcessIds =>
        [.. Directory.GetFiles(directory, "*.pid").Where(f => Path.GetFileName(f) != "cluster.pid").Select(f => int.Parse(File.ReadAllText(f).Trim(), CultureInfo.InvariantCulture))];

    /// <summary>Whether the script that runs the cluster has exited.</summary>
    public bool Stopped => script?.HasExited ?? true;

    public string AccessLog => File.ReadAllText(Path.Combine(directory, "nginx-access.log"));

    public async Task DisposeAsync()
    {
        await RunAsync("stop");
        if (script is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await script.WaitForExitAsync(timeout.Token);
            script.Dispose();
        }
        TestServers.DropPostgresDatabase(database);
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class ClusterTests(NginxCluster cluster, ITestOutputHelper output) : IClassFixture<NginxCluster>
{
    private Api Api => new(new HttpClient { BaseAddress = cluster.Url });

    /// <summary>Posts through nginx, trying again (same client_message_id) while an instance restarts under it.</summary>
    private static async Task PostWithRetriesAsync(Api api, Account sender, Guid room, string content)
    {
        var clientMessageId = Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var response = await api.As(sender).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content, client_message_id = clientMessageId });
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    return;
                }
                if ((int)response.StatusCode < 500 || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"{content}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Two users in a room, each with two sockets through nginx, all ready.</summary>
    private async Task<(Api Api, Account Owner, Account Member, Guid Room, List<ReconnectingClient> Clients)> RoomWithFourSocketsAsync()
    {
        var api = Api;
        var owner = await api.RegisterAsync();
        var member = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner, false, member.Id);
        var clients = new List<ReconnectingClient>();
        for (var i = 0; i < 4; i++)
        {
            clients.Add(new ReconnectingClient(cluster.SocketUrl, room, (i % 2 == 0 ? owner : member).AccessToken));
        }
        await Task.WhenAll(clients.Select(c => c.Connected)).WaitAsync(TimeSpan.FromSeconds(30));
        return (api, owner, member, room, clients);
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure());
            }
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task ThroughNginx_RestAndSocketsOnOneUrl_MessagesCrossInstances_AndSurviveAnInstanceRestart()
    {
        var (api, owner, member, room, clients) = await RoomWithFourSocketsAsync();
        try
        {
            // Round robin: the sockets sit on both instances.
            (await cluster.SocketsOpenAsync(1)).ShouldBeGreaterThan(0);
            (await cluster.SocketsOpenAsync(2)).ShouldBeGreaterThan(0);

            // The web client on the same URL, from both instances.
            for (var i = 0; i < 2; i++)
            {
                using var page = await api.GetAsync("/");
                page.StatusCode.ShouldBe(HttpStatusCode.OK);
                page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            }

            for (var i = 1; i <= 10; i++)
            {
                await PostWithRetriesAsync(api, i % 2 == 0 ? owner : member, room, $"before {i}");
            }
            await UntilAsync(() => clients.All(c => c.LastSeq == 10), TimeSpan.FromSeconds(10), () => "before the restart: " + Seen(clients));

            var restart = cluster.RunAsync("restart", "1");
            var posted = 10;
            while (!restart.IsCompleted)
            {
                await PostWithRetriesAsync(api, owner, room, $"during {++posted}");
                await Task.Delay(100);
            }
            (await restart).ShouldBe(0, cluster.Log);
            for (var i = 0; i < 5; i++)
            {
                await PostWithRetriesAsync(api, member, room, $"after {++posted}");
            }

            await UntilAsync(() => clients.All(c => c.LastSeq == posted), TimeSpan.FromSeconds(20), () => $"after the restart ({posted} posted): " + Seen(clients));
            foreach (var client in clients)
            {
                client.Seqs.Distinct().Order().ShouldBe(Enumerable.Range(1, posted).Select(s => (long)s), "every message");
            }
            clients.Sum(c => c.Reconnects).ShouldBeGreaterThan(0, "no socket was on the restarted instance");
            output.WriteLine($"{posted} messages, reconnects {string.Join(", ", clients.Select(c => c.Reconnects))}; {Repeats(clients)}");

            (await api.GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.NotFound); // scraped per instance, not through nginx

            // nginx's access log names no query string: the sockets' tokens stay out of it.
            cluster.AccessLog.ShouldContain("/ws/chatrooms/");
            cluster.AccessLog.ShouldNotContain("token=");
            cluster.AccessLog.ShouldNotContain(owner.AccessToken);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RollingRestart_ClientsChattingOverSockets_EveryMessageStoredOnce_EveryClientCaughtUp()
    {
        var (api, owner, member, room, clients) = await RoomWithFourSocketsAsync();
        try
        {
            var sent = 0;
            var restart = cluster.RunAsync("restart");
            var chatting = Stopwatch.StartNew();
            while (!restart.IsCompleted || chatting.Elapsed < TimeSpan.FromSeconds(2))
            {
                for (var k = 0; k < clients.Count; k++)
                {
                    await clients[k].SendAsync($"client {k} message {sent}", $"c{k}-{sent}");
                }
                sent++;
                await Task.Delay(150);
            }
            (await restart).ShouldBe(0, cluster.Log);
            var total = sent * clients.Count;

            // Whatever a closing socket swallowed goes again, under its client_message_id.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (clients.Any(c => c.Unacknowledged > 0) && DateTime.UtcNow < deadline)
            {
                foreach (var client in clients)
                {
                    await client.ResendAsync();
                }
                await Task.Delay(1000);
            }
            clients.Sum(c => c.Unacknowledged).ShouldBe(0, "sends never seen stored: " + Seen(clients));

            var stored = new List<string>();
            long after = 0;
            while (true)
            {
                var page = await (await api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + $"?after_seq={after}&limit=200")).Json();
                var items = page["items"]!.AsArray();
                stored.AddRange(items.Select(m => m!["client_message_id"].Text()));
                if (items.Count == 0 || page["has_more"]!.GetValue<bool>() == false)
                {
                    break;
                }
                after = items[^1]!["seq"]!.GetValue<long>();
            }
            stored.Count.ShouldBe(total, "every message stored once");
            stored.Distinct().Count().ShouldBe(total);

            await UntilAsync(() => clients.All(c => c.LastSeq == total), TimeSpan.FromSeconds(20), () => $"caught up to {total}: " + Seen(clients));
            foreach (var client in clients)
            {
                client.Seqs.Distinct().Order().ShouldBe(Enumerable.Range(1, total).Select(s => (long)s), "every message");
            }
            clients.ShouldAllBe(c => c.Reconnects > 0, "every socket was on an instance that restarted");
            output.WriteLine($"{total} messages over a rolling restart, reconnects {string.Join(", ", clients.Select(c => c.Reconnects))}; {Repeats(clients)}");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Frames a client got twice or before an earlier seq: the live events between a reconnected socket's ready and its sync's replay.</summary>
    private static string Repeats(List<ReconnectingClient> clients) =>
        string.Join(", ", clients.Select(c => $"{c.Seqs.Count - c.Seqs.Distinct().Count()} repeated, {c.Seqs.Zip(c.Seqs.Skip(1)).Count(p => p.Second < p.First)} behind"));

    private static string Seen(List<ReconnectingClient> clients) =>
        string.Join("; ", clients.Select(c => $"last {c.LastSeq}, {c.Seqs.Count} frames, {c.Unacknowledged} unacknowledged, {c.Reconnects} reconnects"));
}

/// <summary>docker-compose.yml, deploy/nginx.conf and scripts/cluster.sh describe one topology (Docker cannot run here).</summary>
public sealed partial class ClusterConfigurationTests
{
    private static string Read(string path) => File.ReadAllText(Path.Combine(AppProcess.RepoRoot, path));

    [GeneratedRegex(@"^  (app\d+):", RegexOptions.Multiline)]
    private static partial Regex ComposeAppService();

    [GeneratedRegex(@"^\s+server (app\d+):(\d+)", RegexOptions.Multiline)]
    private static partial Regex NginxUpstream();

    [GeneratedRegex(@"^    ([A-Za-z][A-Za-z0-9_]*): ", RegexOptions.Multiline)]
    private static partial Regex ComposeVariable();

    [GeneratedRegex(@"""([A-Za-z][A-Za-z0-9_]*)=")]
    private static partial Regex ScriptVariable();

    [Fact]
    public void ComposeNginxAndClusterScript_AgreeOnServicesPortsAndEnvironment()
    {
        var compose = Read("docker-compose.yml");
        var nginx = Read("deploy/nginx.conf");
        var script = Read("scripts/cluster.sh");
        var dockerfile = Read("Dockerfile");

        // The instances: compose's app services are nginx's upstream servers, on the port the image listens on.
        var services = ComposeAppService().Matches(compose).Select(m => m.Groups[1].Value).ToList();
        var upstream = NginxUpstream().Matches(nginx).Select(m => (Host: m.Groups[1].Value, Port: m.Groups[2].Value)).ToList();
        services.Count.ShouldBe(2);
        upstream.Select(u => u.Host).ShouldBe(services);
        upstream.ShouldAllBe(u => u.Port == "8080");
        dockerfile.ShouldContain("ASPNETCORE_URLS=http://+:8080");
        script.ShouldContain("count=\"${1:-2}\""); // the script's default: as many instances as compose has

        // The one URL: nginx listens on 8080, compose publishes it, and the script defaults to it.
        nginx.ShouldContain("listen 8080;");
        compose.ShouldContain("\"8080:8080\"");
        script.ShouldContain("SLICECHAT_CLUSTER_PORT:-8080");

        // Every instance gets the same settings by name (the URLs come from the Dockerfile in compose).
        var xApp = compose[compose.IndexOf("x-app:", StringComparison.Ordinal)..compose.IndexOf("services:", StringComparison.Ordinal)];
        var environment = xApp[xApp.IndexOf("environment:", StringComparison.Ordinal)..xApp.IndexOf("depends_on:", StringComparison.Ordinal)];
        var composeNames = ComposeVariable().Matches(environment).Select(m => m.Groups[1].Value).Order().ToList();
        var appEnv = script[script.IndexOf("app_env() {", StringComparison.Ordinal)..];
        appEnv = appEnv[..appEnv.IndexOf("\n}", StringComparison.Ordinal)];
        var scriptNames = ScriptVariable().Matches(appEnv).Select(m => m.Groups[1].Value).Where(n => n != "ASPNETCORE_URLS").Order().ToList();
        composeNames.ShouldNotBeEmpty();
        composeNames.ShouldBe(scriptNames);

        // The metrics port of each instance stays off nginx: compose exposes it inside its network only.
        compose.ShouldContain("Metrics__Port: \"9464\"");
        compose.ShouldContain("- \"9464\"");
    }
}

public sealed class ClusterScriptTests
{
    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <remarks>
    /// <c>stop</c> sends the running script SIGTERM, which takes the trap Ctrl-C takes (SIGINT cannot be sent
    /// here: a test host started in the background ignores it, and so does every process it starts).
    /// </remarks>
    [Fact]
    public async Task Stop_StopsEveryProcessTheScriptStarted_ByPid()
    {
        var cluster = new NginxCluster { Instances = 1 };
        await cluster.InitializeAsync();
        try
        {
            var started = cluster.ProcessIds;
            started.Count.ShouldBe(2, cluster.Log); // the instance and nginx
            started.ShouldAllBe(pid => Alive(pid));

            (await cluster.RunAsync("stop")).ShouldBe(0, cluster.Log);

            cluster.Stopped.ShouldBeTrue();

            started.Where(Alive).ShouldBeEmpty(cluster.Log);
            cluster.ProcessIds.ShouldBeEmpty();
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
