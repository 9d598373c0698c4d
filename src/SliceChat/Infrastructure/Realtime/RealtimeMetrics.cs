using System.Diagnostics.Metrics;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// The real-time layer's instruments, on the <c>SliceChat.Realtime</c> meter (one per app instance,
/// from the host's <see cref="IMeterFactory"/>), for OpenTelemetry or <c>dotnet-counters</c> to read.
/// </summary>
public sealed class RealtimeMetrics
{
    public const string MeterName = "SliceChat.Realtime";

    private readonly Counter<long> gapFills;
    private readonly Counter<long> feedOverflows;
    private readonly Counter<long> webhookDeliveries;
    private long gapFillCount;
    private long feedOverflowCount;

    public RealtimeMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        gapFills = meter.CreateCounter<long>("slicechat.gap_fills", unit: "{fill}",
            description: "Seq gaps in a conversation's live events that were filled from the database (a lost publish, a bus outage), not by the bus within Limits:GapWaitMilliseconds.");
        feedOverflows = meter.CreateCounter<long>("slicechat.feed_overflows", unit: "{overflow}",
            description: "Times a conversation's feed had Limits:FeedQueueCapacity events waiting, dropped live events and caught up from the database.");
        webhookDeliveries = meter.CreateCounter<long>("slicechat.webhook_deliveries", unit: "{attempt}",
            description: "Offline-notification webhook attempts, by outcome: succeeded (a 2xx answer) or failed (another answer or none in time; retried).");
    }

    /// <summary>Feed queue overflows on this instance since it started.</summary>
    public long FeedOverflows => Interlocked.Read(ref feedOverflowCount);

    public void FeedOverflowed()
    {
        Interlocked.Increment(ref feedOverflowCount);
        feedOverflows.Add(1);
    }

    /// <summary>Gap fills on this instance since it started.</summary>
    public long GapFills => Interlocked.Read(ref gapFillCount);

    public void GapFilled()
    {
        Interlocked.Increment(ref gapFillCount);
        gapFills.Add(1);
    }

    public void WebhookDelivered(bool succeeded) =>
        webhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));
}
