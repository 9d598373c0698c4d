using System.Net;
using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Features.Messages;

/// <summary>An instance's send queue is bounded (<c>Limits:SendQueueCapacity</c>): a send past it answers at once, and stores nothing.</summary>
public sealed class SendQueueTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public async Task Send_WhileTheQueueIsFull_Answers503WithRetryAfterOnRest_AndUnavailableOnASocket_NothingStored()
    {
        var faults = new DbFaults();
        var instance = app.StartInstance(s => s["Limits:SendQueueCapacity"] = "1", configureHost: faults.Install);
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        await using var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, owner.AccessToken);
        await socket.NextAsync("ready");

        // The writer is held on one batch while one more send waits: the queue is full.
        faults.DelayNext(sql => sql.Contains("INSERT INTO messages", StringComparison.Ordinal), TimeSpan.FromSeconds(3));
        var held = api.PostMessageAsync(owner, room, "held");
        await Task.Delay(500);
        var waiting = api.PostMessageAsync(owner, room, "waiting");
        await Task.Delay(500);

        using var refused = await api.As(owner).PostAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room), new { content = "refused" });
        (await refused.ShouldBeProblem(HttpStatusCode.ServiceUnavailable))["detail"].Text().ShouldContain("waiting to be stored");
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThan(0);
        await socket.SendAsync(new { type = "message.send", chatroom_id = room, content = "refused too", client_message_id = "c-refused" });
        var error = await socket.NextAsync("error");
        error["code"].Text().ShouldBe("unavailable");
        error["client_message_id"].Text().ShouldBe("c-refused");

        await held;
        await waiting;
        var history = await (await api.As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        history["items"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(["held", "waiting"]);
    }
}
