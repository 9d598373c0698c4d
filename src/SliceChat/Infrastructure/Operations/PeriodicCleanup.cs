namespace SliceChat.Infrastructure.Operations;

/// <summary>
/// A cleanup every instance runs on a timer (its deletes are idempotent, so instances need not agree who runs
/// it); a round that fails, a database error say, waits for the next.
/// </summary>
public abstract partial class PeriodicCleanup(TimeSpan interval, ILogger logger) : BackgroundService
{
    /// <summary>What a round removes, for the log ("dead login sessions").</summary>
    protected abstract string Removes { get; }

    /// <summary>One round; returns how many it removed.</summary>
    protected abstract Task<int> RoundAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                LogRemoved(logger, await RoundAsync(stoppingToken), Removes);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e, Removes);
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Removed {Count} {What}")]
    private static partial void LogRemoved(ILogger logger, int count, string what);

    [LoggerMessage(LogLevel.Warning, "Removing {What} failed; trying again next round")]
    private static partial void LogFailed(ILogger logger, Exception exception, string what);
}
