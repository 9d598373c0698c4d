using System.Diagnostics.Tracing;

namespace SliceChat.Bench;

/// <summary>
/// The runtime's allocation samples (GCAllocationTick: one about every 100 KB allocated, naming the type that crossed
/// the mark) summed by type while it listens: where a phase's allocations go, without an external tracer.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly Dictionary<string, (long Samples, long Bytes)> byType = [];
    private readonly Lock gate = new();
    private volatile bool listening;

    public void Start() => listening = true;

    public IReadOnlyList<(string Type, long Samples, long Bytes)> Stop()
    {
        listening = false;
        lock (gate)
        {
            return [.. byType.OrderByDescending(t => t.Value.Bytes).Select(t => (t.Key, t.Value.Samples, t.Value.Bytes))];
        }
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword; verbose adds the allocation ticks
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!listening || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
        {
            return;
        }
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        lock (gate)
        {
            var seen = byType.GetValueOrDefault(type);
            byType[type] = (seen.Samples + 1, seen.Bytes + amount);
        }
    }
}
