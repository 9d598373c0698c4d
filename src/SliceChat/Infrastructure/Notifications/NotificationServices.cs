using Microsoft.Extensions.Options;

namespace SliceChat.Infrastructure.Notifications;

public static class NotificationServices
{
    /// <summary>The outbox (always: it does nothing without a webhook URL), and with <c>Notifications:WebhookUrl</c> the worker and its HTTP client.</summary>
    public static WebApplicationBuilder AddNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<NotificationsOptions>().Bind(builder.Configuration.GetSection(NotificationsOptions.Section))
            .Validate(o => !o.Enabled || (Uri.TryCreate(o.WebhookUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"),
                "Notifications:WebhookUrl must be an absolute http or https URL.")
            .Validate(o => !o.Enabled || !string.IsNullOrEmpty(o.WebhookSecret), "Notifications:WebhookSecret is required with Notifications:WebhookUrl.")
            .Validate(o => o.DelaySeconds >= 0 && o.RetryHours > 0 && o.RetryFirstSeconds > 0 && o.RetryMaxSeconds >= o.RetryFirstSeconds
                && o.TimeoutSeconds > 0 && o.PollMilliseconds > 0 && o.ClaimBatch > 0, "Notifications: delays, timeouts and batch sizes must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<NotificationOutbox>();
        var settings = builder.Configuration.GetSection(NotificationsOptions.Section).Get<NotificationsOptions>() ?? new NotificationsOptions();
        if (!settings.Enabled)
        {
            return builder;
        }
        var attempt = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        builder.Services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = settings.TotalTimeout + TimeSpan.FromSeconds(1))
            .AddStandardResilienceHandler(o =>
            {
                // One quick retry of a transient failure; the outbox's back-off does the rest.
                o.Retry.MaxRetryAttempts = 1;
                o.Retry.Delay = TimeSpan.FromMilliseconds(500);
                o.AttemptTimeout.Timeout = attempt;
                o.TotalRequestTimeout.Timeout = settings.TotalTimeout;
                o.CircuitBreaker.SamplingDuration = attempt * 2 + TimeSpan.FromSeconds(1);
            });
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddHostedService<NotificationWorker>();
        return builder;
    }
}
