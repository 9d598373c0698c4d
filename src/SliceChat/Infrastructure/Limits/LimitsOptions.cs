namespace SliceChat.Infrastructure.Limits;

/// <summary>Settings under <c>Limits:</c>; every limit the app enforces, with its default.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>false turns every rate limiter off (load tests, test harnesses).</summary>
    public bool RateLimitingEnabled { get; set; } = true;
    /// <summary>Login attempts per minute for one username from one client address.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;
    /// <summary>Messages a user may send per minute, REST and sockets together (a burst of this size, refilled evenly).</summary>
    public int MessagesPerMinute { get; set; } = 120;
    /// <summary>Largest request body in bytes; larger answers 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;
    /// <summary>Largest user search page.</summary>
    public int MaxSearchResults { get; set; } = 50;
}
