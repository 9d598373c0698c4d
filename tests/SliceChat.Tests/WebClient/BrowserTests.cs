using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using SliceChat.Features;
using SliceChat.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace SliceChat.Tests.WebClient;

/// <summary>The web client at <c>/</c> in headless Chromium, against two Kestrel instances on PostgreSQL and Redis.</summary>
public sealed class BrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>, IAsyncLifetime
{
    private readonly Stopwatch elapsed = new();
    private readonly List<ChatPage> pages = [];

    public Task InitializeAsync()
    {
        elapsed.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var page in pages)
        {
            page.Problems.ShouldBeEmpty();
            await page.Page.Context.CloseAsync();
        }
        output.WriteLine($"took {elapsed.Elapsed.TotalSeconds:F1} s");
    }

    private async Task<ChatPage> OpenAsync(AppFactory instance, int width = 1280, int height = 800, Func<IPage, Task>? beforeLoad = null)
    {
        var page = await app.OpenAsync(instance, width, height, beforeLoad);
        pages.Add(page);
        return page;
    }

    private async Task<ChatPage> LoggedInAsync(AppFactory instance, Account account)
    {
        var page = await OpenAsync(instance);
        await page.LogInAsync(account);
        return page;
    }

    private async Task<(Account Alice, Account Bob, Guid Room, string RoomName)> RoomOfTwoAsync()
    {
        var alice = await app.Api.RegisterAsync(Api.UniqueName("alice"));
        var bob = await app.Api.RegisterAsync(Api.UniqueName("bob"));
        var name = Api.UniqueName("room");
        var created = await app.Api.As(alice).PostAsync(ApiRoutes.Chatrooms, new { name, member_ids = new[] { bob.Id } });
        await created.ShouldHaveStatus(System.Net.HttpStatusCode.Created);
        return (alice, bob, Guid.Parse((await created.Json())["id"].Text()), name);
    }

    /// <summary>Alice and Bob in a room of theirs, each logged in on an instance of their own.</summary>
    private async Task<(Account Alice, Account Bob, ChatPage AlicePage, ChatPage BobPage, string RoomName)> LoggedInOnTwoInstancesAsync()
    {
        var (alice, bob, _, roomName) = await RoomOfTwoAsync();
        return (alice, bob, await LoggedInAsync(app.A, alice), await LoggedInAsync(app.B, bob), roomName);
    }

    [Fact]
    public async Task TwoUsers_OnTwoInstances_ChatLive_InARoomAndADirectConversation()
    {
        var aliceName = Api.UniqueName("alice");
        var bob = await app.Api.RegisterAsync(Api.UniqueName("bob"));
        var alice = await OpenAsync(app.A);
        await alice.RegisterAsync(aliceName, Api.Password);
        await alice.ConnectedAsync();
        var bobPage = await LoggedInAsync(app.B, bob);

        // Alice creates a public room; Bob finds it among the public rooms and joins.
        var room = Api.UniqueName("room");
        await alice.Page.GetByText("New room", new() { Exact = true }).ClickAsync();
        await alice.Page.GetByLabel("Room name").FillAsync(room);
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Create room" }).ClickAsync();
        await Expect(alice.Page.GetByRole(AriaRole.Heading, new() { Name = room })).ToBeVisibleAsync();
        await bobPage.Page.GetByText("Public rooms", new() { Exact = true }).ClickAsync();
        await bobPage.Page.GetByRole(AriaRole.Button, new() { Name = $"Join {room}" }).ClickAsync();
        await Expect(bobPage.Page.GetByRole(AriaRole.Heading, new() { Name = room })).ToBeVisibleAsync();

        await alice.SendAsync("hello from instance A");
        await Expect(bobPage.Message("hello from instance A")).ToHaveCountAsync(1);
        await bobPage.SendAsync("hello from instance B");
        await Expect(alice.Message("hello from instance B")).ToHaveCountAsync(1);

        // Alice edits and then deletes her message; Bob sees both live.
        await alice.Message("hello from instance A").GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await alice.Page.GetByLabel("New text").FillAsync("hello, edited");
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(bobPage.Message("hello, edited")).ToContainTextAsync("(edited)");
        alice.Page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await alice.Message("hello, edited").GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(bobPage.Messages.GetByText("Message deleted")).ToHaveCountAsync(1);
        await Expect(bobPage.Messages.GetByText("hello, edited")).ToHaveCountAsync(0);

        // Alice finds Bob and starts a direct conversation; it shows up on Bob's list with its unread count.
        await alice.Page.GetByText("Direct message", new() { Exact = true }).ClickAsync();
        await alice.Page.GetByLabel("Find a user").FillAsync(bob.Username[..12]);
        await alice.Page.GetByRole(AriaRole.Button, new() { Name = $"Message {bob.Username}" }).ClickAsync();
        await alice.SendAsync("just between us");
        await alice.SendAsync("and one more");
        await Expect(alice.Message("and one more")).ToHaveCountAsync(1);
        var direct = bobPage.Conversation(aliceName);
        await Expect(direct).ToContainTextAsync("2 unread");
        // Newest activity first.
        await Expect(bobPage.Conversations.GetByRole(AriaRole.Listitem).First).ToContainTextAsync(aliceName);
        await bobPage.OpenAsync(aliceName);
        await Expect(bobPage.MessageItems).ToHaveCountAsync(2);
        await Expect(direct).Not.ToContainTextAsync("unread");
        await bobPage.SendAsync("sure");
        await Expect(alice.Message("sure")).ToHaveCountAsync(1);
        (await alice.ContentsAsync()).ShouldBe(["just between us", "and one more", "sure"]);
        // Alice has it open: nothing unread; Bob has read her messages (his own reply does not carry his receipt).
        await Expect(alice.Conversation(bob.Username)).Not.ToContainTextAsync("unread");
        await Expect(alice.Message("and one more")).ToContainTextAsync($"Seen by {bob.Username}");
        await Expect(alice.Messages.GetByText("Seen by")).ToHaveCountAsync(1);

        if (Environment.GetEnvironmentVariable("SLICECHAT_WEB_CLIENT_SCREENSHOT") is { Length: > 0 } screenshot)
        {
            await alice.Page.ScreenshotAsync(new() { Path = screenshot });
        }
    }

    [Fact]
    public async Task History_SurvivesAReload_AndScrollingUpLoadsOlderPages()
    {
        var (alice, bob, room, roomName) = await RoomOfTwoAsync();
        for (var i = 1; i <= 120; i++)
        {
            await app.Api.PostMessageAsync(i % 2 == 0 ? alice : bob, room, $"message {i}.");
        }
        var page = await LoggedInAsync(app.A, alice);
        await page.OpenAsync(roomName);
        await Expect(page.MessageItems).ToHaveCountAsync(50);
        await Expect(page.MessageItems.Last).ToContainTextAsync("message 120.");
        await Expect(page.MessageItems.First).ToContainTextAsync("message 71.");

        await page.Page.ReloadAsync();
        await page.ConnectedAsync();
        await Expect(page.MessageItems).ToHaveCountAsync(50);
        await Expect(page.MessageItems.Last).ToContainTextAsync("message 120.");

        await page.Messages.EvaluateAsync("log => log.scrollTop = 0");
        await Expect(page.MessageItems).ToHaveCountAsync(100);
        await Expect(page.MessageItems.First).ToContainTextAsync("message 21.");
        await page.Messages.EvaluateAsync("log => log.scrollTop = 0");
        await Expect(page.MessageItems).ToHaveCountAsync(120);
        await Expect(page.Messages.GetByText("This is the beginning of the conversation.")).ToBeVisibleAsync();
        (await page.ContentsAsync()).ShouldBe(Enumerable.Range(1, 120).Select(i => $"message {i}."));
    }

    [Fact]
    public async Task OfflineAndBack_ShowsExactlyTheMissedMessages_OnceEach()
    {
        var (alice, bob, room, roomName) = await RoomOfTwoAsync();
        var page = await LoggedInAsync(app.A, alice);
        await page.OpenAsync(roomName);
        await app.Api.PostMessageAsync(bob, room, "before the outage");
        await Expect(page.Message("before the outage")).ToHaveCountAsync(1);

        await page.Page.Context.SetOfflineAsync(true);
        await Expect(page.Status).ToContainTextAsync("Reconnecting");
        for (var i = 1; i <= 3; i++)
        {
            await app.Api.PostMessageAsync(bob, room, $"missed {i}");
        }
        await page.SendAsync("written while offline");
        await Expect(page.Message("written while offline")).ToContainTextAsync("retrying");

        await page.Page.Context.SetOfflineAsync(false);
        await page.ConnectedAsync();
        string[] expected = ["before the outage", "missed 1", "missed 2", "missed 3", "written while offline"];
        await Expect(page.MessageItems).ToHaveCountAsync(expected.Length);
        await Expect(page.Message("written while offline")).Not.ToContainTextAsync("retrying");
        // Nothing more turns up later (a second replay, a retried send stored twice).
        await Task.Delay(1500);
        (await page.ContentsAsync()).ShouldBe(expected);
        var stored = await app.Api.As(alice).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room));
        (await stored.Json())["items"]!.AsArray().Select(m => m!["content"].Text()).ShouldBe(expected);
    }

    /// <summary>
    /// A link that dies without the browser noticing (no close, no offline event: frames just stop both ways): the
    /// client's unanswered ping drops the socket, it reconnects and syncs. The page's clock is fast-forwarded past
    /// the ping interval and the pong timeout instead of waiting them out.
    /// </summary>
    [Fact]
    public async Task SilentlyDeadSocket_IsNoticedByAnUnansweredPing_AndCaughtUp()
    {
        var (alice, bob, room, roomName) = await RoomOfTwoAsync();
        var sockets = 0;
        var silenced = false;
        var page = await OpenAsync(app.A, beforeLoad: async p =>
        {
            await p.Clock.InstallAsync();
            await p.RouteWebSocketAsync("**/ws/chat**", browserSide =>
            {
                // Only the first socket goes silent; the ones after it work.
                var silent = Interlocked.Increment(ref sockets) == 1;
                var serverSide = browserSide.ConnectToServer();
                browserSide.OnMessage(frame => { if (!(silent && silenced)) serverSide.Send(frame.Text!); });
                serverSide.OnMessage(frame => { if (!(silent && silenced)) browserSide.Send(frame.Text!); });
            });
        });
        await page.LogInAsync(alice);
        await page.OpenAsync(roomName);
        await app.Api.PostMessageAsync(bob, room, "before the link died");
        await Expect(page.Message("before the link died")).ToHaveCountAsync(1);

        silenced = true;
        await app.Api.PostMessageAsync(bob, room, "while it was dead");
        await Task.Delay(500);
        await Expect(page.Message("while it was dead")).ToHaveCountAsync(0);
        await Expect(page.Status).ToHaveTextAsync("Connected"); // nothing told the browser

        await page.Page.Clock.FastForwardAsync("00:16"); // the ping goes out, into the void
        await page.Page.Clock.FastForwardAsync("00:11"); // no answer: dropped, reconnected, synced
        await Expect(page.Message("while it was dead")).ToHaveCountAsync(1);
        await page.ConnectedAsync();
        sockets.ShouldBe(2);
        (await page.ContentsAsync()).ShouldBe(["before the link died", "while it was dead"]);
    }

    [Fact]
    public async Task MessageThatArrivesLive_WhileTheFirstPageLoads_Shows()
    {
        var (alice, bob, room, roomName) = await RoomOfTwoAsync();
        var page = await OpenAsync(app.A);
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        page.Page.WebSocket += (_, socket) => socket.FrameReceived += (_, frame) =>
        {
            if (frame.Text?.Contains("during the load", StringComparison.Ordinal) == true)
            {
                delivered.TrySetResult();
            }
        };
        await page.LogInAsync(alice);
        // The page is read before Bob's message is stored, and reaches the browser only after the message's live event.
        await page.Page.RouteAsync(url => url.Contains($"/chatrooms/{room}/messages?limit=", StringComparison.Ordinal), async route =>
        {
            var stale = await route.FetchAsync();
            await app.Api.PostMessageAsync(bob, room, "during the load");
            await delivered.Task.WaitAsync(TimeSpan.FromSeconds(15));
            await route.FulfillAsync(new() { Response = stale });
        });
        await page.OpenAsync(roomName);
        await Expect(page.Message("during the load")).ToHaveCountAsync(1);
        (await page.ContentsAsync()).ShouldBe(["during the load"]);
    }

    [Fact]
    public async Task Typing_ShowsOnTheOtherInstance_AndGoesAway()
    {
        var (alice, bob, alicePage, bobPage, roomName) = await LoggedInOnTwoInstancesAsync();
        await alicePage.OpenAsync(roomName);
        await bobPage.OpenAsync(roomName);

        await bobPage.MessageBox.PressSequentiallyAsync("thinking");
        var typing = alicePage.Page.GetByText($"{bob.Username} is typing");
        await Expect(typing).ToBeVisibleAsync();
        // Bob stops typing: the indicator goes after a few seconds.
        await Expect(typing).ToBeHiddenAsync(new() { Timeout = 15_000 });
        await Expect(bobPage.Page.GetByText($"{alice.Username} is typing")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task ReadReceipt_MovesToTheNewestMessageTheOtherHasSeen()
    {
        var (alice, bob, alicePage, bobPage, roomName) = await LoggedInOnTwoInstancesAsync();
        await alicePage.OpenAsync(roomName);

        await alicePage.SendAsync("first");
        await Expect(alicePage.Message("first")).ToHaveCountAsync(1);
        await Expect(alicePage.Messages.GetByText("Seen by")).ToHaveCountAsync(0);
        await Expect(bobPage.Conversation(roomName)).ToContainTextAsync("1 unread");
        await bobPage.OpenAsync(roomName);
        await Expect(alicePage.Message("first")).ToContainTextAsync($"Seen by {bob.Username}");

        await alicePage.SendAsync("second");
        await Expect(alicePage.Message("second")).ToContainTextAsync($"Seen by {bob.Username}");
        await Expect(alicePage.Message("first")).Not.ToContainTextAsync("Seen by");
        await Expect(alicePage.Messages.GetByText("Seen by")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task AccessToken_IsRefreshedBeforeExpiry_AndTheLiveSocketKeptOpenByAnAuthFrame()
    {
        var (alice, bob, room, roomName) = await RoomOfTwoAsync();
        var lifetime = TimeSpan.FromSeconds(6);
        var shortLived = Tokens.Issue(app.A, alice, lifetime);
        var expires = DateTime.UtcNow + lifetime;
        var page = await OpenAsync(app.A);
        var sockets = new List<IWebSocket>();
        var authFrames = 0;
        page.Page.WebSocket += (_, socket) =>
        {
            sockets.Add(socket);
            socket.FrameSent += (_, frame) =>
            {
                if (frame.Text?.Contains("\"type\":\"auth\"", StringComparison.Ordinal) == true)
                {
                    Interlocked.Increment(ref authFrames);
                }
            };
        };
        var session = new JsonObject { ["access_token"] = shortLived, ["refresh_token"] = alice.RefreshToken }.ToJsonString();
        await page.Page.EvaluateAsync("session => localStorage.setItem('slicechat.session', session)", session);
        await page.Page.ReloadAsync();
        await page.ConnectedAsync();
        await page.OpenAsync(roomName);

        // Past the first token's expiry (the server sweeps expired sockets every second): still the same socket, still live.
        var wait = expires - DateTime.UtcNow + TimeSpan.FromSeconds(4);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
        await app.Api.PostMessageAsync(bob, room, "after the first token expired");
        await Expect(page.Message("after the first token expired")).ToHaveCountAsync(1);
        authFrames.ShouldBeGreaterThan(0);
        sockets.Count.ShouldBe(1);
        sockets[0].IsClosed.ShouldBeFalse();
        await page.ConnectedAsync();
    }

    [Fact]
    public async Task Errors_ShowTheServersExplanation()
    {
        var taken = await app.Api.RegisterAsync();
        var page = await OpenAsync(app.B);

        await page.SubmitLoginAsync(taken.Username, "not the password");
        await Expect(page.Alert).ToContainTextAsync("Incorrect username or password.");

        await page.RegisterAsync(taken.Username.ToUpperInvariant(), Api.Password);
        await Expect(page.Alert).ToContainTextAsync("is taken");
        await page.Page.GetByLabel("Password", new() { Exact = true }).FillAsync("short");
        await page.Page.GetByLabel("Username", new() { Exact = true }).FillAsync(Api.UniqueName());
        // The browser's own check (minlength) stops the form first; the server's rule stands behind it.
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Create account", Exact = true }).ClickAsync();
        (await page.Page.GetByLabel("Password", new() { Exact = true }).EvaluateAsync<bool>("input => input.validity.tooShort")).ShouldBeTrue();
    }

    [Fact]
    public async Task SessionRevokedElsewhere_ShowsTheLoginAgain_AndLogOutStaysLoggedOut()
    {
        var alice = await app.Api.RegisterAsync(Api.UniqueName("alice"));
        var page = await LoggedInAsync(app.A, alice);

        // Every session of Alice's ends (from another device): the socket is closed with 4401, the refresh is refused.
        await (await app.Api.As(alice).PostAsync(ApiRoutes.LogoutAll)).ShouldHaveStatus(System.Net.HttpStatusCode.NoContent);
        await Expect(page.Alert).ToContainTextAsync("Your session has ended");
        await Expect(page.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true })).ToBeVisibleAsync();

        await page.LogInAsync(alice);
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Expect(page.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true })).ToBeVisibleAsync();
        await page.Page.ReloadAsync();
        await Expect(page.Page.GetByRole(AriaRole.Button, new() { Name = "Log in", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Conversations).ToBeHiddenAsync();
    }

    [Fact]
    public async Task OnAPhoneSizedScreen_TheListAndTheConversationTakeTurns_AndLeavingARoomDropsIt()
    {
        var (alice, _, room, roomName) = await RoomOfTwoAsync();
        await app.Api.PostMessageAsync(alice, room, "hello phone");
        var page = await OpenAsync(app.B, width: 390, height: 800);
        await page.LogInAsync(alice);

        await Expect(page.Conversation(roomName)).ToBeVisibleAsync();
        await page.OpenAsync(roomName);
        await Expect(page.Message("hello phone")).ToBeVisibleAsync();
        await Expect(page.Conversations).ToBeHiddenAsync();
        var width = await page.Page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        width.ShouldBeLessThanOrEqualTo(390);
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Back to the list" }).ClickAsync();
        await Expect(page.Conversations).ToBeVisibleAsync();

        await page.OpenAsync(roomName);
        page.Page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Leave room" }).ClickAsync();
        await Expect(page.Conversation(roomName)).ToHaveCountAsync(0);
        await Expect(page.Page.GetByText("No conversations yet")).ToBeVisibleAsync();
    }

    /// <summary>
    /// Attachments and presence as the contract describes them, added to real answers on their way to the page:
    /// the client shows an image preview, a file link and an online dot when the data carries them.
    /// </summary>
    [Fact]
    public async Task AttachmentsAndPresence_InTheData_AreShown()
    {
        var alice = await app.Api.RegisterAsync(Api.UniqueName("alice"));
        var bob = await app.Api.RegisterAsync(Api.UniqueName("bob"));
        await (await app.Api.As(bob).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = alice.Id, content = "two files" }))
            .ShouldHaveStatus(System.Net.HttpStatusCode.Created);
        var page = await OpenAsync(app.A);
        const string thumbnail = "/api/v1/attachments/00000000-0000-7000-8000-000000000001/thumbnail";
        byte[] png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
        var thumbnailAuthorized = false;
        await page.Page.RouteAsync("**/api/v1/attachments/**", async route =>
        {
            thumbnailAuthorized = route.Request.Headers.TryGetValue("authorization", out var value) && value.StartsWith("Bearer ", StringComparison.Ordinal);
            await route.FulfillAsync(new() { Status = 200, ContentType = "image/png", BodyBytes = png });
        });
        await page.Page.RouteAsync("**/api/v1/messages/conversations", async route =>
        {
            var response = await route.FetchAsync();
            var list = JsonNode.Parse(await response.TextAsync())!.AsArray();
            foreach (var conversation in list)
            {
                conversation!["partner"]!["status"] = "online";
            }
            await route.FulfillAsync(new() { Response = response, Body = list.ToJsonString() });
        });
        await page.Page.RouteAsync("**/api/v1/chatrooms/*/messages?*", async route =>
        {
            var response = await route.FetchAsync();
            var body = JsonNode.Parse(await response.TextAsync())!;
            foreach (var message in body["items"]!.AsArray())
            {
                message!["attachments"] = new JsonArray(
                    new JsonObject
                    {
                        ["id"] = "00000000-0000-7000-8000-000000000001", ["filename"] = "cat.png", ["content_type"] = "image/png",
                        ["size"] = 67, ["width"] = 1, ["height"] = 1, ["url"] = "/api/v1/attachments/00000000-0000-7000-8000-000000000001",
                        ["thumbnail_url"] = thumbnail,
                    },
                    new JsonObject
                    {
                        ["id"] = "00000000-0000-7000-8000-000000000002", ["filename"] = "notes.pdf", ["content_type"] = "application/pdf",
                        ["size"] = 2048, ["width"] = null, ["height"] = null, ["url"] = "/api/v1/attachments/00000000-0000-7000-8000-000000000002",
                        ["thumbnail_url"] = null,
                    });
            }
            await route.FulfillAsync(new() { Response = response, Body = body.ToJsonString() });
        });
        await page.LogInAsync(alice);

        await Expect(page.Conversation(bob.Username)).ToContainTextAsync("online");
        await page.OpenAsync(bob.Username);
        await Expect(page.Page.GetByRole(AriaRole.Region, new() { Name = bob.Username }).GetByText("online", new() { Exact = true })).ToBeVisibleAsync();
        var image = page.Message("two files").GetByRole(AriaRole.Img, new() { Name = "cat.png" });
        await Expect(image).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^blob:"));
        (await image.EvaluateAsync<int>("img => img.naturalWidth")).ShouldBe(1);
        thumbnailAuthorized.ShouldBeTrue();
        await Expect(page.Message("two files").GetByRole(AriaRole.Button, new() { Name = "notes.pdf (2.0 KB)" })).ToBeVisibleAsync();
    }
}
