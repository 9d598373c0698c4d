using SliceChat.Features;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Messages;

/// <summary>A 1,000-message room walked both ways, and the number of SQL commands a page and the conversation list cost.</summary>
public sealed class HistoryPagingTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private static async Task<Guid> SeedRoomAsync(AppFactory instance, Account owner, Guid room, int count)
    {
        await using var scope = instance.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ChatDbContext>();
        var now = Clock.Now();
        db.Messages.AddRange(Enumerable.Range(1, count).Select(i => new Message
        {
            Id = Guid.CreateVersion7(), ChatroomId = room, Seq = i, SenderId = owner.Id, Content = $"message {i}", CreatedAt = now,
        }));
        var chatroom = await db.Chatrooms.FindAsync(room);
        chatroom!.LastSeq = count;
        await db.SaveChangesAsync();
        return room;
    }

    [Fact]
    public async Task ThousandMessages_WalkedBackwardsAndForwards_SeeEveryMessageOnce()
    {
        var owner = await app.Api.RegisterAsync();
        var room = await SeedRoomAsync(app.App, owner, await app.Api.CreateRoomAsync(owner), 1000);
        var api = app.Api.As(owner);

        var backwards = new List<long>();
        var page = await (await api.GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?limit=70")).Json();
        while (true)
        {
            var seqs = page["items"]!.AsArray().Select(m => m!["seq"]!.GetValue<long>()).ToList();
            seqs.ShouldBe(seqs.Order());
            backwards.InsertRange(0, seqs);
            if (!page["has_more"]!.GetValue<bool>())
            {
                break;
            }
            page = await (await api.GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + $"?limit=70&before_seq={seqs[0]}")).Json();
        }
        backwards.ShouldBe(Enumerable.Range(1, 1000).Select(i => (long)i));

        var forwards = new List<long>();
        long after = 0;
        while (true)
        {
            page = await (await api.GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + $"?limit=200&after_seq={after}")).Json();
            forwards.AddRange(page["items"]!.AsArray().Select(m => m!["seq"]!.GetValue<long>()));
            if (!page["has_more"]!.GetValue<bool>())
            {
                break;
            }
            after = forwards[^1];
        }
        forwards.ShouldBe(Enumerable.Range(1, 1000).Select(i => (long)i));
    }

    [Fact]
    public async Task HistoryOfARoomWithMessages_ForOneWhoLeftOrWasRemoved_Is403Or404_AndAnEmptyPageOfAMemberIs200()
    {
        var owner = await app.Api.RegisterAsync();
        var leaver = await app.Api.RegisterAsync();
        var removed = await app.Api.RegisterAsync();
        var open = await app.Api.CreateRoomAsync(owner, false, leaver.Id);
        var closed = await app.Api.CreateRoomAsync(owner, true, removed.Id);
        await app.Api.PostMessageAsync(owner, open, "in the open room");
        await app.Api.PostMessageAsync(owner, closed, "in the private room");
        (await (await app.Api.As(leaver).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, open))).Json())["items"]!.AsArray().Count.ShouldBe(1);

        await (await app.Api.As(leaver).PostAsync(ApiRoutes.Fill(ApiRoutes.LeaveChatroom, open), new { })).ShouldHaveStatus(System.Net.HttpStatusCode.NoContent);
        await (await app.Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, closed, removed.Id))).ShouldHaveStatus(System.Net.HttpStatusCode.NoContent);

        await (await app.Api.As(leaver).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, open))).ShouldBeProblem(System.Net.HttpStatusCode.Forbidden);
        await (await app.Api.As(removed).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, closed))).ShouldBeProblem(System.Net.HttpStatusCode.NotFound);
        var past = await (await app.Api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, open) + "?after_seq=1")).Json();
        past["items"]!.AsArray().ShouldBeEmpty();
        past["has_more"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task QueryCounts_HistoryPageAndConversationList_DoNotGrowWithData()
    {
        var counter = new CommandCounter();
        var instance = app.StartInstance(CommandCounter.Enable, counter);
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        var room = await SeedRoomAsync(instance, me, await api.CreateRoomAsync(me), 300);
        var authed = api.As(me);
        await authed.GetAsync(ApiRoutes.Me); // the session check is cached from here on

        counter.Reset();
        await authed.GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room) + "?limit=200&before_seq=250");
        var historyCommands = counter.Count;

        async Task<int> ConversationListCommands()
        {
            counter.Reset();
            var list = await authed.GetAsync(ApiRoutes.ConversationsAlias);
            await list.ShouldHaveStatus(System.Net.HttpStatusCode.OK);
            return counter.Count;
        }
        var withOne = await ConversationListCommands();
        for (var i = 0; i < 10; i++)
        {
            var other = await api.RegisterAsync();
            await api.PostMessageAsync(me, await api.CreateRoomAsync(me, false, other.Id), "hi");
            await authed.PostAsync(ApiRoutes.DirectMessages, new { recipient_id = other.Id, content = "hi" });
        }
        var withTwentyOne = await ConversationListCommands();

        historyCommands.ShouldBe(1, string.Join("\n", counter.Commands)); // one range query, the membership in it (a page with messages needs no access check)
        withOne.ShouldBe(2);                                                // conversations + their last messages
        withTwentyOne.ShouldBe(withOne);
    }
}
