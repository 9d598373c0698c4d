using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SliceChat.Tests.Support;

/// <summary>
/// The app as its own process (the built SliceChat.dll, settings as environment variables), for what the in-memory
/// test host cannot show: signals, and a load balancer in front of real ports.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process process;

    private AppProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>Everything the app wrote, line by line.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Settings for an instance over the test servers' PostgreSQL <paramref name="database"/> and Redis (channels under <paramref name="channelPrefix"/>).</summary>
    public static Dictionary<string, string?> Settings(string database, string channelPrefix) => new()
    {
        ["ConnectionStrings:Postgres"] = database,
        ["Redis:Configuration"] = TestServers.Redis,
        ["Redis:ChannelPrefix"] = channelPrefix,
        ["Jwt:SigningKey"] = AppFactory.SigningKey,
        ["Limits:RateLimitingEnabled"] = "false",
        ["Passwords:BcryptWorkFactor"] = "4",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
    };

    /// <summary>The checkout these tests were built in.</summary>
    public static string RepoRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "SliceChat.sln")))
            {
                root = root.Parent;
            }
            return root?.FullName ?? throw new InvalidOperationException("SliceChat.sln not found above the tests.");
        }
    }

    /// <summary>The app's DLL, built next to these tests (same configuration).</summary>
    public static string AppDll
    {
        get
        {
            var tests = new DirectoryInfo(AppContext.BaseDirectory); // tests/SliceChat.Tests/bin/<Configuration>/<tfm>/
            return Path.Combine(RepoRoot, "src", "SliceChat", "bin", tests.Parent!.Name, tests.Name, "SliceChat.dll");
        }
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts the app on <paramref name="port"/> (a free one by default) and waits until it answers <c>/health/live</c>.</summary>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, int? port = null)
    {
        var listen = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet", [AppDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{listen}";
        var app = new AppProcess(Process.Start(start)!, listen);
        app.process.OutputDataReceived += (_, e) => app.Collect(e.Data);
        app.process.ErrorDataReceived += (_, e) => app.Collect(e.Data);
        app.process.BeginOutputReadLine();
        app.process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !app.process.HasExited)
        {
            try
            {
                if ((await http.GetAsync("/health/live")).IsSuccessStatusCode)
                {
                    return app;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        await app.DisposeAsync();
        throw new InvalidOperationException($"The app on port {listen} did not start:\n{string.Join('\n', app.Output)}");
    }

    private void Collect(string? line)
    {
        if (line is not null)
        {
            Output.Enqueue(line);
        }
    }

    /// <summary>SIGTERM, as an orchestrator stops an instance.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -TERM {process.Id} failed ({kill.ExitCode}).");
        }
    }

    /// <returns>true once the process has exited within <paramref name="timeout"/>.</returns>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
