using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Tests.Infrastructure.Persistence;

/// <summary>Lookups that come while one runs share the next one; each caller gets its own key's answer.</summary>
public sealed class CoalescedLookupTests
{
    private readonly List<string[]> loads = [];
    private TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? failure;

    private CoalescedLookup<string, int> Lookup(int maxBatch = 100) => new(async keys =>
    {
        lock (loads)
        {
            loads.Add([.. keys]);
        }
        await gate.Task;
        if (failure is { } e)
        {
            failure = null;
            throw e;
        }
        return keys.Where(k => k != "missing").ToDictionary(k => k, k => k.Length);
    }, maxBatch);

    [Fact]
    public async Task ALoneLookup_RunsAtOnce_AndTheOnesThatComeMeanwhile_ShareTheNext()
    {
        var lookup = Lookup();
        var first = lookup.GetAsync("a", CancellationToken.None);
        loads.ShouldBe([["a"]]); // nothing held it back
        var during = new[] { lookup.GetAsync("bb", CancellationToken.None), lookup.GetAsync("ccc", CancellationToken.None),
            lookup.GetAsync("bb", CancellationToken.None), lookup.GetAsync("missing", CancellationToken.None) };
        loads.Count.ShouldBe(1); // they wait for the running one

        gate.SetResult();
        (await first).ShouldBe(1);
        (await Task.WhenAll(during)).ShouldBe([2, 3, 2, 0]);
        loads.Count.ShouldBe(2);
        loads[1].ShouldBe(["bb", "ccc", "missing"]); // one query, each key once
    }

    [Fact]
    public async Task AFailedLoad_FailsOnlyItsOwnCallers_AndBatchesStayWithinTheirSize()
    {
        var lookup = Lookup(maxBatch: 2);
        failure = new InvalidOperationException("database down");
        var failing = lookup.GetAsync("a", CancellationToken.None);
        var later = new[] { lookup.GetAsync("bb", CancellationToken.None), lookup.GetAsync("bb", CancellationToken.None),
            lookup.GetAsync("ccc", CancellationToken.None), lookup.GetAsync("dddd", CancellationToken.None) };
        gate.SetResult();

        (await Should.ThrowAsync<InvalidOperationException>(failing)).Message.ShouldBe("database down");
        (await Task.WhenAll(later)).ShouldBe([2, 2, 3, 4]);
        loads.Skip(1).ShouldBe([["bb", "ccc"], ["dddd"]]);
    }

    [Fact]
    public async Task ACallerThatStopsWaiting_LeavesTheOthersTheirAnswers()
    {
        var lookup = Lookup();
        var blocker = lookup.GetAsync("a", CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var impatient = lookup.GetAsync("bb", cancel.Token);
        var patient = lookup.GetAsync("bb", CancellationToken.None);
        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(impatient);

        gate.SetResult();
        (await blocker).ShouldBe(1);
        (await patient).ShouldBe(2);
    }
}
