namespace SliceChat.Infrastructure.Notifications;

/// <summary>Settings under <c>Notifications:</c>: offline notifications through a signed webhook.</summary>
public sealed class NotificationsOptions
{
    public const string Section = "Notifications";

    /// <summary>Where deliveries are POSTed (http or https); unset turns offline notifications off. Configuration only.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The HMAC-SHA256 key of <c>SliceChat-Signature</c>; required with <see cref="WebhookUrl"/>.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>How long after a message is stored its recipient's sockets are looked for: none anywhere then, a webhook goes.</summary>
    public int DelaySeconds { get; set; } = 10;

    /// <summary>How long a delivery that the receiver refuses (non-2xx) or does not answer in time is retried.</summary>
    public int RetryHours { get; set; } = 24;

    /// <summary>The first retry's back-off; each later one doubles it, up to <see cref="RetryMaxSeconds"/>, with jitter.</summary>
    public int RetryFirstSeconds { get; set; } = 10;

    /// <summary>The longest back-off between two attempts of one delivery.</summary>
    public int RetryMaxSeconds { get; set; } = 3600;

    /// <summary>How long one HTTP attempt may take (one quick retry of a transient failure follows within the same claim).</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>How often each instance looks for due deliveries.</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>Most deliveries an instance claims (and sends at once) per look.</summary>
    public int ClaimBatch { get; set; } = 16;

    /// <summary>Most unread messages one webhook carries (its <c>unread_count</c> covers them all).</summary>
    public const int MaxMessages = 10;

    public bool Enabled => !string.IsNullOrWhiteSpace(WebhookUrl);

    /// <summary>The HTTP client's whole budget for one attempt and its quick retry.</summary>
    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(TimeoutSeconds * 2 + 1);

    /// <summary>How long a claimed delivery is left to its instance before another may take it (the instance died).</summary>
    public TimeSpan Lease => TotalTimeout * 2;
}
