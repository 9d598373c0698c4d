using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Messages;

/// <summary>
/// Group commit: concurrent sends share transactions. To put chosen sends in one batch, a test holds
/// the write lock that a writer's current batch needs (a room's row on PostgreSQL, the database on
/// SQLite), lets sends to conversations of that writer queue up behind it, and then lets go.
/// </summary>
public abstract class SendBatchingTests(AppFixture fixture)
{
    protected Api Api => fixture.Api;

    protected static string MessagesOf(Guid room) => ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room);

    [Fact]
    public async Task ManyClientsToSeveralRooms_EachSendRetriedAtOnce_GiveGapFreeSeqsStoredOnce()
    {
        const int clients = 8, roomCount = 4, perRoom = 6;
        var owner = await Api.RegisterAsync();
        var senders = new List<Account> { owner };
        for (var i = 1; i < clients; i++)
        {
            senders.Add(await Api.RegisterAsync());
        }
        var rooms = new List<Guid>();
        for (var i = 0; i < roomCount; i++)
        {
            rooms.Add(await Api.CreateRoomAsync(owner, false, senders.Skip(1).Select(s => s.Id).ToArray()));
        }

        // Every client writes to every room at once; each send goes out twice together, as a retry would.
        var outcomes = await Task.WhenAll(senders.SelectMany(sender => rooms.Select(async room =>
        {
            var pairs = new List<(HttpResponseMessage First, HttpResponseMessage Second)>();
            for (var i = 0; i < perRoom; i++)
            {
                var body = new { content = $"{sender.Username} {i}", client_message_id = $"{sender.Username}-{i}" };
                var both = await Task.WhenAll(Api.As(sender).PostAsync(MessagesOf(room), body), Api.As(sender).PostAsync(MessagesOf(room), body));
                pairs.Add((both[0], both[1]));
            }
            return pairs;
        })));

        foreach (var (first, second) in outcomes.SelectMany(p => p))
        {
            new[] { first.StatusCode, second.StatusCode }.Order().ShouldBe([HttpStatusCode.OK, HttpStatusCode.Created]);
            (await first.Json())["id"].Text().ShouldBe((await second.Json())["id"].Text());
        }
        foreach (var room in rooms)
        {
            var page = await (await Api.As(owner).GetAsync($"{MessagesOf(room)}?after_seq=0&limit=200")).Json();
            var items = page["items"]!.AsArray();
            items.Select(m => m!["seq"]!.GetValue<long>()).ShouldBe(Enumerable.Range(1, clients * perRoom).Select(i => (long)i));
            items.Select(m => m!["client_message_id"].Text()).Distinct().Count().ShouldBe(clients * perRoom);
            items.Select(m => m!["content"].Text()).Distinct().Count().ShouldBe(clients * perRoom);
            (await (await Api.As(owner).GetAsync($"/api/v1/chatrooms/{room}")).Json())["last_seq"]!.GetValue<long>().ShouldBe(clients * perRoom);
        }
    }

    [Fact]
    public async Task DuplicateClientMessageId_InOneBatch_IsStoredOnceAndBothCallersGetIt()
    {
        var me = await Api.RegisterAsync();
        var blocker = await Api.CreateRoomAsync(me);
        var batcher = fixture.App.Services.GetRequiredService<SendBatcher>();
        var room = await CreateRoomOfWriterAsync(Api, batcher, blocker, me);

        var body = new { content = "once", client_message_id = "twin-1" };
        var (held, twins, batches) = await SendInOneBatchAsync(me, blocker,
            () => Api.As(me).PostAsync(MessagesOf(room), body), () => Api.As(me).PostAsync(MessagesOf(room), body));

        await held.ShouldHaveStatus(HttpStatusCode.Created);
        batches.ShouldBe(1); // both sends were written by one batch
        twins.Select(r => r.StatusCode).Order().ShouldBe([HttpStatusCode.OK, HttpStatusCode.Created]);
        var messages = await Task.WhenAll(twins.Select(r => r.Json()));
        messages[0]["id"].Text().ShouldBe(messages[1]["id"].Text());
        messages.ShouldAllBe(m => m["seq"]!.GetValue<long>() == 1 && m["content"].Text() == "once");
        var page = await (await Api.As(me).GetAsync(MessagesOf(room))).Json();
        page["items"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task RetryOfAStoredMessage_InABatchWithNewSends_IsAnsweredWithTheOriginal_AndTheNewOnesTakeTheNextSeqs()
    {
        var me = await Api.RegisterAsync();
        var other = await Api.RegisterAsync();
        var blocker = await Api.CreateRoomAsync(me);
        var batcher = fixture.App.Services.GetRequiredService<SendBatcher>();
        var room = await CreateRoomOfWriterAsync(Api, batcher, blocker, me, other.Id);
        var original = await Api.PostMessageAsync(me, room, "first", "stored-1");

        var (held, sent, batches) = await SendInOneBatchAsync(me, blocker,
            () => Api.As(me).PostAsync(MessagesOf(room), new { content = "new of mine", client_message_id = "new-1" }),
            () => Api.As(me).PostAsync(MessagesOf(room), new { content = "first", client_message_id = "stored-1" }),
            () => Api.As(other).PostAsync(MessagesOf(room), new { content = "new of theirs", client_message_id = "new-1" }));

        await held.ShouldHaveStatus(HttpStatusCode.Created);
        batches.ShouldBe(1); // the three sends were written by one batch
        await sent[0].ShouldHaveStatus(HttpStatusCode.Created);
        await sent[1].ShouldHaveStatus(HttpStatusCode.OK);
        await sent[2].ShouldHaveStatus(HttpStatusCode.Created);
        var retry = await sent[1].Json();
        retry["id"].Text().ShouldBe(original["id"].Text());
        retry["seq"]!.GetValue<long>().ShouldBe(1);
        var fresh = await Task.WhenAll(sent[0].Json(), sent[2].Json());
        fresh.Select(m => m["seq"]!.GetValue<long>()).Order().ShouldBe([2L, 3L]);
        var items = (await (await Api.As(me).GetAsync(MessagesOf(room))).Json())["items"]!.AsArray();
        items.Select(m => m!["seq"]!.GetValue<long>()).Order().ShouldBe([1L, 2L, 3L]);
        items.Select(m => m!["content"].Text()).Order().ShouldBe(["first", "new of mine", "new of theirs"]);
        // Each sender's read marker is at their own newest message.
        var conversations = (await (await Api.As(other).GetAsync(ApiRoutes.Conversations)).Json()).AsArray();
        conversations.Single(c => c!["chatroom_id"].Text() == room.ToString())!["last_read_seq"]!.GetValue<long>()
            .ShouldBe(fresh[1]["seq"]!.GetValue<long>());
    }

    [Fact]
    public async Task RoomDeletedWhileItsSendWaits_OnlyThatSendFails_ItsBatchNeighboursAreStored()
    {
        var me = await Api.RegisterAsync();
        var other = await Api.RegisterAsync();
        var blocker = await Api.CreateRoomAsync(me);
        var batcher = fixture.App.Services.GetRequiredService<SendBatcher>();
        var kept = await CreateRoomOfWriterAsync(Api, batcher, blocker, me, other.Id);
        var alsoKept = await CreateRoomOfWriterAsync(Api, batcher, blocker, me);
        var doomed = await CreateRoomOfWriterAsync(Api, batcher, blocker, me, other.Id);

        var (held, sent, batches) = await SendInOneBatchAsync(me, blocker,
            [
                () => Api.As(me).PostAsync(MessagesOf(kept), new { content = "kept", client_message_id = "k-1" }),
                () => Api.As(other).PostAsync(MessagesOf(doomed), new { content = "doomed", client_message_id = "d-1" }),
                () => Api.As(me).PostAsync(MessagesOf(alsoKept), new { content = "also kept" }),
                () => Api.As(other).PostAsync(MessagesOf(kept), new { content = "kept too" }),
            ],
            // The room goes after its send was queued, before the batch is written.
            hold => hold.Db.Chatrooms.Where(c => c.Id == doomed).ExecuteDeleteAsync());

        await held.ShouldHaveStatus(HttpStatusCode.Created);
        batches.ShouldBe(1);
        await sent[0].ShouldHaveStatus(HttpStatusCode.Created);
        await sent[1].ShouldBeProblem(HttpStatusCode.NotFound);
        await sent[2].ShouldHaveStatus(HttpStatusCode.Created);
        await sent[3].ShouldHaveStatus(HttpStatusCode.Created);
        // The two sends to one room queued in either order; each sender's read marker is at their own message.
        var mine = (await sent[0].Json())["seq"]!.GetValue<long>();
        var theirs = (await sent[3].Json())["seq"]!.GetValue<long>();
        new[] { mine, theirs }.Order().ShouldBe([1L, 2L]);
        (await sent[2].Json())["seq"]!.GetValue<long>().ShouldBe(1);
        var page = await (await Api.As(me).GetAsync(MessagesOf(kept))).Json();
        page["items"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(mine == 1 ? ["kept", "kept too"] : ["kept too", "kept"]);
        var members = await (await Api.As(other).GetAsync($"/api/v1/chatrooms/{kept}/members")).Json();
        members.AsArray().Single(m => m!["user_id"].Text() == other.Id.ToString())!["last_read_seq"]!.GetValue<long>().ShouldBe(theirs);
        members.AsArray().Single(m => m!["user_id"].Text() == me.Id.ToString())!["last_read_seq"]!.GetValue<long>().ShouldBe(mine);
    }

    [Fact]
    public async Task OneSocketSendingWithoutWaiting_QueuesItsSendsTogether_StoredInTheOrderSent()
    {
        var me = await Api.RegisterAsync();
        var blocker = await Api.CreateRoomAsync(me);
        var batcher = fixture.App.Services.GetRequiredService<SendBatcher>();
        var room = await CreateRoomOfWriterAsync(Api, batcher, blocker, me);
        await using var socket = await ChatSocket.ConnectAsync(fixture.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken);
        await socket.NextAsync("ready");

        long batchesBefore;
        await using (var hold = await WriteHold.TakeAsync(fixture.App, blocker))
        {
            var held = await StallWriterAsync(batcher, () => Api.As(me).PostAsync(MessagesOf(blocker), new { content = "held" }));
            batchesBefore = batcher.Batches;
            foreach (var n in Enumerable.Range(1, 5))
            {
                await socket.SendAsync(new { content = $"in order {n}", client_message_id = $"order-{n}" });
            }
            // All five wait for the writer at once: the socket did not wait for one to be stored before reading the next.
            await Until(() => batcher.Waiting == 5);
            await hold.ReleaseAsync();
            await (await held).ShouldHaveStatus(HttpStatusCode.Created);
        }

        var created = new List<JsonNode>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await socket.NextAsync("message.created"));
        }
        created.Select(m => m["seq"]!.GetValue<long>()).ShouldBe([1L, 2L, 3L, 4L, 5L]);
        created.Select(m => m["content"].Text()).ShouldBe(Enumerable.Range(1, 5).Select(n => $"in order {n}"));
        batcher.Batches.ShouldBe(batchesBefore + 1);
    }

    [Fact]
    public async Task RetryOfAStoredSendWhoseAnswerWasLost_Answers200_AndListenersGetTheMessageOnce()
    {
        var me = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me);
        await using var socket = await ChatSocket.ConnectAsync(fixture.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken);
        await socket.NextAsync("ready");
        // Stored, but neither answered nor published: the connection was cut after the commit.
        await using (var scope = fixture.App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<MessageStore>()
                .StoreOneAsync(new PendingSend(room, me.Id, "cut after commit", "lost-answer-1"), default);
        }

        var retry = await Api.As(me).PostAsync(MessagesOf(room), new { content = "cut after commit", client_message_id = "lost-answer-1" });
        await retry.ShouldHaveStatus(HttpStatusCode.OK);
        var created = await socket.NextAsync("message.created", TimeSpan.FromSeconds(5));
        created["seq"]!.GetValue<long>().ShouldBe(1);
        created["client_message_id"].Text().ShouldBe("lost-answer-1");

        // Once: a second retry goes on the bus again, and the feed drops what it delivered already.
        await (await Api.As(me).PostAsync(MessagesOf(room), new { content = "cut after commit", client_message_id = "lost-answer-1" })).ShouldHaveStatus(HttpStatusCode.OK);
        await Api.PostMessageAsync(me, room, "next", "next-1");
        (await socket.NextAsync("message.created"))["seq"]!.GetValue<long>().ShouldBe(2);
    }

    /// <summary>
    /// Makes <paramref name="sends"/> while the writer of <paramref name="blocker"/> is held on a batch of its own (a send
    /// of <paramref name="holder"/>'s there), so that they wait together; <paramref name="whileHeld"/> runs once all
    /// of them wait, then the writer is let go. Returns the held send, the sends in order, and the batches written for them.
    /// </summary>
    protected async Task<(HttpResponseMessage Held, HttpResponseMessage[] Sent, long Batches)> SendInOneBatchAsync(Account holder, Guid blocker,
        Func<Task<HttpResponseMessage>>[] sends, Func<WriteHold, Task>? whileHeld = null)
    {
        var batcher = fixture.App.Services.GetRequiredService<SendBatcher>();
        await using var hold = await WriteHold.TakeAsync(fixture.App, blocker);
        var held = await StallWriterAsync(batcher, () => Api.As(holder).PostAsync(MessagesOf(blocker), new { content = "held" }));
        var batchesBefore = batcher.Batches;
        var sending = Task.WhenAll([.. sends.Select(send => send())]);
        await Until(() => batcher.Waiting == sends.Length);
        if (whileHeld is not null)
        {
            await whileHeld(hold);
        }
        await hold.ReleaseAsync();
        var sent = await sending;
        return (await held, sent, batcher.Batches - batchesBefore);
    }

    protected Task<(HttpResponseMessage Held, HttpResponseMessage[] Sent, long Batches)> SendInOneBatchAsync(Account holder, Guid blocker,
        params Func<Task<HttpResponseMessage>>[] sends) => SendInOneBatchAsync(holder, blocker, sends, null);

    /// <summary>A new room whose messages the same writer stores as <paramref name="blocker"/>'s, so a held batch of that writer holds its sends too.</summary>
    protected static async Task<Guid> CreateRoomOfWriterAsync(Api api, SendBatcher batcher, Guid blocker, Account owner, params Guid[] memberIds)
    {
        while (true)
        {
            var room = await api.CreateRoomAsync(owner, false, memberIds);
            if (batcher.WriterOf(room) == batcher.WriterOf(blocker))
            {
                return room;
            }
        }
    }

    /// <summary>Starts a send and waits until the writer has taken it into a batch (which then waits for the hold).</summary>
    protected static async Task<Task<HttpResponseMessage>> StallWriterAsync(SendBatcher batcher, Func<Task<HttpResponseMessage>> send)
    {
        var before = batcher.Batches;
        var sending = send();
        await Until(() => batcher.Batches > before && batcher.Waiting == 0);
        return sending;
    }

    protected static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not come true within 20 s.");
            }
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// An open transaction that has written a room's row: on PostgreSQL it holds that row's lock, on
    /// SQLite the database's write lock, until released.
    /// </summary>
    protected sealed class WriteHold : IAsyncDisposable
    {
        private readonly AsyncServiceScope scope;
        private readonly Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction;
        private bool released;

        private WriteHold(AsyncServiceScope scope, ChatDbContext db, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction)
        {
            this.scope = scope;
            Db = db;
            this.transaction = transaction;
        }

        public ChatDbContext Db { get; }

        public static async Task<WriteHold> TakeAsync(AppFactory app, Guid room)
        {
            var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
            var transaction = await db.Database.BeginTransactionAsync();
            await db.Chatrooms.Where(c => c.Id == room).ExecuteUpdateAsync(s => s.SetProperty(c => c.LastSeq, c => c.LastSeq));
            return new WriteHold(scope, db, transaction);
        }

        public async Task ReleaseAsync()
        {
            if (!released)
            {
                released = true;
                await transaction.CommitAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await scope.DisposeAsync();
        }
    }
}

public sealed class PostgresSendBatchingTests(PostgresApp app) : SendBatchingTests(app), IClassFixture<PostgresApp>
{
    [Fact]
    public async Task CommandCounts_OneSendAlone_AndABatchOfEight()
    {
        var counter = new CommandCounter();
        var instance = app.StartInstance(settings =>
        {
            CommandCounter.Enable(settings);
            settings["Jwt:SessionCacheSeconds"] = "600"; // no session re-check among the counted commands
        }, counter);
        var api = new Api(instance.CreateClient());
        var batcher = instance.Services.GetRequiredService<SendBatcher>();
        var senders = new List<Account>();
        for (var i = 0; i < 8; i++)
        {
            senders.Add(await api.RegisterAsync());
        }
        var blocker = await api.CreateRoomAsync(senders[0]);
        var rooms = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            rooms.Add(await CreateRoomOfWriterAsync(api, batcher, blocker, senders[0], [.. senders.Skip(1).Select(s => s.Id)]));
        }
        foreach (var sender in senders)
        {
            await api.As(sender).GetAsync("/api/v1/users/me"); // the session check is cached from here on
        }

        counter.Reset();
        await api.PostMessageAsync(senders[0], rooms[0], "alone", "alone-1");
        // One statement that checks the sender's access (with their name), looks for a repeat, claims the
        // seq, moves the read marker and inserts (its own transaction: no COMMIT round trip).
        // Before group commit: 6 commands and COMMIT.
        counter.Count.ShouldBe(1, string.Join("\n", counter.Commands));

        Task<HttpResponseMessage> held;
        HttpResponseMessage[] sent;
        await using (var hold = await WriteHold.TakeAsync(app.App, blocker))
        {
            held = await StallWriterAsync(batcher, () => api.As(senders[0]).PostAsync(MessagesOf(blocker), new { content = "held" }));
            var sending = Task.WhenAll(senders.Select((s, i) => api.As(s).PostAsync(MessagesOf(rooms[i % 4]), new { content = $"batched {i}", client_message_id = $"b-{i}" })));
            await Until(() => batcher.Waiting == 8);
            counter.Reset();
            await hold.ReleaseAsync();
            sent = await sending;
        }
        await (await held).ShouldHaveStatus(HttpStatusCode.Created);
        foreach (var response in sent)
        {
            await response.ShouldHaveStatus(HttpStatusCode.Created);
        }
        // The held batch: its one statement. The batch of eight: its one statement.
        counter.Count.ShouldBe(2, string.Join("\n", counter.Commands));
        counter.Commands.Count(c => c.Contains("INSERT INTO messages", StringComparison.Ordinal)).ShouldBe(2);
        var seqs = await Task.WhenAll(sent.Select(async r => (await r.Json())["seq"]!.GetValue<long>()));
        seqs.Order().ShouldBe([1L, 1L, 1L, 2L, 2L, 2L, 2L, 3L]); // two per room; room 0 had "alone" already
    }

    [Fact]
    public async Task SameClientMessageIdOnTwoInstancesAtOnce_IsStoredOnce_AndNeitherBatchLosesItsOtherSend()
    {
        var a = app.App;
        var b = app.StartInstance();
        var apiA = app.Api;
        var apiB = new Api(b.CreateClient());
        var me = await apiA.RegisterAsync();
        var blocker = await apiA.CreateRoomAsync(me);
        var batcherA = a.Services.GetRequiredService<SendBatcher>();
        var batcherB = b.Services.GetRequiredService<SendBatcher>();
        var shared = await CreateRoomOfWriterAsync(apiA, batcherA, blocker, me);
        var onlyA = await CreateRoomOfWriterAsync(apiA, batcherA, blocker, me);
        var onlyB = await CreateRoomOfWriterAsync(apiA, batcherA, blocker, me); // the same writers on both instances

        Task<HttpResponseMessage> heldA, heldB;
        HttpResponseMessage[] fromA, fromB;
        await using (var first = await WriteHold.TakeAsync(a, blocker))
        {
            heldA = await StallWriterAsync(batcherA, () => apiA.As(me).PostAsync(MessagesOf(blocker), new { content = "held on a" }));
            heldB = await StallWriterAsync(batcherB, () => apiB.As(me).PostAsync(MessagesOf(blocker), new { content = "held on b" }));
            var body = new { content = "once", client_message_id = "both-1" };
            var sendingA = Task.WhenAll(apiA.As(me).PostAsync(MessagesOf(shared), body), apiA.As(me).PostAsync(MessagesOf(onlyA), new { content = "a" }));
            var sendingB = Task.WhenAll(apiB.As(me).PostAsync(MessagesOf(shared), body), apiB.As(me).PostAsync(MessagesOf(onlyB), new { content = "b" }));
            await Until(() => batcherA.Waiting == 2 && batcherB.Waiting == 2);

            // Both batches look for the repeat, find none, then wait for the shared room's lock: one
            // commits, the other meets the unique index and is written again send by send.
            await using (var second = await WriteHold.TakeAsync(a, shared))
            {
                await first.ReleaseAsync();
                await Until(() => WaitingForLocks(second.Db) == 2);
                await second.ReleaseAsync();
            }
            fromA = await sendingA;
            fromB = await sendingB;
        }

        await (await heldA).ShouldHaveStatus(HttpStatusCode.Created);
        await (await heldB).ShouldHaveStatus(HttpStatusCode.Created);
        new[] { fromA[0].StatusCode, fromB[0].StatusCode }.Order().ShouldBe([HttpStatusCode.OK, HttpStatusCode.Created]);
        (await fromA[0].Json())["id"].Text().ShouldBe((await fromB[0].Json())["id"].Text());
        await fromA[1].ShouldHaveStatus(HttpStatusCode.Created);
        await fromB[1].ShouldHaveStatus(HttpStatusCode.Created);
        var room = await (await apiA.As(me).GetAsync($"/api/v1/chatrooms/{shared}")).Json();
        room["last_seq"]!.GetValue<long>().ShouldBe(1); // the failed batch's claim was rolled back: no gap
        var page = await (await apiA.As(me).GetAsync(MessagesOf(shared))).Json();
        page["items"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task AHeldBatch_HoldsOnlyItsWritersConversations_SendsToAnotherWritersAreStoredMeanwhile()
    {
        var me = await Api.RegisterAsync();
        var batcher = app.App.Services.GetRequiredService<SendBatcher>();
        var blocker = await Api.CreateRoomAsync(me);
        var sameWriter = await CreateRoomOfWriterAsync(Api, batcher, blocker, me);
        Guid otherWriter;
        do
        {
            otherWriter = await Api.CreateRoomAsync(me);
        }
        while (batcher.WriterOf(otherWriter) == batcher.WriterOf(blocker));

        await using (var hold = await WriteHold.TakeAsync(app.App, blocker))
        {
            var held = await StallWriterAsync(batcher, () => Api.As(me).PostAsync(MessagesOf(blocker), new { content = "held" }));
            var waiting = Api.As(me).PostAsync(MessagesOf(sameWriter), new { content = "behind the held batch" });
            await Until(() => batcher.Waiting == 1);

            // Stored and answered while the other writer's batch still waits for its lock.
            var stored = await Api.PostMessageAsync(me, otherWriter, "meanwhile");
            stored["seq"]!.GetValue<long>().ShouldBe(1);
            held.IsCompleted.ShouldBeFalse();
            waiting.IsCompleted.ShouldBeFalse();

            await hold.ReleaseAsync();
            await (await held).ShouldHaveStatus(HttpStatusCode.Created);
            await (await waiting).ShouldHaveStatus(HttpStatusCode.Created);
        }
    }

    private static int WaitingForLocks(ChatDbContext db) =>
        db.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Single();
}

public sealed class SqliteSendBatchingTests(SqliteApp app) : SendBatchingTests(app), IClassFixture<SqliteApp>;
