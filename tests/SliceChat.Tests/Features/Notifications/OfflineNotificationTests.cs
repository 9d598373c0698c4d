using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Tests.Support;
using Xunit.Abstractions;

namespace SliceChat.Tests.Features.Notifications;

/// <summary>Offline notifications to a real HTTP receiver, from two instances on one PostgreSQL and one Redis.</summary>
public sealed class OfflineNotificationTests(ScaledOutApp app, ITestOutputHelper output) : IClassFixture<ScaledOutApp>
{
    private const string Secret = "test-webhook-secret";
    private const int DelaySeconds = 2;

    /// <summary>Instances of one test only: every instance runs a worker, and another test's would send to that test's receiver.</summary>
    private readonly List<AppFactory> instances = [];

    private AppFactory Start(WebhookReceiver receiver, Action<Dictionary<string, string?>>? configure = null)
    {
        var instance = app.StartInstance(s =>
        {
            s["Notifications:WebhookUrl"] = receiver.Url;
            s["Notifications:WebhookSecret"] = Secret;
            s["Notifications:DelaySeconds"] = $"{DelaySeconds}";
            s["Notifications:PollMilliseconds"] = "200";
            s["Notifications:RetryFirstSeconds"] = "1";
            s["Notifications:TimeoutSeconds"] = "2";
            configure?.Invoke(s);
        });
        instances.Add(instance);
        return instance;
    }

    /// <summary>Two instances sending to <paramref name="receiver"/>; a client of the first.</summary>
    private (AppFactory First, AppFactory Second, Api Api) StartTwo(WebhookReceiver receiver)
    {
        var first = Start(receiver);
        return (first, Start(receiver), new Api(first.CreateClient()));
    }

    private async Task StopAllAsync()
    {
        foreach (var instance in instances)
        {
            await instance.DisposeAsync();
        }
        instances.Clear();
    }

    private static async Task<JsonNode> SendDmAsync(Api api, Account from, Account to, string content)
    {
        var sent = await api.As(from).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = to.Id, content });
        await sent.ShouldHaveStatus(HttpStatusCode.Created);
        return await sent.Json();
    }

    private static Func<ReceivedWebhook, bool> For(Account user) => w => w.Json["user_id"].Text() == user.Id.ToString();

    private static DateTimeOffset Time(JsonNode? node) => DateTimeOffset.Parse(node.Text(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task Webhook_OfflineMembers_OneSignedWebhookEachPerWindow_AtMostTenMessages_UnreadCountCoversAll_NotBeforeTheDelay()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        try
        {
            var (_, _, api) = StartTwo(receiver);
            var alice = await api.RegisterAsync();
            var bob = await api.RegisterAsync();
            var carol = await api.RegisterAsync();
            var room = await api.CreateRoomAsync(alice, false, bob.Id, carol.Id);
            var first = await api.PostMessageAsync(alice, room, "m1");
            for (var i = 2; i <= 12; i++)
            {
                await api.PostMessageAsync(alice, room, $"m{i}");
            }
            var dm = await SendDmAsync(api, carol, bob, "psst");

            var received = await receiver.WaitAsync(r => r.Count(w => w.Status == 200) >= 3, TimeSpan.FromSeconds(DelaySeconds + 20));
            await Task.Delay(TimeSpan.FromSeconds(DelaySeconds + 2)); // no second webhook in the window
            received = receiver.Received;
            received.Count.ShouldBe(3);
            received.ShouldAllBe(w => w.IsSignedWith(Secret));
            received.Where(For(alice)).ShouldBeEmpty();

            var toBob = received.Where(For(bob)).ToList();
            var bobGroup = toBob.Single(w => w.Json["chatroom"]!["id"].Text() == room.ToString());
            var body = bobGroup.Json;
            body.AsObject().Select(p => p.Key).Order().ShouldBe(["chatroom", "id", "messages", "type", "unread_count", "user_id"]);
            body["type"].Text().ShouldBe("messages.unread");
            body["id"].Text().ShouldBe(bobGroup.Delivery);
            body["chatroom"]!["kind"].Text().ShouldBe("group");
            body["unread_count"]!.GetValue<long>().ShouldBe(12);
            body["messages"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(Enumerable.Range(3, 10).Select(i => $"m{i}"));
            var t = long.Parse(bobGroup.Signature!.Split(',')[0][2..], CultureInfo.InvariantCulture);
            DateTimeOffset.FromUnixTimeSeconds(t).ShouldBeInRange(bobGroup.At.AddMinutes(-1), bobGroup.At.AddMinutes(1));

            var bobDirect = toBob.Single(w => w.Json["chatroom"]!["id"].Text() == dm["chatroom_id"].Text()).Json;
            bobDirect["chatroom"]!["kind"].Text().ShouldBe("direct");
            bobDirect["chatroom"]!["name"].Text().ShouldBe(carol.Username);
            bobDirect["unread_count"]!.GetValue<long>().ShouldBe(1);

            var toCarol = received.Single(For(carol)).Json;
            toCarol["unread_count"]!.GetValue<long>().ShouldBe(12);

            // Stored to received: the delay, then at most a poll and a claim.
            var delay = bobGroup.At - Time(first["created_at"]);
            output.WriteLine($"message stored -> webhook received: {delay.TotalMilliseconds:F0} ms (Notifications:DelaySeconds={DelaySeconds})");
            delay.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(DelaySeconds) - TimeSpan.FromMilliseconds(100));
            delay.ShouldBeLessThan(TimeSpan.FromSeconds(DelaySeconds + 5));
        }
        finally
        {
            await StopAllAsync();
        }
    }

    [Fact]
    public async Task Webhook_NoneForARecipientConnectedOnTheOtherInstance_NorForAMutedConversation()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        try
        {
            var (_, b, api) = StartTwo(receiver);
            var alice = await api.RegisterAsync();
            var bob = await api.RegisterAsync();
            var carol = await api.RegisterAsync();
            var dave = await api.RegisterAsync();
            await using var bobSocket = await ChatSocket.ConnectAsync(b, ApiRoutes.UserSocket, bob.AccessToken);
            await bobSocket.NextAsync("ready");
            var room = await api.CreateRoomAsync(alice, false, carol.Id, dave.Id);
            var muted = await api.As(carol).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, room), new { muted = true });
            await muted.ShouldHaveStatus(HttpStatusCode.OK);
            (await muted.Json())["muted"]!.GetValue<bool>().ShouldBeTrue();

            await SendDmAsync(api, alice, bob, "you are online");
            await api.PostMessageAsync(alice, room, "carol muted this");

            // Dave, offline and not muted, is told: the worker ran past the window for everyone.
            await receiver.WaitAsync(r => r.Any(For(dave)), TimeSpan.FromSeconds(DelaySeconds + 20));
            await Task.Delay(TimeSpan.FromSeconds(1));
            receiver.Received.Where(For(bob)).ShouldBeEmpty();
            receiver.Received.Where(For(carol)).ShouldBeEmpty();
        }
        finally
        {
            await StopAllAsync();
        }
    }

    /// <summary>A send stored on its own (what a batch that failed falls back to) opens windows by the batch's rule.</summary>
    [Fact]
    public async Task Webhook_SendStoredOnItsOwn_TellsTheOfflineMember_NeitherTheMutedOneNorTheSender()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        try
        {
            var instance = Start(receiver);
            var api = new Api(instance.CreateClient());
            var alice = await api.RegisterAsync();
            var carol = await api.RegisterAsync();
            var dave = await api.RegisterAsync();
            var room = await api.CreateRoomAsync(alice, false, carol.Id, dave.Id);
            await (await api.As(carol).PatchAsync(ApiRoutes.Fill(ApiRoutes.Membership, room), new { muted = true })).ShouldHaveStatus(HttpStatusCode.OK);

            await using (var scope = instance.Services.CreateAsyncScope())
            {
                var stored = await scope.ServiceProvider.GetRequiredService<MessageStore>()
                    .StoreOneAsync(new PendingSend(room, alice.Id, "stored on its own", null), default);
                stored.Created.ShouldBeTrue();
            }

            var told = await receiver.WaitAsync(r => r.Any(For(dave)), TimeSpan.FromSeconds(DelaySeconds + 20));
            told.Single(For(dave)).Json["chatroom"]!["id"].Text().ShouldBe(room.ToString());
            await Task.Delay(TimeSpan.FromSeconds(1));
            receiver.Received.Where(For(carol)).ShouldBeEmpty();
            receiver.Received.Where(For(alice)).ShouldBeEmpty();
        }
        finally
        {
            await StopAllAsync();
        }
    }

    [Fact]
    public async Task Webhook_ReceiverFailingThenSucceeding_GetsTheSameDeliveryIdAndBodyAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = (n, _) => Task.FromResult(n <= 3 ? 500 : 200);
        try
        {
            var (_, _, api) = StartTwo(receiver);
            var alice = await api.RegisterAsync();
            var bob = await api.RegisterAsync();
            await SendDmAsync(api, alice, bob, "are you there?");

            await receiver.WaitAsync(r => r.Any(w => w.Status == 200), TimeSpan.FromSeconds(DelaySeconds + 30));
            await Task.Delay(TimeSpan.FromSeconds(3)); // answered: not sent again
            var attempts = receiver.Received;
            attempts.Count.ShouldBe(4);
            attempts.Select(w => w.Delivery).Distinct().Count().ShouldBe(1);
            attempts.Select(w => w.Body).Distinct().Count().ShouldBe(1);
            attempts.ShouldAllBe(w => w.IsSignedWith(Secret));
            attempts.Select(w => w.Status).ShouldBe([500, 500, 500, 200]);
        }
        finally
        {
            await StopAllAsync();
        }
    }

    [Fact]
    public async Task Webhook_InstanceStoppedMidDelivery_TheRestartedInstanceMakesEveryDelivery_SameIds_NoneLost()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var holding = true;
        // Held open until the sending instance goes: the deliveries are in flight when it stops.
        receiver.Answer = async (_, aborted) =>
        {
            if (Volatile.Read(ref holding))
            {
                await Task.Delay(Timeout.Infinite, aborted);
            }
            return 200;
        };
        try
        {
            var first = Start(receiver);
            var api = new Api(first.CreateClient());
            var alice = await api.RegisterAsync();
            var recipients = new List<Account>();
            for (var i = 0; i < 3; i++)
            {
                recipients.Add(await api.RegisterAsync());
                await SendDmAsync(api, alice, recipients[^1], $"hello {i}");
            }
            await receiver.WaitAsync(r => r.Select(w => w.Delivery).Distinct().Count() == 3, TimeSpan.FromSeconds(DelaySeconds + 20));
            await first.DisposeAsync(); // mid-delivery: every request is still open
            instances.Remove(first);
            var cut = receiver.Received.Select(w => w.Delivery!).ToHashSet();
            cut.Count.ShouldBe(3);
            receiver.Received.ShouldAllBe(w => w.Status == 0);

            Volatile.Write(ref holding, false);
            Start(receiver); // the restart: its worker finds the rows when their claims end
            var delivered = await receiver.WaitAsync(r => r.Count(w => w.Status == 200) >= 3, TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2));
            var succeeded = receiver.Received.Where(w => w.Status == 200).ToList();
            succeeded.Select(w => w.Delivery!).Order().ShouldBe(cut.Order());
            succeeded.Select(w => w.Json["user_id"].Text()).Order().ShouldBe(recipients.Select(r => r.Id.ToString()).Order());
            succeeded.ShouldAllBe(w => w.IsSignedWith(Secret));
            delivered.Select(w => w.Delivery).Distinct().Count().ShouldBe(3);
        }
        finally
        {
            await StopAllAsync();
        }
    }
}

/// <summary>Offline notifications of the embedded instance: SQLite's outbox and claim, the in-process presence.</summary>
public sealed class OfflineNotificationSqliteTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public async Task Webhook_Embedded_OfflineRecipientGetsOne_ConnectedOneNone_MuteShownOnOwnEntryOnly()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var instance = app.StartInstance(s =>
        {
            s["Notifications:WebhookUrl"] = receiver.Url;
            s["Notifications:WebhookSecret"] = "s";
            s["Notifications:DelaySeconds"] = "1";
            s["Notifications:PollMilliseconds"] = "200";
        });
        try
        {
            var api = new Api(instance.CreateClient());
            var alice = await api.RegisterAsync();
            var bob = await api.RegisterAsync();
            var carol = await api.RegisterAsync();
            await using var carolSocket = await ChatSocket.ConnectAsync(instance, ApiRoutes.UserSocket, carol.AccessToken);
            await carolSocket.NextAsync("ready");
            var room = await api.CreateRoomAsync(alice, false, bob.Id, carol.Id);
            await api.PostMessageAsync(alice, room, "one");
            await api.PostMessageAsync(alice, room, "two");

            var received = await receiver.WaitAsync(r => r.Count > 0, TimeSpan.FromSeconds(20));
            await Task.Delay(TimeSpan.FromSeconds(2));
            received = receiver.Received;
            received.Count.ShouldBe(1);
            received[0].IsSignedWith("s").ShouldBeTrue();
            received[0].Json["user_id"].Text().ShouldBe(bob.Id.ToString());
            received[0].Json["unread_count"]!.GetValue<long>().ShouldBe(2);

            var members = (await (await api.As(bob).GetAsync(ApiRoutes.Fill(ApiRoutes.Members, room))).Json()).AsArray();
            members.Single(m => m!["user_id"].Text() == bob.Id.ToString())!["muted"]!.GetValue<bool>().ShouldBeFalse();
            members.Where(m => m!["user_id"].Text() != bob.Id.ToString()).ShouldAllBe(m => m!["muted"] == null);
        }
        finally
        {
            await instance.DisposeAsync();
        }
    }
}
