using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Messaging;
using SliceChat.Infrastructure.Persistence;

namespace SliceChat.Infrastructure.Realtime;

/// <summary>
/// One conversation's delivery on this instance, while any local socket follows it. A single loop
/// handles everything for the conversation in turn (bus events, sockets attaching, sync requests), so
/// <c>message.created</c> leaves in seq order, once each: a seq already delivered is dropped, and a
/// gap (a lost publish, a Redis outage, two instances writing at once) is filled from the database
/// before anything later goes out.
/// </summary>
public sealed partial class ConversationFeed
{
    private const int CatchUpPage = 200;

    private readonly Channel<Work> inbox = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<SocketConnection> sockets = [];
    private readonly ConversationFeeds owner;
    private readonly IServiceScopeFactory scopes;
    private readonly int syncReplayMax;
    private readonly TimeSpan retryDelay;
    private readonly ILogger logger;
    private long lastSeq;

    public ConversationFeed(Guid chatroomId, ConversationFeeds owner, IMessageBus bus, ChannelNames channels, IServiceScopeFactory scopes, LimitsOptions limits, ILogger logger)
    {
        ChatroomId = chatroomId;
        this.owner = owner;
        this.scopes = scopes;
        syncReplayMax = limits.SyncReplayMax;
        retryDelay = TimeSpan.FromSeconds(limits.FeedRetrySeconds);
        this.logger = logger;
        _ = RunAsync(bus, channels.Conversation(chatroomId));
    }

    public Guid ChatroomId { get; }


    private abstract record Work;
    private sealed record Live(ReadOnlyMemory<byte> Frame) : Work;
    private sealed record Attach(SocketConnection Socket, long? AfterSeq, TaskCompletionSource Attached) : Work;
    private sealed record Detach(SocketConnection Socket) : Work;
    private sealed record Sync(SocketConnection Socket, long AfterSeq) : Work;
    private sealed record CatchUp : Work;

    /// <param name="afterSeq">Replay to this socket what came after it (a conversation just joined); null = from now on.</param>
    /// <returns>Completes once the socket receives the conversation's events (the feed is subscribed).</returns>
    public Task Add(SocketConnection socket, long? afterSeq)
    {
        var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        inbox.Writer.TryWrite(new Attach(socket, afterSeq, attached));
        return attached.Task;
    }

    public void Remove(SocketConnection socket) => inbox.Writer.TryWrite(new Detach(socket));

    public void Replay(SocketConnection socket, long afterSeq) => inbox.Writer.TryWrite(new Sync(socket, afterSeq));

    /// <summary>Reload what may have been missed (the bus link came back).</summary>
    public void RequestCatchUp() => inbox.Writer.TryWrite(new CatchUp());

    /// <summary>No socket follows the conversation any more: finish the queued work and unsubscribe.</summary>
    public void Complete() => inbox.Writer.TryComplete();

    private async Task RunAsync(IMessageBus bus, string channel)
    {
        await Task.Yield();
        // Subscribe before reading the newest seq: whatever is committed later is then also published to us.
        var subscription = await bus.SubscribeAsync(channel, frame => inbox.Writer.TryWrite(new Live(frame)));
        try
        {
            lastSeq = await ReadLastSeqAsync();
            await foreach (var work in inbox.Reader.ReadAllAsync())
            {
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
            await subscription.DisposeAsync();
        }
    }

    private async Task<long> ReadLastSeqAsync()
    {
        while (true)
        {
            try
            {
                return await WithDbAsync(db => db.Chatrooms.Where(r => r.Id == ChatroomId).Select(r => r.LastSeq).FirstOrDefaultAsync());
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database is unreachable: sockets wait for their ready frame (and time out) until it is back.
                LogWorkFailed(logger, e, ChatroomId);
                await Task.Delay(retryDelay);
            }
        }
    }

    private async Task HandleAsync(Work work)
    {
        switch (work)
        {
            case Live live:
                await OnLiveAsync(live.Frame);
                break;
            case Attach attach:
                sockets.Add(attach.Socket);
                attach.Attached.TrySetResult();
                if (attach.AfterSeq is { } after && after < lastSeq)
                {
                    await ReplayAsync(attach.Socket, after);
                }
                break;
            case Detach detach:
                sockets.Remove(detach.Socket);
                break;
            case Sync sync when sockets.Contains(sync.Socket):
                await ReplayAsync(sync.Socket, sync.AfterSeq);
                break;
            case CatchUp:
                await DropNonMembersAsync();
                await CatchUpAsync();
                break;
        }
    }

    private async Task OnLiveAsync(ReadOnlyMemory<byte> frame)
    {
        var header = FrameHeader.Read(frame.Span);
        switch (header.Type)
        {
            case ChatEvents.MessageCreated when header.Seq is { } seq:
                await OnMessageCreatedAsync(frame, seq);
                break;
            case ChatEvents.Typing:
                Deliver(frame, ephemeral: true);
                break;
            case ChatEvents.MemberLeft when header.UserId is { } userId:
                Deliver(frame, ephemeral: false);
                await DropIfGoneAsync(userId);
                break;
            case ChatEvents.ChatroomDeleted:
                Deliver(frame, ephemeral: false);
                foreach (var socket in sockets.ToList())
                {
                    Drop(socket);
                }
                break;
            default:
                Deliver(frame, ephemeral: false);
                break;
        }
    }

    /// <summary>In seq order, once each: a seq delivered already is dropped, a gap is filled from the database first.</summary>
    private async Task OnMessageCreatedAsync(ReadOnlyMemory<byte> frame, long seq)
    {
        if (seq <= lastSeq)
        {
            return; // delivered already (our own write, or filled from the database)
        }
        if (seq > lastSeq + 1)
        {
            LogGap(logger, ChatroomId, lastSeq, seq);
            await CatchUpAsync();
            if (seq <= lastSeq)
            {
                return;
            }
        }
        Deliver(frame, ephemeral: false);
        lastSeq = seq;
    }

    /// <summary>Re-checked: the user may have joined again before their member.left was handled.</summary>
    private async Task DropIfGoneAsync(Guid userId)
    {
        if (!(await MembersAsync([userId])).Contains(userId))
        {
            foreach (var socket in sockets.Where(s => s.UserId == userId).ToList())
            {
                Drop(socket);
            }
        }
    }

    /// <summary>The socket's user is no longer in the conversation: a room socket closes, a user socket stops following.</summary>
    private void Drop(SocketConnection socket)
    {
        sockets.Remove(socket);
        if (socket.Scope == SocketScope.Room)
        {
            socket.Close((WebSocketCloseStatus)CloseCodes.RemovedFromRoom, "no longer a member of the room", drain: true);
        }
        owner.Unfollow(socket, ChatroomId);
    }

    /// <summary>After an outage, membership events may have been lost: whoever is no longer a member stops receiving.</summary>
    private async Task DropNonMembersAsync()
    {
        var members = await MembersAsync(sockets.Select(s => s.UserId).Distinct().ToList());
        foreach (var socket in sockets.Where(s => !members.Contains(s.UserId)).ToList())
        {
            Drop(socket);
        }
    }

    private async Task<HashSet<Guid>> MembersAsync(List<Guid> userIds) =>
        (await WithDbAsync(db => db.Members.Where(m => m.ChatroomId == ChatroomId && userIds.Contains(m.UserId)).Select(m => m.UserId).ToListAsync())).ToHashSet();

    private void Deliver(ReadOnlyMemory<byte> frame, bool ephemeral)
    {
        foreach (var socket in sockets)
        {
            socket.Enqueue(frame, ephemeral);
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
                Deliver(ChatEvents.Frame(ChatEvents.MessageCreated, message), ephemeral: false);
                lastSeq = message.Seq;
            }
        }
        while (page.HasMore);
    }

    /// <summary>Sends one socket what it missed after <paramref name="afterSeq"/>, up to what the others have had.</summary>
    private async Task ReplayAsync(SocketConnection socket, long afterSeq)
    {
        var upTo = lastSeq;
        var page = await HistoryAsync(h => h.PageAsync(ChatroomId, beforeSeq: upTo + 1, afterSeq, syncReplayMax, CancellationToken.None));
        foreach (var message in page.Items)
        {
            socket.Enqueue(ChatEvents.Frame(ChatEvents.MessageCreated, message));
        }
        if (page.HasMore)
        {
            var resumeAt = page.Items[^1].Seq;
            socket.Enqueue(SocketFrames.Error("sync_incomplete",
                $"Replayed {syncReplayMax} messages up to seq {resumeAt}; fetch the rest with GET /api/v1/chatrooms/{ChatroomId}/messages?after_seq={resumeAt}."));
        }
    }

    private Task<MessagePage> HistoryAsync(Func<MessageHistory, Task<MessagePage>> query) => InScopeAsync(query);

    private Task<T> WithDbAsync<T>(Func<ChatDbContext, Task<T>> query) => InScopeAsync(query);

    private async Task<T> InScopeAsync<TService, T>(Func<TService, Task<T>> query) where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TService>());
    }

    [LoggerMessage(LogLevel.Information, "Conversation {ChatroomId}: seq {Seq} arrived after {LastSeq}; filling the gap from the database")]
    private static partial void LogGap(ILogger logger, Guid chatroomId, long lastSeq, long seq);

    [LoggerMessage(LogLevel.Error, "Conversation {ChatroomId}: delivery work failed")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception, Guid chatroomId);
}
