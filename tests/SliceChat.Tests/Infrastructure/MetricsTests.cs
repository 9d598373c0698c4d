using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Features;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Tests.Support;
using Xunit.Abstractions;

namespace SliceChat.Tests.Infrastructure;

/// <summary>
/// Alone: a scrape reads every meter named SliceChat in the process, and other tests' instances run in this one
/// (a deployed instance is a process of its own).
/// </summary>
[CollectionDefinition(nameof(ProcessWideMeters), DisableParallelization = true)]
public sealed class ProcessWideMeters;

/// <summary>What <c>/metrics</c> shows an operator: each of the app's instruments moves when its event happens.</summary>
[Collection(nameof(ProcessWideMeters))]
public sealed class MetricsTests(ChaosApp app, ITestOutputHelper output) : IClassFixture<ChaosApp>
{
    private const int QueueCapacity = 16;

    /// <summary>Prometheus text: every sample's value, summed over its labels, by metric name.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(Api api)
    {
        var response = await api.GetAsync("/metrics");
        await response.ShouldHaveStatus(HttpStatusCode.OK);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var name = line[..line.IndexOfAny(['{', ' '])];
            var value = double.Parse(line[(line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : name.Length)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            samples[name] = samples.GetValueOrDefault(name) + value;
        }
        return samples;
    }

    private static double Of(Dictionary<string, double> samples, string name) => samples.GetValueOrDefault(name);

    private AppFactory StartInstance(Action<Dictionary<string, string?>>? configure = null, Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? host = null) =>
        app.StartInstance(s =>
        {
            s["Metrics:Enabled"] = "true";
            s["Limits:GapWaitMilliseconds"] = "200";
            configure?.Invoke(s);
        }, configureHost: host);

    [Fact]
    public async Task Metrics_ChatTraffic_MovesSocketsMessagesEventsFanOutAndGapFills()
    {
        var instance = StartInstance();
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner);
        var before = await ScrapeAsync(api);

        await using (var socket = await ChatSocket.ConnectAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken))
        {
            await socket.NextAsync("ready");
            Of(await ScrapeAsync(api), "slicechat_sockets_open").ShouldBe(Of(before, "slicechat_sockets_open") + 1);

            await api.PostMessageAsync(owner, room, "one");
            await socket.NextAsync("message.created");
            // A message stored without its publish: the next one arrives past a gap, filled from the database.
            await Unpublished.StoreMessageAsync(instance, room, owner.Id, "unpublished");
            await api.PostMessageAsync(owner, room, "three");
            (await socket.NextAsync(f => f["content"]?.GetValue<string>() == "three"))["seq"]!.GetValue<long>().ShouldBe(3);

            var after = await ScrapeAsync(api);
            (Of(after, "slicechat_messages_stored_total") - Of(before, "slicechat_messages_stored_total")).ShouldBe(2);
            (Of(after, "slicechat_events_published_total") - Of(before, "slicechat_events_published_total")).ShouldBeGreaterThanOrEqualTo(2);
            (Of(after, "slicechat_events_delivered_total") - Of(before, "slicechat_events_delivered_total")).ShouldBeGreaterThanOrEqualTo(3);
            (Of(after, "slicechat_fanout_latency_seconds_count") - Of(before, "slicechat_fanout_latency_seconds_count")).ShouldBe(3);
            Of(after, "slicechat_fanout_latency_seconds_bucket").ShouldBeGreaterThan(0);
            (Of(after, "slicechat_gap_fills_total") - Of(before, "slicechat_gap_fills_total")).ShouldBe(1);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Of(await ScrapeAsync(api), "slicechat_sockets_open") != Of(before, "slicechat_sockets_open") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Of(await ScrapeAsync(api), "slicechat_sockets_open").ShouldBe(Of(before, "slicechat_sockets_open"));
    }

    [Fact]
    public async Task Metrics_SlowReader_CountsTypingDroppedThenTheOverflow()
    {
        var instance = app.StartInstanceWithSmallSendBuffers(s =>
        {
            s["Metrics:Enabled"] = "true";
            s["Limits:SocketQueueCapacity"] = QueueCapacity.ToString(CultureInfo.InvariantCulture);
            s["Limits:SyncReplayMax"] = "8";
            s["Limits:TypingPerSecond"] = "1000";
        });
        var api = new Api(instance.CreateClient());
        var owner = await api.RegisterAsync();
        var slowUser = await api.RegisterAsync();
        var room = await api.CreateRoomAsync(owner, false, slowUser.Id);
        await using var slow = await ChatSocket.ConnectKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), slowUser.AccessToken, autoRead: false, receiveBufferBytes: 4096);
        await using var typist = await ChatSocket.ReadyKestrelAsync(instance, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), owner.AccessToken);
        var registry = instance.Services.GetRequiredService<ConnectionRegistry>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!registry.Sockets.Any(s => s.UserId == slowUser.Id) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        var slowConnection = registry.Sockets.Single(s => s.UserId == slowUser.Id);
        var before = await ScrapeAsync(api);

        var content = new string('x', 4000);
        for (var i = 0; i < 2000 && slowConnection.Queued <= QueueCapacity / 2; i++)
        {
            await api.PostMessageAsync(owner, room, content);
        }
        await typist.SendAsync(new { type = "typing", chatroom_id = room });
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (Of(await ScrapeAsync(api), "slicechat_typing_dropped_total") == Of(before, "slicechat_typing_dropped_total") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        for (var i = 0; i < 2000 && !slowConnection.IsClosing; i++)
        {
            await api.PostMessageAsync(owner, room, content);
        }

        var after = await ScrapeAsync(api);
        ((int?)slowConnection.CloseStatus).ShouldBe(1013);
        (Of(after, "slicechat_typing_dropped_total") - Of(before, "slicechat_typing_dropped_total")).ShouldBeGreaterThanOrEqualTo(1);
        (Of(after, "slicechat_socket_overflows_total") - Of(before, "slicechat_socket_overflows_total")).ShouldBe(1);
    }

    [Fact]
    public async Task Metrics_RateLimitDatabaseOutageAndRedisRestart_AreCounted()
    {
        var faults = new DbFaults();
        var instance = StartInstance(s =>
        {
            s["Limits:RateLimitingEnabled"] = "true";
            s["Limits:LoginAttemptsPerMinute"] = "2";
            s["Limits:RegistrationsPerMinute"] = "100";
        }, faults.Install);
        var api = new Api(instance.CreateClient());
        var account = await api.RegisterAsync();
        var before = await ScrapeAsync(api);

        for (var i = 0; i < 3; i++)
        {
            await api.PostAsync(ApiRoutes.Login, new { username = account.Username, password = "a wrong password" });
        }
        faults.Fail = _ => true;
        var unavailable = await api.As(account).GetAsync(ApiRoutes.Me);
        faults.Fail = null;
        await unavailable.ShouldBeProblem(HttpStatusCode.ServiceUnavailable);

        app.Redis.Stop();
        try
        {
            await Task.Delay(500);
        }
        finally
        {
            app.Redis.Start();
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var after = await ScrapeAsync(api);
        while (Of(after, "slicechat_redis_reconnects_total") == Of(before, "slicechat_redis_reconnects_total") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            after = await ScrapeAsync(api);
        }
        output.WriteLine(string.Join('\n', after.Where(s => s.Key.StartsWith("slicechat_", StringComparison.Ordinal)).Select(s => $"{s.Key} {s.Value}")));
        (Of(after, "slicechat_rate_limit_rejections_total") - Of(before, "slicechat_rate_limit_rejections_total")).ShouldBeGreaterThanOrEqualTo(1);
        (Of(after, "slicechat_database_unavailable_total") - Of(before, "slicechat_database_unavailable_total")).ShouldBe(1);
        (Of(after, "slicechat_redis_reconnects_total") - Of(before, "slicechat_redis_reconnects_total")).ShouldBeGreaterThanOrEqualTo(1);
    }

    [Fact]
    public async Task Metrics_OnItsOwnPort_AreNotServedOnTheAppPort()
    {
        var instance = StartInstance(s => s["Metrics:Port"] = "1");
        (await new Api(instance.CreateClient()).GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
