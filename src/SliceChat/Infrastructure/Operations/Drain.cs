using System.Runtime.InteropServices;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;

namespace SliceChat.Infrastructure.Operations;

/// <summary>
/// The instance's drain before it stops: <c>/health/ready</c> answers 503 from its start, and the app goes on
/// serving for <c>Limits:ShutdownDrainSeconds</c> so the load balancer moves new work away; then the host stops
/// (sockets close with 1001 after what they have queued, in-flight requests and queued sends finish).
/// </summary>
public sealed partial class Drain(IHostApplicationLifetime lifetime, IOptions<LimitsOptions> limits, ILogger<Drain> logger)
{
    private int started;

    public bool Started => Volatile.Read(ref started) == 1;

    /// <summary>Starts the drain (once); the host stops when it ends.</summary>
    public void Begin()
    {
        if (Interlocked.Exchange(ref started, 1) == 1)
        {
            return;
        }
        var period = TimeSpan.FromSeconds(limits.Value.ShutdownDrainSeconds);
        LogDraining(logger, period.TotalSeconds);
        _ = Task.Delay(period).ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
    }

    [LoggerMessage(LogLevel.Information, "Draining: /health/ready answers 503; stopping in {Seconds} s")]
    private static partial void LogDraining(ILogger logger, double seconds);
}

internal sealed class DrainHealthCheck(Drain drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(drain.Started ? HealthCheckResult.Unhealthy("The instance is draining before it stops.") : HealthCheckResult.Healthy());
}

/// <summary>
/// The host's lifetime on a server: SIGTERM starts the <see cref="Drain"/> instead of stopping at once;
/// SIGINT (Ctrl-C), SIGQUIT, or a second SIGTERM stop at once.
/// </summary>
internal sealed class DrainOnSigterm(Drain drain, IHostApplicationLifetime lifetime) : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> registrations = [];

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal));
        return Task.CompletedTask;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the host stops itself, in order
        if (context.Signal == PosixSignal.SIGTERM && !drain.Started)
        {
            drain.Begin();
        }
        else
        {
            lifetime.StopApplication();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var registration in registrations)
        {
            registration.Dispose();
        }
    }
}
