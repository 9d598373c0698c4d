using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SliceChat.Tests.Support;

/// <summary>A Redis server of the test's own, to stop and restart (or freeze and thaw) under a running app.</summary>
public sealed class RedisServer : IDisposable
{
    private Process? process;

    public RedisServer()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Start();
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    private static string Binary => Environment.GetEnvironmentVariable("SLICECHAT_TEST_REDIS_SERVER_BIN") is { Length: > 0 } bin ? bin : "redis-server";

    public void Start()
    {
        process = Process.Start(new ProcessStartInfo(Binary, $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not start on port {Port}.");
    }

    public void Stop()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit();
        }
        process?.Dispose();
        process = null;
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open, commands wait unanswered, the data is kept.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Thaws a paused server: it answers what waited, in order.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {process!.Id}");
        kill.WaitForExit();
        kill.ExitCode.ShouldBe(0);
    }

    public void Dispose() => Stop();
}
