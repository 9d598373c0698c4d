using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using SliceChat.Features;
using SliceChat.Tests.Support;

namespace SliceChat.Tests.Infrastructure;

/// <summary>An instance stopped with SIGTERM, as an orchestrator or <c>scripts/cluster.sh</c> stops it.</summary>
public sealed class DrainTests : IDisposable
{
    private const int DrainSeconds = 3;
    private readonly string database = TestServers.CreatePostgresDatabase();
    private readonly string channelPrefix = "test-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A JSON body whose second half is sent only once <paramref name="release"/> completes.</summary>
    private sealed class GatedContent(string head, string tail, Task release) : HttpContent
    {
        private readonly byte[] first = Encoding.UTF8.GetBytes(head);
        private readonly byte[] second = Encoding.UTF8.GetBytes(tail);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(second);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = first.Length + second.Length;
            return true;
        }
    }

    [Fact]
    public async Task Sigterm_ReadyIs503AtOnce_ServesThroughTheDrain_FinishesInFlightRequests_Closes1001_Exits()
    {
        var settings = AppProcess.Settings(database, channelPrefix);
        settings["Limits:ShutdownDrainSeconds"] = DrainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var instance = await AppProcess.StartAsync(settings);
        var api = new Api(new HttpClient { BaseAddress = instance.Address });
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        await using var socket = await ChatSocket.ConnectAsync(new UriBuilder(instance.Address) { Scheme = "ws" }.Uri,
            ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        await socket.NextAsync("ready");

        // A send whose body is still on its way when the signal comes.
        var release = new TaskCompletionSource();
        var request = new HttpRequestMessage(HttpMethod.Post, ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))
        {
            Content = new GatedContent("{\"content\":\"in fli", "ght\"}", release.Task),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner.AccessToken);
        using var inFlightClient = new HttpClient { BaseAddress = instance.Address, Timeout = TimeSpan.FromSeconds(60) };
        var inFlight = inFlightClient.SendAsync(request);
        await Task.Delay(500);

        var sinceSignal = Stopwatch.StartNew();
        instance.Terminate();
        HttpResponseMessage ready;
        do
        {
            ready = await api.GetAsync("/health/ready");
        }
        while (ready.StatusCode != HttpStatusCode.ServiceUnavailable && sinceSignal.Elapsed < TimeSpan.FromSeconds(DrainSeconds));
        ready.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        (await ready.Json())["checks"]!["shutdown"].Text().ShouldBe("unhealthy");
        (await api.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Still serving while the load balancer moves away: a send, and its event on the open socket.
        await api.PostMessageAsync(owner, room, "during the drain");
        (await socket.NextAsync(f => f["content"]?.GetValue<string>() == "during the drain"))["seq"]!.GetValue<long>().ShouldBe(1);
        socket.IsClosed.ShouldBeFalse();

        (await socket.ClosedAsync(TimeSpan.FromSeconds(DrainSeconds + 20))).ShouldBe(WebSocketCloseStatus.EndpointUnavailable);
        sinceSignal.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(DrainSeconds - 0.5));

        release.SetResult();
        var answered = await inFlight;
        await answered.ShouldHaveStatus(HttpStatusCode.Created);
        (await answered.Json())["seq"]!.GetValue<long>().ShouldBe(2);
        (await instance.WaitForExitAsync(TimeSpan.FromSeconds(30))).ShouldBeTrue(string.Join('\n', instance.Output));
        instance.ExitCode.ShouldBe(0);

        await using var reader = new AppFactory(AppFactory.Settings(Provider.Postgres, database));
        var history = await (await new Api(reader.CreateClient()).As(owner).GetAsync(ApiRoutes.Fill(ApiRoutes.ChatroomMessages, room))).Json();
        history["items"]!.AsArray().Select(m => m!["content"].Text()).Order().ShouldBe(["during the drain", "in flight"]);
    }

    public void Dispose() => TestServers.DropPostgresDatabase(database);
}
