using SliceChat.Features;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using SliceChat.Tests.Support;
using Xunit.Abstractions;

namespace SliceChat.Tests.Features.Realtime;

/// <summary>Delivery while Redis goes down and comes back in the middle of a run.</summary>
public sealed class RedisOutageTests(ChaosApp app, ITestOutputHelper output) : IClassFixture<ChaosApp>
{
    [Fact]
    public async Task RedisRestarted_ManySockets_OneMembershipQueryPerUser_AndOneCatchUpPerFeed()
    {
        const int users = 8, socketsPerUser = 4;
        var counter = new CommandCounter();
        var instance = app.StartInstance(CommandCounter.Enable, counter);
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var members = new List<Account>();
        for (var i = 0; i < users; i++)
        {
            members.Add(await api.RegisterAsync());
        }
        var shared = await api.CreateRoomAsync(owner, false, members.Select(m => m.Id).ToArray());
        foreach (var member in members)
        {
            await api.CreateRoomAsync(member); // a room of their own: users + 1 feeds in all
        }
        var sockets = new List<ChatSocket>();
        foreach (var member in members)
        {
            for (var i = 0; i < socketsPerUser; i++)
            {
                var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, member.AccessToken);
                await socket.NextAsync("ready");
                sockets.Add(socket);
            }
        }

        app.Redis.Stop();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await app.Api.PostMessageAsync(owner, shared, "during the outage"); // on another instance: only a catch-up brings it
        counter.Reset();
        var restarted = Stopwatch.StartNew();
        app.Redis.Start();
        foreach (var socket in sockets)
        {
            (await socket.NextAsync("message.created", TimeSpan.FromSeconds(20)))["content"].Text().ShouldBe("during the outage");
        }
        var recovered = restarted.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3)); // past any delayed second pass
        var commands = counter.Commands;
        var membershipQueries = commands.Count(c => c.Contains("FROM members", StringComparison.Ordinal) && !c.Contains("chatroom_id = ", StringComparison.Ordinal));
        var catchUps = commands.Count(c => c.Contains("FROM messages", StringComparison.Ordinal));
        output.WriteLine($"{users * socketsPerUser} sockets of {users} users, {users + 1} feeds: {commands.Count} queries after the restart " +
            $"({membershipQueries} membership, {catchUps} catch-up); every socket had the missed message {recovered.TotalSeconds:F1} s after Redis started");
        if (membershipQueries > users || catchUps > users + 1)
        {
            output.WriteLine(string.Join("\n---\n", commands));
        }
        membershipQueries.ShouldBeLessThanOrEqualTo(users);
        catchUps.ShouldBeLessThanOrEqualTo(users + 1);
        foreach (var socket in sockets)
        {
            await socket.DisposeAsync();
        }
    }

    [Fact]
    public async Task RedisRestartedMidRun_EverySocketStillGetsSeqs1To200InOrderOnce()
    {
        var a = app.StartInstance(kestrel: true);
        var b = app.App;
        var apiA = new Api(a.CreateClient());
        var apiB = new Api(b.CreateClient());
        var owner = await apiA.RegisterAsync();
        var senders = new List<Account> { owner };
        for (var i = 0; i < 3; i++)
        {
            senders.Add(await apiA.RegisterAsync());
        }
        var room = await apiA.CreateRoomAsync(owner, false, senders.Skip(1).Select(s => s.Id).ToArray());
        var listeners = new[]
        {
            await ChatSocket.ConnectKestrelAsync(a, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), senders[1].AccessToken),
            await ChatSocket.ConnectKestrelAsync(a, ApiRoutes.UserSocket, senders[2].AccessToken),
            await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, senders[3].AccessToken),
        };
        foreach (var socket in listeners)
        {
            await socket.NextAsync("ready");
        }

        var sent = 0;
        var restarted = Stopwatch.StartNew();
        var outage = Task.Run(async () =>
        {
            while (Volatile.Read(ref sent) < 60)
            {
                await Task.Delay(10);
            }
            app.Redis.Stop();
            await Task.Delay(TimeSpan.FromSeconds(2));
            app.Redis.Start();
            restarted.Restart();
        });
        await Task.WhenAll(senders.Select(async (sender, i) =>
        {
            var api = i % 2 == 0 ? apiA : apiB;
            for (var n = 0; n < 50; n++)
            {
                var response = await api.As(sender).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = $"{i}-{n}" });
                await response.ShouldHaveStatus(HttpStatusCode.Created);
                Interlocked.Increment(ref sent);
                await Task.Delay(15);
            }
        }));
        await outage;
        // The last writes may have happened before the link came back: one more after it shows up the gap.
        await WaitForRedisAsync(apiB);
        await apiB.PostMessageAsync(owner, room, "after the outage");

        var expected = Enumerable.Range(1, 201).Select(i => (long)i).ToList();
        foreach (var socket in listeners)
        {
            var seqs = new List<long>();
            try
            {
                while (seqs.Count < 201)
                {
                    var frame = await socket.NextAsync(f => f["type"]?.GetValue<string>() == "message.created", TimeSpan.FromSeconds(20));
                    seqs.Add(frame["seq"]!.GetValue<long>());
                }
            }
            catch (TimeoutException)
            {
            }
            var complete = restarted.Elapsed;
            seqs.AddRange((await socket.DrainAsync(TimeSpan.FromMilliseconds(300))).Where(f => f["type"]?.GetValue<string>() == "message.created").Select(f => f["seq"]!.GetValue<long>()));
            output.WriteLine($"Redis killed for 2 s mid-stream: listener lost {expected.Except(seqs).Count()} of 201, doubled {seqs.Count - seqs.Distinct().Count()}, " +
                $"out of order {!seqs.Distinct().SequenceEqual(seqs.Distinct().Order())}; had all {complete.TotalSeconds:F1} s after Redis started");
            seqs.ShouldBe(expected);
            await socket.DisposeAsync();
        }
    }

    private static async Task WaitForRedisAsync(Api api)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var health = await (await api.GetAsync("/health/ready")).Json();
            if (health["status"]?.GetValue<string>() == "healthy")
            {
                return;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("Redis did not come back.");
    }

    [Fact]
    public async Task RedisDown_ReadyIsDegradedNotUnavailable_AndOwnWritesStillReachLocalSockets()
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await socket.NextAsync("ready");

        app.Redis.Stop();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            JsonNode health;
            HttpStatusCode status;
            do
            {
                var response = await api.GetAsync("/health/ready");
                status = response.StatusCode;
                health = await response.Json();
            }
            while (health["status"]?.GetValue<string>() != "degraded" && DateTime.UtcNow < deadline);
            status.ShouldBe(HttpStatusCode.OK);
            health["status"].Text().ShouldBe("degraded");
            health["checks"]!["redis"].Text().ShouldBe("degraded");

            await api.PostMessageAsync(owner, room, "while redis is down");
            (await socket.NextAsync("message.created"))["content"].Text().ShouldBe("while redis is down");
        }
        finally
        {
            app.Redis.Start();
        }
        await WaitForRedisAsync(api);
    }

    [Fact]
    public async Task RedisDown_SendsAndNewSocketsDoNotWaitForTheLink()
    {
        // Well under the Redis client's 5-second command timeout, which a command waiting for the link would run into.
        var bound = TimeSpan.FromSeconds(3);
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);

        app.Redis.Stop();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((await (await api.GetAsync("/health/ready")).Json())["status"]?.GetValue<string>() != "degraded" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            var sending = Stopwatch.StartNew();
            await api.PostMessageAsync(owner, room, "while redis is down");
            sending.Elapsed.ShouldBeLessThan(bound);

            var opening = Stopwatch.StartNew();
            await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
            await socket.NextAsync("ready");
            opening.Elapsed.ShouldBeLessThan(bound);
        }
        finally
        {
            app.Redis.Start();
        }
        await WaitForRedisAsync(api);
    }

    [Fact]
    public async Task SocketOpenedWhileRedisIsDown_ReceivesOtherInstancesMessagesOnceItIsBack()
    {
        var a = app.StartInstance();
        var apiA = new Api(a.CreateClient());
        var owner = await apiA.RegisterAsync();
        var room = await apiA.CreateRoomAsync(owner);

        app.Redis.Stop();
        ChatSocket onB;
        try
        {
            onB = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
            await onB.NextAsync("ready", TimeSpan.FromSeconds(20));
            await apiA.PostMessageAsync(owner, room, "during the outage");
        }
        finally
        {
            app.Redis.Start();
        }
        await using (onB)
        {
            await WaitForRedisAsync(app.Api);
            await apiA.PostMessageAsync(owner, room, "after the outage");
            (await onB.NextAsync("message.created", TimeSpan.FromSeconds(15)))["content"].Text().ShouldBe("during the outage");
            (await onB.NextAsync("message.created", TimeSpan.FromSeconds(15)))["content"].Text().ShouldBe("after the outage");
        }
    }

    [Fact]
    public async Task MemberRemovedWhileRedisIsDown_StopsReceivingOnTheOtherInstanceOnceItIsBack()
    {
        var a = app.StartInstance();
        var apiA = new Api(a.CreateClient());
        var owner = await apiA.RegisterAsync();
        var member = await apiA.RegisterAsync();
        var room = await apiA.CreateRoomAsync(owner, true, member.Id);
        await using var roomSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), member.AccessToken);
        await using var userSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, member.AccessToken);
        await roomSocket.NextAsync("ready");
        await userSocket.NextAsync("ready");

        app.Redis.Stop();
        try
        {
            (await apiA.As(owner).DeleteAsync(ApiRoutes.Fill(ApiRoutes.Member, room, member.Id))).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }
        finally
        {
            app.Redis.Start();
        }
        await WaitForRedisAsync(app.Api);

        ((int?)await roomSocket.ClosedAsync(TimeSpan.FromSeconds(15))).ShouldBe(4403);
        await Task.Delay(TimeSpan.FromSeconds(1)); // past the catch-up after the reconnect
        await apiA.PostMessageAsync(owner, room, "members only");
        (await userSocket.DrainAsync(TimeSpan.FromSeconds(1))).ShouldNotContain(f => f["content"] != null && f["content"]!.GetValue<string>() == "members only");
        userSocket.IsClosed.ShouldBeFalse();
    }
}
