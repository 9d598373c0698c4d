using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Realtime;

/// <summary>
/// Many sockets opening at once (the clients of a stopped instance coming back) share their handshake's database checks,
/// and each is still judged by its own user's membership and session.
/// </summary>
public sealed class SocketOpenBurstTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task ABurstOfRoomSocketOpens_SharesItsChecks_AndEachSocketIsJudgedOnItsOwn()
    {
        const int members = 30;
        var counter = new CommandCounter();
        var faults = new DbFaults();
        var instance = app.StartInstance(CommandCounter.Enable, counter, kestrel: true, configureHost: faults.Install);
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var accounts = new List<Account>();
        for (var i = 0; i < members; i++)
        {
            accounts.Add(await api.RegisterAsync());
        }
        var outsider = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner, false, [.. accounts.Select(a => a.Id)]);
        var path = ApiRoutes.Fill(ApiRoutes.RoomSocket, room);
        await using var watcher = await ChatSocket.ReadyKestrelAsync(instance, path, owner.AccessToken);

        counter.Reset();
        // The first handshake's room check is held a while, so the burst's others come while it runs, as they do when a
        // stopped instance's clients come back, even on a loaded test machine that would let them trickle in.
        faults.DelayNext(sql => sql.Contains("c.is_private", StringComparison.Ordinal) && sql.Contains("m.muted", StringComparison.Ordinal),
            TimeSpan.FromMilliseconds(500));
        var opening = accounts.Select(a => ChatSocket.ReadyKestrelAsync(instance, path, a.AccessToken)).ToList();
        var refused = ChatSocket.HandshakeStatusAsync(instance, path, outsider.AccessToken);
        var sockets = await Task.WhenAll(opening);
        try
        {
            (await refused).ShouldBe(403); // the room is public: visible to the outsider, but not theirs
            // One query each would be 31 membership checks and 31 session checks (none of these sessions was seen
            // before). Each user coming online also looks up their direct partners in the background: not counted.
            var checks = counter.Commands.Where(c => !c.Contains("c.kind = 1", StringComparison.Ordinal)).ToList();
            checks.Count.ShouldBeLessThan(members, string.Join("\n", checks));

            await api.PostMessageAsync(owner, room, "to everyone");
            foreach (var socket in sockets)
            {
                (await socket.NextAsync("message.created"))["content"].Text().ShouldBe("to everyone");
            }
        }
        finally
        {
            await ChatSocket.DisposeAllAsync(sockets);
        }
    }
}
