using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Tests.Support;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace SliceChat.Tests.Infrastructure;

/// <summary>
/// PostgreSQL unreachable for a while (the proxy in front of it cut, then restored): routes answer 503
/// with Retry-After, socket frames an <c>unavailable</c> error on a socket that stays open, nothing is
/// half-written, and everything works again once the database is back.
/// </summary>
public sealed class PostgresOutageTests(PostgresOutageApp app, ITestOutputHelper output) : IClassFixture<PostgresOutageApp>
{
    [Fact]
    public async Task DatabaseCutMidStream_SendersRetryTheSameClientMessageId_EachStoredOnce_EveryListenerGets1ToNInOrder()
    {
        const int perSender = 25;
        var other = app.StartInstance();
        var apis = new[] { app.Api, new Api(other.CreateClient()) };
        var owner = await app.Api.RegisterAsync();
        var senders = new List<Account> { owner, await app.Api.RegisterAsync(), await app.Api.RegisterAsync() };
        var room = await app.Api.CreateRoomAsync(owner, false, senders.Skip(1).Select(s => s.Id).ToArray());
        var messages = ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room);
        var listeners = new[]
        {
            await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, senders[1].AccessToken),
            await ChatSocket.ConnectAsync(other, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), senders[2].AccessToken),
        };
        foreach (var socket in listeners)
        {
            await socket.NextAsync("ready");
        }

        var sent = 0;
        var unavailable = 0;
        var restored = Stopwatch.StartNew();
        var outage = Task.Run(async () =>
        {
            while (Volatile.Read(ref sent) < 20)
            {
                await Task.Delay(10);
            }
            app.Proxy.Cut();
            await Task.Delay(TimeSpan.FromSeconds(3));
            app.Proxy.Restore();
            restored.Restart();
        });
        await Task.WhenAll(senders.Select(async (sender, i) =>
        {
            for (var n = 0; n < perSender; n++)
            {
                var send = new { content = $"{i}-{n}", client_message_id = $"{i}-{n}" };
                var deadline = DateTime.UtcNow.AddSeconds(30);
                var retried = false;
                while (true)
                {
                    var response = await apis[(i + n) % 2].As(sender).PostAsync(messages, send);
                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                    {
                        // A first try is new (201); a retry may find its first try stored.
                        await (retried ? response.ShouldBeStoredRetry(send.client_message_id) : response.ShouldHaveStatus(HttpStatusCode.Created));
                        break;
                    }
                    retried = true;
                    await response.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
                    response.Headers.RetryAfter.ShouldNotBeNull();
                    Interlocked.Increment(ref unavailable);
                    DateTime.UtcNow.ShouldBeLessThan(deadline);
                    await Task.Delay(100);
                }
                Interlocked.Increment(ref sent);
                await Task.Delay(10);
            }
        }));
        await outage;
        var total = senders.Count * perSender;

        var history = await UntilAvailableAsync(() => app.Api.As(owner).GetAsync($"{messages}?limit=100"));
        var stored = (await history.Json())["items"]!.AsArray().Select(m => m!["client_message_id"].Text()).ToList();
        var expected = Enumerable.Range(1, total).Select(i => (long)i).ToList();
        foreach (var socket in listeners)
        {
            var seqs = new List<long>();
            try
            {
                while (seqs.Count < total)
                {
                    seqs.Add((await socket.NextAsync("message.created", TimeSpan.FromSeconds(15)))["seq"]!.GetValue<long>());
                }
            }
            catch (TimeoutException)
            {
            }
            seqs.AddRange((await socket.DrainAsync(TimeSpan.FromMilliseconds(300))).Where(f => f["type"].Text() == "message.created").Select(f => f["seq"]!.GetValue<long>()));
            output.WriteLine($"listener: {seqs.Count} of {total} frames, lost {expected.Except(seqs).Count()}, doubled {seqs.Count - seqs.Distinct().Count()}");
            seqs.ShouldBe(expected);
            await socket.DisposeAsync();
        }
        output.WriteLine($"PostgreSQL cut for 3 s mid-stream: {unavailable} sends answered 503 and were retried; {stored.Count} stored ({stored.Distinct().Count()} distinct client ids) of {total}; " +
            $"every listener had 1..{total} {restored.Elapsed.TotalSeconds:F1} s after the database came back");
        stored.Count.ShouldBe(total);
        stored.Distinct().Count().ShouldBe(total);
        unavailable.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task SendWhileDatabaseIsDown_Answers503WithRetryAfter_AndTheRetryAfterwardIsStoredOnceWithoutAGap()
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        await api.PostMessageAsync(owner, room, "before");
        var messages = ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room);
        var send = new { content = "during", client_message_id = "retried" };

        app.Proxy.Cut();
        try
        {
            var response = await api.As(owner).PostAsync(messages, send);
            var problem = await response.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
            response.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(2));
            problem["detail"].Text().ShouldContain("database");
            problem["trace_id"].Text().ShouldNotBeNullOrEmpty();
            // A second one, for the batch's writer: it must not have been left broken by the first.
            await (await api.As(owner).PostAsync(messages, send)).ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
        }
        finally
        {
            await RestoreAsync();
        }

        var stored = await UntilAvailableAsync(() => api.As(owner).PostAsync(messages, send));
        await stored.ShouldHaveStatus(HttpStatusCode.Created);
        (await (await api.As(owner).PostAsync(messages, send)).Json())["seq"]!.GetValue<long>().ShouldBe(2); // the repeat: the original
        await api.PostMessageAsync(owner, room, "after");

        var history = await (await api.As(owner).GetAsync(messages)).Json();
        var items = history["items"]!.AsArray();
        items.Select(m => m!["seq"]!.GetValue<long>()).Order().ShouldBe([1L, 2L, 3L]);
        items.OrderBy(m => m!["seq"]!.GetValue<long>()).Select(m => m!["content"].Text()).ShouldBe(["before", "during", "after"]);
    }

    [Fact]
    public async Task OtherRoutesWhileDatabaseIsDown_Answer503Problems_ReadyIs503_AndNothingIsHalfCreated()
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var name = Api.UniqueName("outage");

        app.Proxy.Cut();
        try
        {
            var list = await api.As(owner).GetAsync(ApiRoutes.Conversations);
            await list.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
            list.Headers.RetryAfter.ShouldNotBeNull();
            var create = await api.As(owner).PostAsync(ApiRoutes.Chatrooms, new { name, is_private = false });
            await create.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);
            create.Headers.RetryAfter.ShouldNotBeNull();
            var ready = await api.GetAsync("/health/ready");
            ready.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            (await ready.Json())["checks"]!["database"].Text().ShouldBe("unhealthy");
        }
        finally
        {
            await RestoreAsync();
        }

        var conversations = await UntilAvailableAsync(() => api.As(owner).GetAsync(ApiRoutes.Conversations));
        await conversations.ShouldHaveStatus(HttpStatusCode.OK);
        (await conversations.Content.ReadAsStringAsync()).ShouldNotContain(name);
    }

    [Fact]
    public async Task SocketFramesWhileDatabaseIsDown_GetErrorUnavailable_AndTheSameSocketSendsAndReceivesAfterward()
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var partner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, owner.AccessToken);
        await socket.NextAsync("ready");

        app.Proxy.Cut();
        try
        {
            await socket.SendAsync(new { type = "message.send", chatroom_id = room, content = "during", client_message_id = "s1" });
            var error = await socket.NextAsync("error");
            error["code"].Text().ShouldBe("unavailable");
            error["client_message_id"].Text().ShouldBe("s1");

            await socket.SendAsync(new { recipient_id = partner.Id, content = "dm during", client_message_id = "d1" });
            (await socket.NextAsync("error"))["client_message_id"].Text().ShouldBe("d1");
            await socket.SendAsync(new { type = "read", chatroom_id = room, seq = 1 });
            (await socket.NextAsync("error"))["code"].Text().ShouldBe("unavailable");
            await socket.SendAsync(new { type = "sync", chatroom_id = room, after_seq = 0 });
            (await socket.NextAsync("error"))["code"].Text().ShouldBe("unavailable");

            await socket.SendAsync(new { type = "ping" });
            await socket.NextAsync("pong");
            socket.IsClosed.ShouldBeFalse();
        }
        finally
        {
            await RestoreAsync();
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await socket.SendAsync(new { type = "message.send", chatroom_id = room, content = "after", client_message_id = "s1" });
            var answer = await socket.NextAsync(f => f["type"].Text() is "message.created" or "error");
            if (answer["type"].Text() == "message.created")
            {
                answer["content"].Text().ShouldBe("after");
                answer["seq"]!.GetValue<long>().ShouldBe(1);
                break;
            }
            answer["code"].Text().ShouldBe("unavailable");
            DateTime.UtcNow.ShouldBeLessThan(deadline);
            await Task.Delay(100);
        }
        socket.IsClosed.ShouldBeFalse();
    }

    [Fact]
    public async Task TokenExpiringWhileDatabaseIsDown_StillClosesItsSocketWith4401()
    {
        // Sessions re-checked in the database every second: each sweep then meets the outage.
        var instance = app.StartInstance(s => s["Jwt:SessionCacheSeconds"] = "1");
        var api = new Api(instance.CreateClient());
        var me = await api.RegisterAsync();
        var others = new List<ChatSocket>();
        for (var i = 0; i < 8; i++)
        {
            others.Add(await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, me.AccessToken));
        }
        await using var expiring = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, Tokens.Issue(instance, me, TimeSpan.FromSeconds(3)));
        await expiring.NextAsync("ready");
        foreach (var other in others)
        {
            await other.NextAsync("ready");
        }

        app.Proxy.Cut();
        try
        {
            ((int?)await expiring.ClosedAsync(TimeSpan.FromSeconds(8))).ShouldBe(4401);
            others.ShouldAllBe(o => !o.IsClosed);
        }
        finally
        {
            await RestoreAsync();
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task GapFillWhileDatabaseIsDown_KeepsWhatWaits_AndDeliversInOrderOnceItIsBack()
    {
        var api = app.Api;
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        await using var socket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await socket.NextAsync("ready");
        // Two messages stored without their publishes, as if those were lost on the way.
        MessageResponse second;
        await using (var scope = app.App.Services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<MessageStore>();
            await store.StoreOneAsync(new PendingSend(room, owner.Id, "first", null), default);
            second = (await store.StoreOneAsync(new PendingSend(room, owner.Id, "second", null), default)).Message!;
        }

        app.Proxy.Cut();
        try
        {
            // Only the second one arrives: past the gap wait the feed cannot fill the gap from the database.
            await app.App.Services.GetRequiredService<ChatEvents>().PublishAsync(room, ChatEvents.MessageCreated, second);
            (await socket.DrainAsync(TimeSpan.FromSeconds(1.5))).ShouldNotContain(f => f["type"].Text() == "message.created");
        }
        finally
        {
            await RestoreAsync();
        }

        (await socket.NextAsync("message.created", TimeSpan.FromSeconds(15)))["content"].Text().ShouldBe("first");
        (await socket.NextAsync("message.created", TimeSpan.FromSeconds(15)))["content"].Text().ShouldBe("second");
        (await socket.DrainAsync(TimeSpan.FromMilliseconds(500))).ShouldNotContain(f => f["type"].Text() == "message.created");
    }

    [Fact]
    public async Task OpenApi_ListsThe503OfEveryOperation_BesideItsOwnStatuses()
    {
        var document = await (await app.Api.GetAsync("/openapi/v1.json")).Json();
        var operations = document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => o.Value!["responses"]!.AsObject())).ToList();
        operations.ShouldAllBe(responses => responses.ContainsKey("503"));
        document["paths"]!["/api/v1/chatrooms/{id}/messages"]!["post"]!["responses"]!.AsObject().ContainsKey("201").ShouldBeTrue();
    }

    /// <summary>The proxy passes connections again, and the app's readiness says so.</summary>
    private async Task RestoreAsync()
    {
        app.Proxy.Restore();
        await UntilAvailableAsync(() => app.Api.GetAsync("/health/ready"));
    }

    /// <summary>A client retrying on 503 (connections the app pooled before the cut fail once each).</summary>
    private static async Task<HttpResponseMessage> UntilAvailableAsync(Func<Task<HttpResponseMessage>> request)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var response = await request();
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                return response;
            }
            await Task.Delay(100);
        }
    }
}
