using System.Diagnostics.Metrics;
using StackExchange.Redis;

namespace SliceChat.Infrastructure.Operations;

/// <summary>
/// Every instrument of the app's own, on the <c>SliceChat</c> meter (one per app instance, from the host's
/// <see cref="IMeterFactory"/>), read by OpenTelemetry (<c>/metrics</c>, OTLP) or <c>dotnet-counters</c>.
/// A new instrument goes here: a field, its creation in the constructor, and one method that records it.
/// On the send and fan-out path each call is one <c>Add</c> or <c>Record</c> per event, without tags.
/// </summary>
public sealed class AppMetrics
{
    public const string MeterName = "SliceChat";

    private readonly UpDownCounter<long> socketsOpen;
    private readonly Counter<long> messagesStored;
    private readonly Counter<long> eventsPublished;
    private readonly Counter<long> eventsDelivered;
    private readonly Histogram<double> fanOutLatency;
    private readonly Counter<long> socketOverflows;
    private readonly Counter<long> typingDropped;
    private readonly Counter<long> gapFills;
    private readonly Counter<long> feedOverflows;
    private readonly Counter<long> redisReconnects;
    private readonly Counter<long> rateLimitRejections;
    private readonly Counter<long> databaseUnavailable;
    private readonly Counter<long> webhookDeliveries;
    private long gapFillCount;
    private long feedOverflowCount;

    public AppMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        socketsOpen = meter.CreateUpDownCounter<long>("slicechat.sockets.open", unit: "{socket}",
            description: "WebSockets open on this instance.");
        messagesStored = meter.CreateCounter<long>("slicechat.messages.stored", unit: "{message}",
            description: "Messages committed by this instance's writer (repeats of a client_message_id not counted).");
        eventsPublished = meter.CreateCounter<long>("slicechat.events.published", unit: "{event}",
            description: "Conversation events this instance published on the bus (message.created, edits, reads, typing, membership).");
        eventsDelivered = meter.CreateCounter<long>("slicechat.events.delivered", unit: "{frame}",
            description: "Live conversation events queued on this instance's sockets: one per event and socket.");
        fanOutLatency = meter.CreateHistogram("slicechat.fanout.latency", unit: "s",
            description: "From a message's commit (its created_at) to its frame queued on this instance's sockets (written at once to a socket whose queue was empty), by the bus or a catch-up from the database; once per message and instance.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        socketOverflows = meter.CreateCounter<long>("slicechat.socket.overflows", unit: "{socket}",
            description: "Sockets closed with 1013 because their client read too slowly (Limits:SocketQueueCapacity frames waiting).");
        typingDropped = meter.CreateCounter<long>("slicechat.typing.dropped", unit: "{event}",
            description: "Typing events not queued on a socket whose queue was half full.");
        gapFills = meter.CreateCounter<long>("slicechat.gap_fills", unit: "{fill}",
            description: "Seq gaps in a conversation's live events that were filled from the database (a lost publish, a bus outage), not by the bus within Limits:GapWaitMilliseconds.");
        feedOverflows = meter.CreateCounter<long>("slicechat.feed_overflows", unit: "{overflow}",
            description: "Times a conversation's feed had Limits:FeedQueueCapacity events waiting, dropped live events and caught up from the database.");
        redisReconnects = meter.CreateCounter<long>("slicechat.redis.reconnects", unit: "{reconnect}",
            description: "Redis links (interactive or subscription, the link tag) restored after a failure.");
        rateLimitRejections = meter.CreateCounter<long>("slicechat.rate_limit.rejections", unit: "{rejection}",
            description: "Requests and socket frames refused by a rate limit (the rule tag: register, login, login-address, messages, writes, typing).");
        databaseUnavailable = meter.CreateCounter<long>("slicechat.database.unavailable", unit: "{failure}",
            description: "Work refused or put off because the database was unreachable (the path tag: http 503, socket error frame, delivery catch-up retried).");
        webhookDeliveries = meter.CreateCounter<long>("slicechat.webhook_deliveries", unit: "{attempt}",
            description: "Offline-notification webhook attempts, by outcome: succeeded (a 2xx answer) or failed (another answer or none in time; retried).");
    }

    public void SocketOpened() => socketsOpen.Add(1);

    public void SocketClosed() => socketsOpen.Add(-1);

    public void MessagesStored(int count) => messagesStored.Add(count);

    public void EventPublished() => eventsPublished.Add(1);

    public void EventDelivered(int sockets) => eventsDelivered.Add(sockets);

    /// <summary>Whether the fan-out latency has a listener: while it has none, the feeds neither read a frame's created_at nor the clock.</summary>
    public bool MeasuresFanOut => fanOutLatency.Enabled;

    /// <param name="createdAt">The message's created_at, taken as its batch is written (millisecond precision).</param>
    public void MessageFannedOut(DateTimeOffset createdAt)
    {
        if (fanOutLatency.Enabled)
        {
            fanOutLatency.Record(Math.Max(0, (DateTimeOffset.UtcNow - createdAt).TotalSeconds));
        }
    }

    public void SocketOverflowed() => socketOverflows.Add(1);

    public void TypingDropped() => typingDropped.Add(1);

    /// <summary>Gap fills on this instance since it started.</summary>
    public long GapFills => Interlocked.Read(ref gapFillCount);

    public void GapFilled()
    {
        Interlocked.Increment(ref gapFillCount);
        gapFills.Add(1);
    }

    /// <summary>Feed queue overflows on this instance since it started.</summary>
    public long FeedOverflows => Interlocked.Read(ref feedOverflowCount);

    public void FeedOverflowed()
    {
        Interlocked.Increment(ref feedOverflowCount);
        feedOverflows.Add(1);
    }

    /// <summary>Counts the connection's restored links.</summary>
    public void Watch(IConnectionMultiplexer redis) => redis.ConnectionRestored += (_, e) =>
        redisReconnects.Add(1, new KeyValuePair<string, object?>("link", e.ConnectionType == ConnectionType.Subscription ? "subscription" : "interactive"));

    public void RateLimited(string rule) => rateLimitRejections.Add(1, new KeyValuePair<string, object?>("rule", rule));

    public void WebhookDelivered(bool succeeded) =>
        webhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));

    public void DatabaseUnavailable(string path) => databaseUnavailable.Add(1, new KeyValuePair<string, object?>("path", path));
}

/// <summary>The values of the <c>path</c> tag of <c>slicechat.database.unavailable</c>.</summary>
public static class UnavailablePaths
{
    public const string Http = "http";
    public const string Socket = "socket";
    public const string Delivery = "delivery";
}
