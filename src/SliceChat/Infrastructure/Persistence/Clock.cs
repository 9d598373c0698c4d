namespace SliceChat.Infrastructure.Persistence;

public static class Clock
{
    /// <summary>Now, truncated to milliseconds so a value reads back from every provider exactly as it was written.</summary>
    public static DateTimeOffset Now()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
