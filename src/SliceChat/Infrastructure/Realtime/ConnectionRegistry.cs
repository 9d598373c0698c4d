using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Security;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// The sockets open on this instance. It closes those of a revoked session (4401, on every instance,
/// as revocations arrive over the bus, and by a periodic re-check served from the session cache in
/// case such a message was lost), those whose token expired (4401), and all of them with 1001 when
/// the app shuts down, after their queued frames have gone out.
/// </summary>
public sealed partial class ConnectionRegistry : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<Guid, SocketConnection> sockets = new();
    private readonly SessionRevocation revocation;
    private readonly TimeProvider time;
    private readonly IHostApplicationLifetime lifetime;
    private readonly ILogger<ConnectionRegistry> logger;
    private readonly AppMetrics metrics;
    private readonly TimeSpan sweepInterval;
    private readonly TimeSpan shutdownTimeout;
    private readonly TimeSpan shutdownPoll;
    private ITimer? sweep;
    private int sweeping;

    public ConnectionRegistry(SessionRevocation revocation, TimeProvider time, IHostApplicationLifetime lifetime, IOptions<LimitsOptions> limits,
        AppMetrics metrics, ILogger<ConnectionRegistry> logger)
    {
        this.metrics = metrics;
        this.logger = logger;
        this.revocation = revocation;
        this.time = time;
        this.lifetime = lifetime;
        sweepInterval = TimeSpan.FromMilliseconds(limits.Value.SocketSweepMilliseconds);
        shutdownTimeout = TimeSpan.FromSeconds(limits.Value.ShutdownSocketsSeconds);
        shutdownPoll = TimeSpan.FromMilliseconds(limits.Value.ShutdownPollMilliseconds);
        revocation.Revoked += OnRevoked;
    }

    public IReadOnlyCollection<SocketConnection> Sockets => sockets.Values.ToList();

    /// <summary>Frames waiting in all sockets' queues: bounded by the sockets' capacity, whatever the clients do.</summary>
    public int QueuedFrames => sockets.Values.Sum(s => s.Queued);

    public void Add(SocketConnection socket)
    {
        if (sockets.TryAdd(socket.Id, socket))
        {
            metrics.SocketOpened();
        }
    }

    public void Remove(SocketConnection socket)
    {
        if (sockets.TryRemove(socket.Id, out _))
        {
            metrics.SocketClosed();
        }
    }

    private void OnRevoked(SessionRevoked revoked)
    {
        foreach (var socket in sockets.Values.Where(s => s.SessionId == revoked.SessionId))
        {
            socket.Close((WebSocketCloseStatus)CloseCodes.TokenExpiredOrRevoked, "session revoked", drain: false);
        }
    }

    /// <summary>
    /// Every tick: expired tokens close at once (no database needed), then, unless the previous round is
    /// still waiting on the database, the sessions are re-checked. A database error ends that round only;
    /// the next tick sweeps again.
    /// </summary>
    private async Task SweepAsync()
    {
        var now = time.GetUtcNow();
        foreach (var socket in sockets.Values.Where(s => !s.IsClosing && s.ExpiresAt <= now))
        {
            socket.Close((WebSocketCloseStatus)CloseCodes.TokenExpiredOrRevoked, "token expired", drain: false);
        }
        if (Interlocked.Exchange(ref sweeping, 1) == 1)
        {
            return;
        }
        try
        {
            var open = sockets.Values.Where(s => !s.IsClosing).ToList();
            var inactive = await revocation.InactiveAmongAsync([.. open.Select(s => (s.SessionId, s.UserId)).Distinct()], CancellationToken.None);
            foreach (var socket in open.Where(s => inactive.Contains(s.SessionId)))
            {
                socket.Close((WebSocketCloseStatus)CloseCodes.TokenExpiredOrRevoked, "session revoked", drain: false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogSweepFailed(logger, e.Message);
        }
        finally
        {
            Volatile.Write(ref sweeping, 0);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        sweep = time.CreateTimer(_ => _ = SweepAsync(), null, sweepInterval, sweepInterval);
        // Before the server stops: it waits for open requests, and every socket is one.
        lifetime.ApplicationStopping.Register(CloseAll);
        return Task.CompletedTask;
    }

    /// <summary>Shutdown: each socket sends what it has queued, then closes with 1001.</summary>
    private void CloseAll()
    {
        foreach (var socket in sockets.Values)
        {
            socket.Close(WebSocketCloseStatus.EndpointUnavailable, "server shutting down", drain: true);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        CloseAll();
        var deadline = time.GetUtcNow() + shutdownTimeout;
        while (!sockets.IsEmpty && time.GetUtcNow() < deadline && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(shutdownPoll, CancellationToken.None);
        }
    }

    public void Dispose()
    {
        revocation.Revoked -= OnRevoked;
        sweep?.Dispose();
    }

    [LoggerMessage(LogLevel.Warning, "Checking the open sockets' sessions failed ({Reason}); checking again at the next sweep")]
    private static partial void LogSweepFailed(ILogger logger, string reason);
}
