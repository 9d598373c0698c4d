namespace SliceChat.Infrastructure.Persistence;

/// <summary>
/// Database lookups of many callers in one query: a lookup runs at once when none is running; those that come while
/// one runs wait for it and then go together in the next (at most <c>maxBatch</c> keys each, a key asked twice once).
/// Under a burst (an instance's clients reconnecting to the others at once) one query answers a crowd instead of
/// a query each; alone, a lookup waits for nothing. Written here: ASP.NET Core and EF Core batch writes, not the
/// concurrent reads of separate requests, and the DataLoaders that do come with GraphQL servers.
/// </summary>
/// <param name="load">Answers a batch of distinct keys; a key it leaves out gets <c>default</c>. It runs without the
/// callers' cancellation (a batch serves several); each caller stops waiting on its own token.</param>
public sealed class CoalescedLookup<TKey, TValue>(Func<IReadOnlyList<TKey>, Task<IReadOnlyDictionary<TKey, TValue>>> load, int maxBatch)
    where TKey : notnull
{
    private readonly Lock gate = new();
    private readonly Queue<(TKey Key, TaskCompletionSource<TValue?> Answer)> waiting = new();
    private bool running;

    public Task<TValue?> GetAsync(TKey key, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<TValue?>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (gate)
        {
            waiting.Enqueue((key, answer));
            start = !running;
            running = true;
        }
        if (start)
        {
            _ = RunAsync();
        }
        return answer.Task.WaitAsync(ct);
    }

    private async Task RunAsync()
    {
        while (true)
        {
            var batch = new List<(TKey Key, TaskCompletionSource<TValue?> Answer)>();
            lock (gate)
            {
                var keys = new HashSet<TKey>();
                while (waiting.TryPeek(out var next) && (keys.Count < maxBatch || keys.Contains(next.Key)))
                {
                    keys.Add(waiting.Dequeue().Key);
                    batch.Add(next);
                }
                if (batch.Count == 0)
                {
                    running = false;
                    return;
                }
            }
            try
            {
                var found = await load([.. batch.Select(b => b.Key).Distinct()]);
                foreach (var (key, answer) in batch)
                {
                    answer.TrySetResult(found.TryGetValue(key, out var value) ? value : default);
                }
            }
            catch (Exception e)
            {
                foreach (var (_, answer) in batch)
                {
                    answer.TrySetException(e);
                }
            }
        }
    }
}
