using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SliceChat.Features;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Realtime;

/// <summary>
/// What a conversation's feed holds for its sockets: a socket's sync budget, the feed's bounded queue, and its
/// start-up, which stops when its sockets leave. PostgreSQL and Redis, instances on Kestrel.
/// </summary>
public sealed partial class FeedLimitsTests(ScaledOutApp app) : IClassFixture<ScaledOutApp>
{
    /// <summary>The feed's start-up query: the conversation's newest seq, alone.</summary>
    [GeneratedRegex(@"^SELECT \w+\.last_seq\s+FROM chatrooms", RegexOptions.IgnoreCase)]
    private static partial Regex NewestSeqQuery();

    /// <summary>A replay's (and a catch-up's) page of messages after a seq.</summary>
    private static bool IsPageAfterSeq(string sql) => sql.Contains("FROM messages", StringComparison.Ordinal) && sql.Contains(".seq > ", StringComparison.Ordinal);

    [Fact]
    public async Task SyncSpam_FromSocketsThatDoNotRead_StaysWithinTheSyncBudget_OthersKeepReceiving()
    {
        var instance = app.StartInstanceWithSmallSendBuffers();
        var limits = instance.Services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var spammers = new List<Account>();
        for (var i = 0; i < 4; i++)
        {
            spammers.Add(await api.RegisterAsync());
        }
        var room = await api.CreateRoomAsync(owner, false, [.. spammers.Select(s => s.Id)]);
        await SeedAsync(instance, owner, room, 200, new string('x', 4000));

        var path = ApiRoutes.Fill(ApiRoutes.RoomSocket, room);
        await using var healthy = await ChatSocket.ReadyKestrelAsync(instance, path, owner.AccessToken);
        var sockets = new List<ChatSocket>();
        try
        {
            foreach (var spammer in spammers)
            {
                sockets.Add(await ChatSocket.ConnectKestrelAsync(instance, path, spammer.AccessToken, autoRead: false, receiveBufferBytes: 4096));
            }
            var registry = instance.Services.GetRequiredService<ConnectionRegistry>();
            await WaitUntilAsync(() => registry.Sockets.Count(s => s.RoomId == room) == 5);
            var connections = registry.Sockets.Where(s => spammers.Any(u => u.Id == s.UserId)).ToList();

            var maxBytes = 0L;
            for (var round = 0; round < 100; round++)
            {
                foreach (var socket in sockets)
                {
                    await socket.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
                }
                maxBytes = Math.Max(maxBytes, connections.Max(c => c.QueuedBytes));
            }
            for (var i = 0; i < 20; i++)
            {
                await Task.Delay(50);
                maxBytes = Math.Max(maxBytes, connections.Max(c => c.QueuedBytes));
            }

            // Replayed output stops at the budget (plus the frame that crossed it); the rest are small error frames.
            maxBytes.ShouldBeLessThanOrEqualTo(limits.SocketSyncBudgetBytes + 8 * 1024 + limits.SocketQueueCapacity * 512);
            foreach (var connection in connections)
            {
                (connection.CloseStatus is null or (WebSocketCloseStatus)CloseCodes.TryAgainLater).ShouldBeTrue();
            }
            foreach (var socket in sockets)
            {
                (await ReadsErrorAsync(socket, "sync_incomplete")).ShouldBeTrue();
            }

            await api.PostMessageAsync(owner, room, "after the spam");
            await healthy.NextAsync(f => f["content"]?.GetValue<string>() == "after the spam", TimeSpan.FromSeconds(5));
            healthy.IsClosed.ShouldBeFalse();
        }
        finally
        {
            await ChatSocket.DisposeAllAsync(sockets);
        }
    }

    [Fact]
    public async Task FeedQueue_OverflowingDuringABurst_DropsLiveEventsAndCatchesUp_EverySocketGetsEverySeqInOrderOnce()
    {
        var faults = new DbFaults();
        var instance = app.StartInstance(s => s["Limits:FeedQueueCapacity"] = "4", kestrel: true, configureHost: faults.Install);
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var member = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner, false, member.Id);
        await api.PostMessageAsync(owner, room, "before the sockets"); // seq 1, for the second socket's replay
        var path = ApiRoutes.Fill(ApiRoutes.RoomSocket, room);
        await using var first = await ChatSocket.ReadyKestrelAsync(instance, path, owner.AccessToken);
        await using var second = await ChatSocket.ReadyKestrelAsync(instance, path, member.AccessToken);
        var metrics = instance.Services.GetRequiredService<AppMetrics>();
        var overflowsBefore = metrics.FeedOverflows;

        // A slow replay holds the feed's loop while a burst comes in.
        faults.DelayNext(IsPageAfterSeq, TimeSpan.FromSeconds(2));
        await second.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
        await Task.Delay(300);
        const int burst = 30;
        for (var i = 1; i <= burst; i++)
        {
            await api.PostMessageAsync(owner, room, $"burst {i}");
        }

        (await SeqsAsync(first, burst)).ShouldBe(Enumerable.Range(2, burst).Select(i => (long)i));
        (await SeqsAsync(second, burst + 1)).ShouldBe(Enumerable.Range(1, burst + 1).Select(i => (long)i));
        (metrics.FeedOverflows - overflowsBefore).ShouldBeGreaterThan(0);
        (await first.DrainAsync(TimeSpan.FromMilliseconds(300))).ShouldNotContain(f => f["type"]!.GetValue<string>() == "message.created");
    }

    [Fact]
    public async Task FeedStartUp_BlockedByAnUnreachableDatabase_QueuesBoundedAndStopsRetryingWhenItsSocketLeaves()
    {
        var faults = new DbFaults();
        var instance = app.StartInstance(s =>
        {
            s["Limits:FeedQueueCapacity"] = "4";
            s["Limits:FeedRetrySeconds"] = "1";
            s["Limits:SocketFollowTimeoutSeconds"] = "3";
        }, kestrel: true, configureHost: faults.Install);
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        var metrics = instance.Services.GetRequiredService<AppMetrics>();
        var overflowsBefore = metrics.FeedOverflows;

        faults.Fail = sql => NewestSeqQuery().IsMatch(sql);
        await using (var waiting = await ChatSocket.ConnectKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken))
        {
            await WaitUntilAsync(() => faults.Failures >= 1);
            for (var i = 0; i < 20; i++)
            {
                await api.PostMessageAsync(owner, room, $"while starting {i}");
            }
            (metrics.FeedOverflows - overflowsBefore).ShouldBeGreaterThan(0); // live events did not pile up
            // The socket never got its feed: it is aborted after Limits:SocketFollowTimeoutSeconds, before ready.
            await waiting.ClosedAsync(TimeSpan.FromSeconds(10));
            waiting.IsClosed.ShouldBeTrue();
        }

        await Task.Delay(1500);
        var failures = faults.Failures;
        await Task.Delay(3000);
        faults.Failures.ShouldBe(failures, "the feed kept retrying after its last socket left");

        // Once the database answers, a new socket gets a feed of its own.
        faults.Fail = null;
        await using var socket = await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await api.PostMessageAsync(owner, room, "after the outage");
        (await socket.NextAsync("message.created"))["seq"]!.GetValue<long>().ShouldBe(21);
    }

    private static async Task SeedAsync(AppFactory instance, Account owner, Guid room, int count, string content)
    {
        await using var scope = instance.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var now = Clock.Now();
        db.Messages.AddRange(Enumerable.Range(1, count).Select(i => new Message
        {
            Id = Guid.CreateVersion7(), ChatroomId = room, Seq = i, SenderId = owner.Id, Content = content, CreatedAt = now,
        }));
        (await db.Chatrooms.FindAsync(room))!.LastSeq = count;
        await db.SaveChangesAsync();
    }

    private static async Task<List<long>> SeqsAsync(ChatSocket socket, int count)
    {
        var seqs = new List<long>();
        while (seqs.Count < count)
        {
            seqs.Add((await socket.NextAsync("message.created", TimeSpan.FromSeconds(10)))["seq"]!.GetValue<long>());
        }
        return seqs;
    }

    /// <summary>Reads a socket that did not read so far, until an error frame with <paramref name="code"/> or its close.</summary>
    private static async Task<bool> ReadsErrorAsync(ChatSocket socket, string code)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[256 * 1024];
        var needle = $"\"code\":\"{code}\"";
        try
        {
            while (true)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.Socket.ReceiveAsync(buffer.AsMemory(length).ToArraySegment(), cts.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return false;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                if (Encoding.UTF8.GetString(buffer, 0, length).Contains(needle, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(20, cts.Token);
        }
    }
}
