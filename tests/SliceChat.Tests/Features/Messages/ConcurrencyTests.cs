using SliceChat.Features;
using System.Net;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Messages;

/// <summary>Seq allocation, idempotency and direct-conversation creation under concurrent writers.</summary>
public abstract class ConcurrencyTests(AppFixture fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task FourWriters_FiftyEach_GiveSeqs1To200ExactlyOnce()
    {
        var owner = await Api.RegisterAsync();
        var writers = new List<Account> { owner };
        for (var i = 0; i < 3; i++)
        {
            writers.Add(await Api.RegisterAsync());
        }
        var room = await Api.CreateRoomAsync(owner, false, writers.Skip(1).Select(w => w.Id).ToArray());

        await Task.WhenAll(writers.Select(async writer =>
        {
            for (var i = 0; i < 50; i++)
            {
                await Api.PostMessageAsync(writer, room, $"{writer.Username} {i}");
            }
        }));

        var seqs = new List<long>();
        long after = 0;
        while (true)
        {
            var page = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + $"?after_seq={after}&limit=200")).Json();
            var items = page["items"]!.AsArray();
            seqs.AddRange(items.Select(m => m!["seq"]!.GetValue<long>()));
            if (!page["has_more"]!.GetValue<bool>())
            {
                break;
            }
            after = seqs[^1];
        }
        seqs.ShouldBe(Enumerable.Range(1, 200).Select(i => (long)i));
        var roomState = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.Chatroom, room))).Json();
        roomState["last_seq"]!.GetValue<long>().ShouldBe(200);
    }

    [Fact]
    public async Task TwentyConcurrentRetries_OfOneClientMessageId_StoreOneMessage()
    {
        var owner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner);
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            Api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "exactly once", client_message_id = "retry-1" })));

        responses.Count(r => r.StatusCode == HttpStatusCode.Created).ShouldBe(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(19);
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Json())["id"].Text()));
        ids.Distinct().Count().ShouldBe(1);
        var page = await (await Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        page["items"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task SimultaneousFirstDms_BothWays_EndInOneConversation()
    {
        for (var round = 0; round < 5; round++)
        {
            var alice = await Api.RegisterAsync();
            var bob = await Api.RegisterAsync();
            var sends = await Task.WhenAll(
                Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = bob.Id, content = "hi bob" }),
                Api.As(bob).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = alice.Id, content = "hi alice" }),
                Api.As(alice).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = bob.Id, content = "again" }));
            sends.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
            var rooms = await Task.WhenAll(sends.Select(async r => (await r.Json())["chatroom_id"].Text()));
            rooms.Distinct().Count().ShouldBe(1);
            var seqs = await Task.WhenAll(sends.Select(async r => (await r.Json())["seq"]!.GetValue<long>()));
            seqs.Order().ShouldBe([1L, 2L, 3L]);
            var conversations = (await (await Api.As(alice).GetAsync(ApiRoutes.ConversationsAlias)).Json()).AsArray();
            conversations.Count.ShouldBe(1);
        }
    }
}

public sealed class PostgresConcurrencyTests(PostgresApp app) : ConcurrencyTests(app), IClassFixture<PostgresApp>;

public sealed class SqliteConcurrencyTests(SqliteApp app) : ConcurrencyTests(app), IClassFixture<SqliteApp>;
