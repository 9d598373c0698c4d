using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SliceChat.Tests.Support;

/// <summary>One webhook request as the receiver saw it, with the status it answered (0: not answered, or never).</summary>
public sealed record ReceivedWebhook(string Body, string? Signature, string? Delivery, DateTimeOffset At, int Status)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    /// <summary>Whether the signature is <c>t=..,v1=hex(HMAC-SHA256(secret, "t.body"))</c>, checked as a receiver would.</summary>
    public bool IsSignedWith(string secret)
    {
        var parts = (Signature ?? "").Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1))
        {
            return false;
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{Body}"));
        return CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(v1));
    }
}

/// <summary>A real HTTP receiver on loopback (Kestrel) that records every webhook request and answers as the test says.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly List<ReceivedWebhook> received = [];

    private WebhookReceiver(WebApplication app) => this.app = app;

    /// <summary>The answer to the n-th request (1-based); by default 200. A task that does not complete holds the request open.</summary>
    public Func<int, CancellationToken, Task<int>> Answer { get; set; } = (_, _) => Task.FromResult(200);

    public string Url => app.Urls.First() + "/hooks/slicechat";

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (received)
            {
                return [.. received];
            }
        }
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        var count = 0;
        app.MapPost("/hooks/slicechat", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var at = DateTimeOffset.UtcNow;
            var entry = new ReceivedWebhook(body, context.Request.Headers["SliceChat-Signature"], context.Request.Headers["SliceChat-Delivery"], at, 0);
            int index;
            lock (receiver.received)
            {
                index = receiver.received.Count;
                receiver.received.Add(entry); // on arrival, with status 0 until it is answered
            }
            var status = await receiver.Answer(Interlocked.Increment(ref count), context.RequestAborted);
            lock (receiver.received)
            {
                receiver.received[index] = entry with { Status = status };
            }
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits until the requests received satisfy <paramref name="done"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done(Received))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The webhooks received ({Received.Count}) did not match within {timeout}.");
            }
            await Task.Delay(50);
        }
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
