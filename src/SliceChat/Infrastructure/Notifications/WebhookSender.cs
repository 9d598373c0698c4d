using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace SliceChat.Infrastructure.Notifications;

/// <summary>POSTs one composed delivery to <c>Notifications:WebhookUrl</c>, signed; a 2xx answer is success, anything else (or none in time) is not.</summary>
public sealed partial class WebhookSender(IHttpClientFactory clients, IOptions<NotificationsOptions> options, TimeProvider time, ILogger<WebhookSender> logger)
{
    public const string ClientName = "webhooks";
    public const string SignatureHeader = "SliceChat-Signature";
    public const string DeliveryHeader = "SliceChat-Delivery";

    private readonly byte[] secret = Encoding.UTF8.GetBytes(options.Value.WebhookSecret ?? "");

    /// <summary><c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</c>.</summary>
    public static string Signature(byte[] secret, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public async Task<bool> SendAsync(Guid deliveryId, string body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.WebhookUrl)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(SignatureHeader, Signature(secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
        request.Headers.Add(DeliveryHeader, deliveryId.ToString());
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, ct);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }
            LogRefused(logger, deliveryId, (int)response.StatusCode);
        }
        catch (Exception e) when (!ct.IsCancellationRequested
            && e is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or TaskCanceledException)
        {
            LogFailed(logger, deliveryId, e.Message);
        }
        return false;
    }

    [LoggerMessage(LogLevel.Warning, "Webhook delivery {DeliveryId} answered {Status}; it is retried later")]
    private static partial void LogRefused(ILogger logger, Guid deliveryId, int status);

    [LoggerMessage(LogLevel.Warning, "Webhook delivery {DeliveryId} failed ({Reason}); it is retried later")]
    private static partial void LogFailed(ILogger logger, Guid deliveryId, string reason);
}
