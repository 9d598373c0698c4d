using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Conversations;

/// <summary>
/// Group commit: this instance's writers of messages. A send waits in the queue of the writer its
/// conversation belongs to (<see cref="LimitsOptions.SendWriters"/>); each writer takes whatever waits for it (up to
/// <see cref="LimitsOptions.SendBatchSize"/>), stores it in one transaction (<see cref="MessageStore"/>),
/// and after the commit publishes each new message in seq order, then answers its sender. Several
/// writers keep several commits (and their fsyncs) in flight, which PostgreSQL flushes together; one
/// conversation has one writer, so its messages are published in seq order and two sends of one
/// client_message_id never race each other on this instance. A batch that fails is written again send
/// by send, so a failure (a conversation deleted meanwhile, a client_message_id another instance stored
/// first) answers only its own send; one that fails because the database is unreachable fails all its
/// unanswered sends at once. At most <see cref="LimitsOptions.SendQueueCapacity"/> sends wait; one more
/// answers <see cref="SendError.Overloaded"/> at once.
/// </summary>
public sealed partial class SendBatcher : BackgroundService
{
    private readonly IServiceScopeFactory scopes;
    private readonly ChatEvents events;
    private readonly AppMetrics metrics;
    private readonly ILogger<SendBatcher> logger;
    private readonly Channel<Waiter>[] queues;
    private readonly int capacity;
    private readonly int batchSize;
    private int waiting;
    private long batches;

    public SendBatcher(IServiceScopeFactory scopes, ChatEvents events, IOptions<LimitsOptions> options, AppMetrics metrics, ILogger<SendBatcher> logger)
    {
        this.scopes = scopes;
        this.events = events;
        this.metrics = metrics;
        this.logger = logger;
        var writers = Math.Max(1, options.Value.SendWriters);
        // Unbounded (the shared count bounds them) and not SingleReader: that reader cannot count.
        queues = [.. Enumerable.Range(0, writers).Select(_ => Channel.CreateUnbounded<Waiter>())];
        capacity = Math.Max(1, options.Value.SendQueueCapacity);
        batchSize = Math.Max(1, options.Value.SendBatchSize);
    }

    /// <summary>The Retry-After of a send refused because the queue is full: the writer drains a batch in milliseconds.</summary>
    public static TimeSpan OverloadedRetryAfter { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Sends waiting for a writer.</summary>
    public int Waiting => Volatile.Read(ref waiting);

    /// <summary>Batches the writers have taken since start.</summary>
    public long Batches => Interlocked.Read(ref batches);

    /// <summary>The writer that stores a conversation's messages.</summary>
    public int WriterOf(Guid chatroomId) => (int)((uint)chatroomId.GetHashCode() % (uint)queues.Length);

    /// <summary>Stores the send with whatever else is waiting, publishes it once committed, and answers.</summary>
    public async Task<SendResult> SendAsync(PendingSend send, CancellationToken ct)
    {
        var waiter = new Waiter(send, ct);
        if (Interlocked.Increment(ref waiting) > capacity)
        {
            Interlocked.Decrement(ref waiting);
            return SendResult.Failed(SendError.Overloaded, OverloadedRetryAfter);
        }
        if (!queues[WriterOf(send.ChatroomId)].Writer.TryWrite(waiter))
        {
            // The writers have stopped (the instance is shutting down): this send is written on its own.
            Interlocked.Decrement(ref waiting);
            await WriteAsync([waiter]);
        }
        return await waiter.Completion.Task.WaitAsync(ct);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(queues.Select(queue => Task.Run(() => RunWriterAsync(queue.Reader, stoppingToken), CancellationToken.None)));

    private async Task RunWriterAsync(ChannelReader<Waiter> queue, CancellationToken stoppingToken)
    {
        try
        {
            while (await queue.WaitToReadAsync(stoppingToken))
            {
                await WriteAsync(Take(queue));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what is still waiting.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var queue in queues)
        {
            queue.Writer.TryComplete();
        }
        await Task.WhenAll(queues.Select(async queue =>
        {
            while (queue.Reader.Count > 0)
            {
                await WriteAsync(Take(queue.Reader));
            }
        }));
    }

    private List<Waiter> Take(ChannelReader<Waiter> queue)
    {
        var batch = new List<Waiter>(Math.Min(batchSize, queue.Count));
        while (batch.Count < batchSize && queue.TryRead(out var waiter))
        {
            Interlocked.Decrement(ref waiting);
            if (waiter.Cancellation.IsCancellationRequested)
            {
                waiter.Completion.TrySetCanceled(waiter.Cancellation); // its caller has gone: nothing stored
                continue;
            }
            batch.Add(waiter);
        }
        Interlocked.Increment(ref batches);
        return batch;
    }

    /// <summary>Writes one batch and answers its senders; never throws (a failure goes to the sends it concerns).</summary>
    private async Task WriteAsync(List<Waiter> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }
        var sends = batch.Select(w => w.Send).ToList();
        var results = new SendResult?[batch.Count];
        try
        {
            // Not cancelled by one caller: the batch is everyone's.
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<MessageStore>().StoreBatchAsync(sends, results, CancellationToken.None);
        }
        catch (Exception e) when (DbErrors.IsUnavailable(e))
        {
            // Nothing of the batch is stored (it is one transaction), and one by one would fail as well: each
            // send without an answer yet fails with the outage, which its caller answers as unavailable.
            LogBatchUnavailable(logger, batch.Count, e.Message);
            for (var i = 0; i < batch.Count; i++)
            {
                if (results[i] is null)
                {
                    batch[i].Completion.TrySetException(e);
                }
            }
        }
        catch (Exception e)
        {
            LogBatchFailed(logger, e, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                if (results[i] is not null)
                {
                    continue;
                }
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    results[i] = await scope.ServiceProvider.GetRequiredService<MessageStore>().StoreOneAsync(sends[i], CancellationToken.None);
                }
                catch (Exception failure)
                {
                    batch[i].Completion.TrySetException(failure);
                }
            }
        }

        // A repeat is answered with the original, which goes on the bus again first: feeds that delivered it
        // drop it by its seq, so no socket sees it twice, and one that never had it (its publish was lost with
        // the answer: a connection cut after the commit) delivers it now rather than at its next gap fill.
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i] is { Created: false } result)
            {
                if (result.Message is { } original)
                {
                    _ = events.PublishAsync(original.ChatroomId, ChatEvents.MessageCreated, original);
                }
                batch[i].Completion.TrySetResult(result);
            }
        }
        var stored = results.Count(r => r is { Created: true });
        if (stored > 0)
        {
            metrics.MessagesStored(stored);
        }
        // Committed: publish in seq order (each publish hands the message to this instance's sockets at
        // once, and queues it for the bus in call order), and answer each sender after its own publish.
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i] is { Created: true } result)
            {
                _ = AnswerAfterAsync(batch[i], result, events.PublishAsync(result.Message!.ChatroomId, ChatEvents.MessageCreated, result.Message));
            }
        }
    }

    private static async Task AnswerAfterAsync(Waiter waiter, SendResult result, Task publish)
    {
        // The message is stored whatever the bus does: receivers recover it from the database.
        await publish.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        waiter.Completion.TrySetResult(result);
    }

    private sealed class Waiter(PendingSend send, CancellationToken cancellation)
    {
        public PendingSend Send { get; } = send;
        public CancellationToken Cancellation { get; } = cancellation;
        public TaskCompletionSource<SendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(LogLevel.Warning, "Storing a batch of {Count} sends failed: the database is unreachable ({Reason})")]
    private static partial void LogBatchUnavailable(ILogger logger, int count, string reason);

    [LoggerMessage(LogLevel.Warning, "Storing a batch of {Count} sends failed; storing them one by one")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}
