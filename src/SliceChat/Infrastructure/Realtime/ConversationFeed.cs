using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// One conversation's delivery on this instance, while any local socket follows it. A single loop
/// handles everything for the conversation in turn (bus events, sockets attaching, sync requests), so
/// <c>message.created</c> leaves in seq order, once each: a seq already delivered is dropped, and
/// what comes past a gap waits. A gap is usually another instance's write still on its way over the
/// bus, so the feed first waits <c>Limits:GapWaitMilliseconds</c> for it; only then (a lost publish,
/// a Redis outage) is it filled from the database, and what waited goes out after it. A fill that finds
/// the database unreachable is tried again later; what waits past the gap is never dropped nor skipped.
/// Its queue of live events and sync requests is bounded (<c>Limits:FeedQueueCapacity</c>, see <see cref="OnPublished"/>),
/// and its start-up stops when the last socket leaves before it finished.
/// </summary>
public sealed partial class ConversationFeed
{
    private const int CatchUpPage = 200;

    private static readonly ReadOnlyMemory<byte> Busy = SocketFrames.Error("unavailable", "This conversation's delivery is busy; sync again shortly.");

    private readonly Channel<Work> inbox = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    // Each socket with the lowest seq from which it has had every message.created up to lastSeq: a sync never
    // replays to a socket what it had live (after a reconnect, live events start at ready, before the sync).
    private readonly Dictionary<SocketConnection, long> sockets = [];
    private readonly ConversationFeeds owner;
    private readonly IServiceScopeFactory scopes;
    private readonly int syncReplayMax;
    private readonly long syncBudgetBytes;
    private readonly int queueCapacity;
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int queued; // live events and sync requests in the inbox
    private int overflowed; // 1 once a live event was dropped, until the catch-up it asked for starts
    private readonly TimeSpan retryDelay;
    private readonly TimeSpan gapWait;
    private readonly AppMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private long lastSeq;

    // Past a gap (created on the first one): message.created frames by seq, and the other events that
    // came after them with the highest seq they must follow.
    private Dictionary<long, ReadOnlyMemory<byte>>? ahead;
    private Queue<(long AfterSeq, ReadOnlyMemory<byte> Frame)>? held;
    private long highestAhead;
    private ITimer? gapTimer;
    private long gapDeadline;
    private bool retryPending;

    // Sockets that were sent their user's member.joined as they attached: the same event over the bus is not sent to them again.
    private HashSet<SocketConnection>? greeted;

    // What lets an attach vouch for the membership check its socket passed before attaching (see Add): when this feed
    // subscribed, until when no check is vouched for (it may have missed events: the bus link came back, a live event
    // was dropped; or the room was deleted), and when it last handled each user's member.left. Departures older than
    // DepartureMemory are forgotten; a check older than that is not vouched for.
    private static readonly TimeSpan DepartureMemory = TimeSpan.FromMinutes(1);
    private long subscribedAt = long.MaxValue;
    private long distrustedUntil = long.MinValue;
    private Dictionary<Guid, long>? departedAt;

    public ConversationFeed(Guid chatroomId, ConversationFeeds owner, IMessageBus bus, ChannelNames channels, IServiceScopeFactory scopes,
        LimitsOptions limits, AppMetrics metrics, TimeProvider time, ILogger logger)
    {
        ChatroomId = chatroomId;
        this.owner = owner;
        this.scopes = scopes;
        syncReplayMax = limits.SyncReplayMax;
        syncBudgetBytes = limits.SocketSyncBudgetBytes;
        queueCapacity = limits.FeedQueueCapacity;
        retryDelay = TimeSpan.FromSeconds(limits.FeedRetrySeconds);
        gapWait = TimeSpan.FromMilliseconds(limits.GapWaitMilliseconds);
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        _ = RunAsync(bus, channels.Conversation(chatroomId));
    }

    public Guid ChatroomId { get; }


    private abstract record Work;
    private sealed record Live(ReadOnlyMemory<byte> Frame) : Work;
    private sealed record Attach(SocketConnection Socket, long? AfterSeq, ReadOnlyMemory<byte>? Joined, long? CheckedAt, TaskCompletionSource<bool> Attached) : Work;
    private sealed record Detach(SocketConnection Socket) : Work;
    private sealed record Sync(SocketConnection Socket, long AfterSeq) : Work;
    private sealed record CatchUp : Work;

    /// <summary>The gap wait ran out; <see cref="Deferred"/> once it has let the work queued meanwhile go first.</summary>
    private sealed record GapExpired(bool Deferred) : Work
    {
        public static readonly GapExpired First = new(false);
        public static readonly GapExpired Again = new(true);
    }

    /// <param name="afterSeq">Replay to this socket what came after it (a conversation just joined); null = from now on.</param>
    /// <param name="joined">Its user's own member.joined: sent first, and not again when it arrives over the bus.</param>
    /// <param name="checkedAt">When (<see cref="TimeProvider.GetTimestamp"/>) the database said the socket's user is a member,
    /// just before the socket attaches.</param>
    /// <returns>
    /// Completes once the socket receives the conversation's events (the feed is subscribed): true when the feed vouches
    /// that no departure of the user can have come between <paramref name="checkedAt"/> and the attach (it had every event
    /// since before the check, and none of them was the user's member.left or the room's deletion); false when the
    /// membership must be checked again (a removal may have been published before the feed had the socket).
    /// </returns>
    public Task<bool> Add(SocketConnection socket, long? afterSeq, ReadOnlyMemory<byte>? joined, long? checkedAt)
    {
        var attached = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        inbox.Writer.TryWrite(new Attach(socket, afterSeq, joined, checkedAt, attached));
        return attached.Task;
    }

    public void Remove(SocketConnection socket) => inbox.Writer.TryWrite(new Detach(socket));

    public void Replay(SocketConnection socket, long afterSeq)
    {
        if (!TryQueue(new Sync(socket, afterSeq)))
        {
            socket.Enqueue(Busy);
        }
    }

    /// <summary>Reload what may have been missed (the bus link came back).</summary>
    public void RequestCatchUp()
    {
        DistrustEarlierChecks();
        inbox.Writer.TryWrite(new CatchUp());
    }

    /// <summary>No check from before now is vouched for (events may have been lost until now, or everyone left).</summary>
    private void DistrustEarlierChecks()
    {
        var now = time.GetTimestamp();
        var seen = Volatile.Read(ref distrustedUntil);
        while (seen < now && Interlocked.CompareExchange(ref distrustedUntil, now, seen) is var was && was != seen)
        {
            seen = was;
        }
    }

    /// <summary>No socket follows the conversation any more: finish the queued work (or stop starting) and unsubscribe.</summary>
    public void Complete()
    {
        inbox.Writer.TryComplete();
        stopped.TrySetResult();
    }

    /// <summary>
    /// A live event from the bus (or this instance's own write). Past <c>Limits:FeedQueueCapacity</c> (the loop is
    /// behind: a slow database, a start-up waiting for it) it is dropped and the feed asks for one catch-up from the
    /// database, queued behind what waits: message.created is stored before it is published, so that catch-up
    /// delivers every dropped one in seq order, and the seq check drops those delivered twice. Membership is
    /// re-checked with it (a dropped member.left must not leave a socket following); dropped typing, read and edit
    /// events are not replayed, as after a bus outage. Closing sockets with 1013 instead would punish clients that
    /// read fine.
    /// </summary>
    private void OnPublished(ReadOnlyMemory<byte> frame)
    {
        if (TryQueue(new Live(frame)) || stopped.Task.IsCompleted)
        {
            return;
        }
        DistrustEarlierChecks();
        if (Interlocked.Exchange(ref overflowed, 1) == 0)
        {
            metrics.FeedOverflowed();
            inbox.Writer.TryWrite(new CatchUp());
        }
    }

    private bool TryQueue(Work work)
    {
        if (Interlocked.Increment(ref queued) > queueCapacity || !inbox.Writer.TryWrite(work))
        {
            Interlocked.Decrement(ref queued);
            return false;
        }
        return true;
    }

    private void Dequeued(Work work)
    {
        if (work is Live or Sync)
        {
            Interlocked.Decrement(ref queued);
        }
        else if (work is CatchUp)
        {
            Volatile.Write(ref overflowed, 0); // a drop from now on may be past what this catch-up reads
        }
    }

    private async Task RunAsync(IMessageBus bus, string channel)
    {
        await Task.Yield();
        // Subscribe before reading the newest seq: whatever is committed later is then also published to us.
        var subscription = await bus.SubscribeAsync(channel, OnPublished);
        Volatile.Write(ref subscribedAt, time.GetTimestamp());
        try
        {
            if (await ReadLastSeqAsync() is not { } newest)
            {
                return; // every socket left before the feed started
            }
            lastSeq = newest;
            await foreach (var work in inbox.Reader.ReadAllAsync())
            {
                Dequeued(work);
                try
                {
                    await HandleAsync(work);
                }
                catch (Exception e)
                {
                    LogWorkFailed(logger, e, ChatroomId);
                }
            }
        }
        catch (Exception e)
        {
            LogWorkFailed(logger, e, ChatroomId);
        }
        finally
        {
            gapTimer?.Dispose();
            await subscription.DisposeAsync();
            while (inbox.Reader.TryRead(out var work))
            {
                (work as Attach)?.Attached.TrySetCanceled(); // never attached: the feed did not start
            }
        }
    }

    /// <summary>The newest seq, tried again while the database is unreachable; null once every socket has left (<see cref="Complete"/>).</summary>
    private async Task<long?> ReadLastSeqAsync()
    {
        while (!stopped.Task.IsCompleted)
        {
            var read = WithDbAsync(db => db.Chatrooms.Where(r => r.Id == ChatroomId).Select(r => r.LastSeq).FirstOrDefaultAsync());
            try
            {
                // A read that hangs on an unreachable server is left to finish (or fail) alone once the feed stops.
                if (await Task.WhenAny(read, stopped.Task) == read)
                {
                    return await read;
                }
                _ = read.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database is unreachable: sockets wait for their ready frame (and time out) until it is back.
                LogWorkFailed(logger, e, ChatroomId);
                await Task.WhenAny(Task.Delay(retryDelay, time), stopped.Task);
            }
        }
        return null;
    }

    private async Task HandleAsync(Work work)
    {
        switch (work)
        {
            case Live live:
                await OnLiveAsync(live.Frame);
                break;
            case Attach attach:
                sockets[attach.Socket] = lastSeq + 1;
                attach.Attached.TrySetResult(Vouches(attach.Socket.UserId, attach.CheckedAt));
                if (attach.Joined is { } joined)
                {
                    attach.Socket.Enqueue(joined);
                    (greeted ??= []).Add(attach.Socket);
                }
                if (attach.AfterSeq is { } after && after < lastSeq)
                {
                    await ReplayAsync(attach.Socket, after);
                }
                break;
            case Detach detach:
                sockets.Remove(detach.Socket);
                greeted?.Remove(detach.Socket);
                break;
            case Sync sync when sockets.ContainsKey(sync.Socket):
                try
                {
                    await ReplayAsync(sync.Socket, sync.AfterSeq);
                }
                catch (Exception e) when (DbErrors.IsUnavailable(e))
                {
                    sync.Socket.Enqueue(SocketFrames.Unavailable()); // the client syncs again; live events go on
                }
                break;
            case CatchUp:
                retryPending = false;
                await owner.CatchUps.WaitAsync();
                try
                {
                    await FillOrRetryAsync(async () =>
                    {
                        await DropNonMembersAsync();
                        await CatchUpAsync();
                    });
                }
                finally
                {
                    owner.CatchUps.Release();
                }
                break;
            case GapExpired expired when ahead is { Count: > 0 }:
                await OnGapExpiredAsync(expired);
                break;
        }
    }

    private async Task OnGapExpiredAsync(GapExpired expired)
    {
        var left = time.GetElapsedTime(time.GetTimestamp(), gapDeadline);
        if (left > TimeSpan.Zero)
        {
            gapTimer!.Change(left, Timeout.InfiniteTimeSpan); // a newer gap, with its own window
            return;
        }
        if (!expired.Deferred)
        {
            inbox.Writer.TryWrite(GapExpired.Again); // behind what arrived meanwhile: it may hold the missing seq
            return;
        }
        LogGap(logger, ChatroomId, lastSeq + 1, gapWait.TotalMilliseconds);
        metrics.GapFilled();
        await FillOrRetryAsync(CatchUpAsync);
    }

    /// <summary>
    /// Fills from the database; while it is unreachable, what waits past the gap keeps waiting (nothing is
    /// delivered out of order or skipped) and a catch-up is tried again after <c>Limits:FeedRetrySeconds</c>.
    /// </summary>
    private async Task FillOrRetryAsync(Func<Task> fill)
    {
        try
        {
            await fill();
        }
        catch (Exception e) when (DbErrors.IsUnavailable(e))
        {
            metrics.DatabaseUnavailable(UnavailablePaths.Delivery);
            LogFillDeferred(logger, ChatroomId, retryDelay.TotalSeconds, e.Message);
            if (!retryPending)
            {
                retryPending = true;
                _ = RetryCatchUpAsync();
            }
        }
    }

    private async Task RetryCatchUpAsync()
    {
        await Task.Delay(retryDelay, time);
        inbox.Writer.TryWrite(new CatchUp());
    }

    private async Task OnLiveAsync(ReadOnlyMemory<byte> frame)
    {
        var header = FrameHeader.Read(frame.Span, metrics.MeasuresFanOut);
        switch (header.Type)
        {
            case ChatEvents.MessageCreated when header.Seq is { } seq:
                await OnMessageCreatedAsync(frame, seq, header.CreatedAt);
                break;
            case ChatEvents.Typing:
                Deliver(frame, ephemeral: true);
                break;
            case var _ when ahead is { Count: > 0 }:
                (held ??= new()).Enqueue((highestAhead, frame)); // it came after what waits past the gap
                break;
            default:
                await OnEventAsync(frame, header);
                break;
        }
    }

    /// <summary>An event other than message.created and typing, in its turn.</summary>
    private async Task OnEventAsync(ReadOnlyMemory<byte> frame, FrameHeader header)
    {
        switch (header.Type)
        {
            case ChatEvents.MemberLeft when header.UserId is { } userId:
                Departed(userId);
                Deliver(frame, ephemeral: false);
                await DropIfGoneAsync(userId);
                break;
            case ChatEvents.ChatroomDeleted:
                DistrustEarlierChecks();
                Deliver(frame, ephemeral: false);
                foreach (var socket in sockets.Keys.ToList())
                {
                    Drop(socket);
                }
                break;
            case ChatEvents.MemberJoined when greeted is { Count: > 0 } && header.UserId is { } joiner:
                var had = greeted.Where(s => s.UserId == joiner).ToList();
                greeted.ExceptWith(had);
                foreach (var socket in sockets.Keys.Except(had))
                {
                    socket.Enqueue(frame);
                }
                break;
            default:
                Deliver(frame, ephemeral: false);
                break;
        }
    }

    /// <summary>In seq order, once each: a seq delivered already is dropped, one past a gap waits for the gap to close.</summary>
    private async Task OnMessageCreatedAsync(ReadOnlyMemory<byte> frame, long seq, DateTimeOffset? createdAt)
    {
        if (seq <= lastSeq)
        {
            return; // delivered already (our own write, or filled from the database)
        }
        if (seq > lastSeq + 1)
        {
            ahead ??= [];
            if (ahead.TryAdd(seq, frame))
            {
                highestAhead = Math.Max(highestAhead, seq);
            }
            if (ahead.Count == 1)
            {
                ArmGapWait();
            }
            return;
        }
        DeliverMessage(frame, createdAt);
        lastSeq = seq;
        if (ahead is { Count: > 0 })
        {
            await ReleaseAsync(pastHoles: false);
        }
    }

    /// <summary>
    /// Delivers what waited past the gap as far as the seqs run on, and the events that came after them;
    /// with <paramref name="pastHoles"/> (the database was read: a seq it lacks will never come) all of it.
    /// </summary>
    private async Task ReleaseAsync(bool pastHoles)
    {
        var advanced = false;
        while (true)
        {
            if (ahead is { Count: > 0 } && (ahead.ContainsKey(lastSeq + 1) || pastHoles))
            {
                var seq = ahead.ContainsKey(lastSeq + 1) ? lastSeq + 1 : ahead.Keys.Min();
                ahead.Remove(seq, out var next);
                DeliverMessage(next, metrics.MeasuresFanOut ? FrameHeader.Read(next.Span, withCreatedAt: true).CreatedAt : null);
                lastSeq = seq;
                advanced = true;
            }
            else if (held is { Count: > 0 } && held.Peek().AfterSeq <= lastSeq)
            {
                var (_, frame) = held.Dequeue();
                await OnEventAsync(frame, FrameHeader.Read(frame.Span));
            }
            else
            {
                break;
            }
        }
        if (ahead is not { Count: > 0 })
        {
            gapTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        else if (advanced)
        {
            ArmGapWait(); // the next gap gets a window of its own
        }
    }

    private void ArmGapWait()
    {
        gapDeadline = time.GetTimestamp() + (long)(gapWait.TotalSeconds * time.TimestampFrequency);
        gapTimer ??= time.CreateTimer(static feed => ((ConversationFeed)feed!).inbox.Writer.TryWrite(GapExpired.First), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        gapTimer.Change(gapWait, Timeout.InfiniteTimeSpan);
    }

    private bool Vouches(Guid userId, long? checkedAt)
    {
        if (checkedAt is not { } at || time.GetElapsedTime(at) > DepartureMemory
            || Volatile.Read(ref subscribedAt) > at || Volatile.Read(ref distrustedUntil) >= at)
        {
            return false;
        }
        return departedAt is null || !departedAt.TryGetValue(userId, out var departed) || departed < at;
    }

    private void Departed(Guid userId)
    {
        var now = time.GetTimestamp();
        departedAt ??= [];
        if (departedAt.Count >= 256)
        {
            foreach (var user in departedAt.Where(d => time.GetElapsedTime(d.Value, now) > DepartureMemory).Select(d => d.Key).ToList())
            {
                departedAt.Remove(user);
            }
        }
        departedAt[userId] = now;
    }

    /// <summary>Re-checked: the user may have joined again before their member.left was handled.</summary>
    private async Task DropIfGoneAsync(Guid userId)
    {
        if (!(await MembersAsync([userId])).Contains(userId))
        {
            foreach (var socket in sockets.Keys.Where(s => s.UserId == userId).ToList())
            {
                Drop(socket);
            }
        }
    }

    private void Drop(SocketConnection socket)
    {
        sockets.Remove(socket);
        owner.Drop(socket, ChatroomId);
    }

    /// <summary>After an outage, membership events may have been lost: whoever is no longer a member stops receiving.</summary>
    private async Task DropNonMembersAsync()
    {
        var members = await MembersAsync(sockets.Keys.Select(s => s.UserId).Distinct().ToList());
        foreach (var socket in sockets.Keys.Where(s => !members.Contains(s.UserId)).ToList())
        {
            Drop(socket);
        }
    }

    private async Task<HashSet<Guid>> MembersAsync(List<Guid> userIds) =>
        (await WithDbAsync(db => db.Members.Where(m => m.ChatroomId == ChatroomId && userIds.Contains(m.UserId)).Select(m => m.UserId).ToListAsync())).ToHashSet();

    private void Deliver(ReadOnlyMemory<byte> frame, bool ephemeral)
    {
        foreach (var socket in sockets.Keys)
        {
            socket.Enqueue(frame, ephemeral);
        }
        if (sockets.Count > 0)
        {
            metrics.EventDelivered(sockets.Count);
        }
    }

    /// <summary>A message.created in its turn (from the bus, or caught up from the database): delivered, and its fan-out latency recorded once for this instance.</summary>
    private void DeliverMessage(ReadOnlyMemory<byte> frame, DateTimeOffset? createdAt)
    {
        Deliver(frame, ephemeral: false);
        if (createdAt is { } committed && sockets.Count > 0)
        {
            metrics.MessageFannedOut(committed);
        }
    }

    /// <summary>Delivers every stored message after the last one delivered, in seq order, each serialised once.</summary>
    private async Task CatchUpAsync()
    {
        MessagePage page;
        do
        {
            var after = lastSeq;
            page = await HistoryAsync(h => h.PageAsync(ChatroomId, beforeSeq: null, afterSeq: after, CatchUpPage, CancellationToken.None));
            foreach (var message in page.Items)
            {
                DeliverMessage(ChatEvents.Frame(ChatEvents.MessageCreated, message), message.CreatedAt);
                lastSeq = message.Seq;
            }
        }
        while (page.HasMore);
        if (ahead is { Count: > 0 })
        {
            foreach (var seq in ahead.Keys.Where(s => s <= lastSeq).ToList())
            {
                ahead.Remove(seq);
            }
            await ReleaseAsync(pastHoles: true);
        }
    }

    /// <summary>
    /// Sends one socket what it missed after <paramref name="afterSeq"/>, up to what it had live (none of which it is
    /// sent again): at most <c>Limits:SyncReplayMax</c> messages, and only while the socket's queue holds less than
    /// <c>Limits:SocketSyncBudgetBytes</c>, so a client that asks again and again without reading holds a bounded amount.
    /// </summary>
    private async Task ReplayAsync(SocketConnection socket, long afterSeq)
    {
        if (socket.IsClosing || !sockets.TryGetValue(socket, out var heldFrom))
        {
            return;
        }
        var replayed = afterSeq;
        var upTo = Math.Min(lastSeq, heldFrom - 1);
        var complete = afterSeq >= upTo || socket.QueuedBytes < syncBudgetBytes;
        if (complete && afterSeq < upTo)
        {
            var page = await HistoryAsync(h => h.PageAsync(ChatroomId, beforeSeq: upTo + 1, afterSeq, syncReplayMax, CancellationToken.None));
            complete = !page.HasMore;
            foreach (var message in page.Items)
            {
                if (socket.QueuedBytes >= syncBudgetBytes)
                {
                    complete = false;
                    break;
                }
                socket.Enqueue(ChatEvents.Frame(ChatEvents.MessageCreated, message));
                replayed = message.Seq;
            }
        }
        if (complete)
        {
            sockets[socket] = Math.Min(heldFrom, afterSeq + 1);
        }
        else
        {
            socket.Enqueue(SocketFrames.Error("sync_incomplete",
                $"Replayed up to seq {replayed}; sync again from there once this is read, or fetch the rest with GET /api/v1/chatrooms/{ChatroomId}/messages?after_seq={replayed}."));
        }
    }

    private Task<MessagePage> HistoryAsync(Func<MessageHistory, Task<MessagePage>> query) => InScopeAsync(query);

    private Task<T> WithDbAsync<T>(Func<ChatDbContext, Task<T>> query) => InScopeAsync(query);

    private async Task<T> InScopeAsync<TService, T>(Func<TService, Task<T>> query) where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TService>());
    }

    [LoggerMessage(LogLevel.Information, "Conversation {ChatroomId}: seq {Seq} did not arrive within {WaitMilliseconds} ms; filling the gap from the database")]
    private static partial void LogGap(ILogger logger, Guid chatroomId, long seq, double waitMilliseconds);

    [LoggerMessage(LogLevel.Warning, "Conversation {ChatroomId}: the database is unreachable ({Reason}); catching up again in {Seconds} s")]
    private static partial void LogFillDeferred(ILogger logger, Guid chatroomId, double seconds, string reason);

    [LoggerMessage(LogLevel.Error, "Conversation {ChatroomId}: delivery work failed")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception, Guid chatroomId);
}
