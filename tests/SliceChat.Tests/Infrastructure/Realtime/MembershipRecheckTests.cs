using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SliceChat.Features;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure.Realtime;

/// <summary>
/// A socket's membership is checked before it attaches to its conversation's feed; the feed says whether a removal can
/// have slipped in between (then the membership is checked again), so an open into a live feed checks once.
/// </summary>
public sealed class MembershipRecheckTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    private Api Api => app.Api;

    private SocketConnection Connection(Guid userId, Guid roomId) => new(
        WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true }),
        userId, Guid.NewGuid(), DateTimeOffset.MaxValue, SocketScope.Room, roomId, 64, TimeSpan.FromSeconds(1),
        app.App.Services.GetRequiredService<AppMetrics>(), NullLogger.Instance);

    [Fact]
    public async Task Attach_AsksForASecondCheck_OnlyWhenTheUsersDepartureOrAMissedStretchCameAfterTheFirst()
    {
        var owner = await Api.RegisterAsync();
        var leaving = await Api.RegisterAsync();
        var staying = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(owner, false, leaving.Id, staying.Id);
        await using var watcher = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await watcher.NextAsync("ready"); // the room's feed is live from here on
        var feeds = app.App.Services.GetRequiredService<ConversationFeeds>();
        var time = app.App.Services.GetRequiredService<TimeProvider>();

        var checkedBefore = time.GetTimestamp();
        await Api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, leaving.Id));
        (await watcher.NextAsync("member.left"))["user_id"].Text().ShouldBe(leaving.Id.ToString()); // the feed has handled it
        var checkedAfter = time.GetTimestamp();

        var attached = new List<SocketConnection>();
        async Task<bool> AttachAsync(Guid userId, Guid roomId, long? checkedAt)
        {
            var socket = Connection(userId, roomId);
            attached.Add(socket);
            return await feeds.Follow(socket, roomId, afterSeq: null, checkedAt);
        }
        try
        {
            (await AttachAsync(leaving.Id, room, checkedBefore)).ShouldBeFalse();   // removed after its check: check again
            (await AttachAsync(staying.Id, room, checkedBefore)).ShouldBeTrue();    // someone else's departure
            (await AttachAsync(leaving.Id, room, checkedAfter)).ShouldBeTrue();     // checked after the removal was handled
            (await AttachAsync(staying.Id, room, checkedAt: null)).ShouldBeFalse(); // never checked

            // A feed that subscribes after the check cannot know what was published before it did.
            var quiet = await Api.CreateRoomAsync(owner, false, staying.Id);
            var checkedBeforeSubscribing = time.GetTimestamp();
            (await AttachAsync(staying.Id, quiet, checkedBeforeSubscribing)).ShouldBeFalse();
            (await AttachAsync(owner.Id, quiet, time.GetTimestamp())).ShouldBeTrue();
        }
        finally
        {
            foreach (var socket in attached)
            {
                feeds.UnfollowAll(socket);
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task RoomSocketOpen_IntoALiveFeed_ChecksMembershipOnce_AndARemovedMemberIsStillRefused()
    {
        var counter = new CommandCounter();
        var instance = app.StartInstance(CommandCounter.Enable, counter, kestrel: true);
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var me = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner, false, me.Id);
        await using var watcher = await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        // The user comes online and their session check is cached from here on. Each coming online looks up the user's
        // direct partners in the background (to tell them): the owner's and this user's, before the counting starts.
        await using var first = await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (counter.Commands.Count(c => c.Contains("c.kind = 1", StringComparison.Ordinal)) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        counter.Reset();
        await using (await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken))
        {
            counter.Count.ShouldBe(1, string.Join("\n", counter.Commands)); // the check before the upgrade, none after the attach
        }

        await api.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, me.Id));
        await watcher.NextAsync("member.left");
        (await ChatSocket.HandshakeStatusAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken)).ShouldBe(403); // the room is public: visible, but not theirs
    }
}
