using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using SliceChat.Features;
using SliceChat.Infrastructure.Slices;
using SliceChat.Tests.Support;
using Xunit.Abstractions;

namespace SliceChat.Tests.Fuzz;

/// <summary>
/// Generated malformed input against every route of the OpenAPI document and every client frame type: never a 5xx,
/// every error a problem (or an <c>error</c> frame) in our own words, the socket open, and nothing stored.
/// The seed is printed; <c>SLICECHAT_FUZZ_SEED</c> replays a run, <c>SLICECHAT_FUZZ_CASES</c> sets its size.
/// </summary>
public abstract class FuzzTests(AppFixture app, ITestOutputHelper output)
{
    private readonly int seed = Fuzzer.SeedFromEnvironment();

    private Api Api => app.Api;

    [Fact]
    public async Task EveryRoute_MalformedInput_AnswersOurProblemsAndStoresNothing()
    {
        var (me, partner, room, message) = await SetUpAsync();
        var document = JsonNode.Parse(await app.App.CreateClient().GetStringAsync(Fill(SliceServices.DocumentPath, "v1")))!;
        var operations = Operation.FromOpenApi(document);
        operations.Count.ShouldBeGreaterThan(30);
        var fuzz = new RestFuzz(new Fuzzer(seed, overlongChars: 60_000, maxDepth: 12_000), "Bearer " + me.AccessToken, [me.Id, partner.Id, room, message]);
        var before = await StoredState.ReadAsync(app.App);
        var http = app.App.CreateClient();
        var failures = new List<string>();
        var classes = new Dictionary<InputClass, int>();
        var statuses = new SortedDictionary<int, int>();
        var clock = Stopwatch.StartNew();

        foreach (var operation in operations)
        {
            foreach (var fuzzCase in fuzz.CasesFor(operation, Fuzzer.CasesPerTarget))
            {
                using var response = await http.SendAsync(fuzzCase.ToRequest());
                Count(classes, fuzzCase.Class);
                statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
                if (await FaultOf(response, fuzzCase.MustFail) is { } fault)
                {
                    failures.Add($"{fuzzCase} {fault}");
                }
            }
        }

        var cases = classes.Values.Sum();
        output.WriteLine($"seed {seed}: {cases} requests over {operations.Count} operations in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("classes: " + string.Join(", ", classes.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}")));
        output.WriteLine("statuses: " + string.Join(", ", statuses.Select(s => $"{s.Key} x{s.Value}")));
        failures.ShouldBeEmpty(Report(failures));
        StoredState.Changes(before, await StoredState.ReadAsync(app.App)).ShouldBeEmpty($"seed {seed}: malformed requests stored something");
    }

    [Fact]
    public async Task EveryFrameType_MalformedFrames_AnswerOurErrorsKeepTheSocketsOpenAndStoreNothing()
    {
        var (me, partner, room, _) = await SetUpAsync();
        await using var userSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.UserSocket, me.AccessToken);
        await using var roomSocket = await ChatSocket.ConnectAsync(app.App, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), me.AccessToken);
        await userSocket.NextAsync("ready");
        await roomSocket.NextAsync("ready");
        var fuzz = new SocketFuzz(new Fuzzer(seed, overlongChars: 15_000, maxDepth: 2_500), room, partner.Id, me.AccessToken);
        var before = await StoredState.ReadAsync(app.App);
        var failures = new List<string>();
        var classes = new Dictionary<InputClass, int>();
        var errorCodes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();

        foreach (var frame in fuzz.Cases(Fuzzer.CasesPerTarget))
        {
            Count(classes, frame.Class);
            var socket = frame.ToRoomSocket ? roomSocket : userSocket;
            await socket.Socket.SendAsync(frame.Bytes, frame.Type, true, CancellationToken.None);
            // The socket handles frames in order: the probe's answer comes after whatever the case made it answer.
            var answered = await AnswersUntilProbeAsync(socket, frame.Number);
            if (answered is null)
            {
                failures.Add($"{frame} closed the socket ({(socket.IsClosed ? await socket.ClosedAsync() : null)}) or it stopped answering");
                break; // the rest would only repeat this
            }
            // A replay (sync) may repeat a message of before; a new one was stored by the case.
            if (answered.FirstOrDefault(f => f["type"]?.GetValue<string>() == "message.created" && f["seq"]!.GetValue<long>() > 1) is { } created)
            {
                failures.Add($"{frame} stored a message: {created.ToJsonString()}");
            }
            foreach (var error in answered.Where(f => f["type"]?.GetValue<string>() == "error"))
            {
                Count(errorCodes, error["code"].Text());
                if (ErrorText.InternalPart(error.ToJsonString()) is { } leak)
                {
                    failures.Add($"{frame} answered with internal text '{leak}': {error.ToJsonString()}");
                }
            }
        }

        output.WriteLine($"seed {seed}: {classes.Values.Sum()} frames over 10 frame types in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("classes: " + string.Join(", ", classes.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}")));
        output.WriteLine("error codes: " + string.Join(", ", errorCodes.Select(c => $"{c.Key} x{c.Value}")));
        failures.ShouldBeEmpty(Report(failures));
        foreach (var socket in new[] { userSocket, roomSocket })
        {
            await socket.SendTextAsync("""{"type":"ping"}""");
            await socket.NextAsync("pong");
        }
        StoredState.Changes(before, await StoredState.ReadAsync(app.App)).ShouldBeEmpty($"seed {seed}: malformed frames stored something");
    }

    /// <summary>A user with a partner, a room of theirs with the partner in it, a message there and a DM.</summary>
    private async Task<(Account Me, Account Partner, Guid Room, Guid Message)> SetUpAsync()
    {
        var me = await Api.RegisterAsync();
        var partner = await Api.RegisterAsync();
        var room = await Api.CreateRoomAsync(me, false, partner.Id);
        var message = await Api.PostMessageAsync(me, room, "original");
        await (await Api.As(me).PostAsync(ApiRoutes.DirectMessages, new { recipient_id = partner.Id, content = "dm" })).ShouldHaveStatus(System.Net.HttpStatusCode.Created);
        return (me, partner, room, Guid.Parse(message["id"].Text()));
    }

    private static string Fill(string route, string documentName) => route.Replace("{documentName}", documentName, StringComparison.Ordinal);

    private static void Count<T>(IDictionary<T, int> counts, T key) => counts[key] = counts.TryGetValue(key, out var n) ? n + 1 : 1;

    private string Report(List<string> failures) =>
        $"seed {seed} (replay with SLICECHAT_FUZZ_SEED={seed}): {failures.Count} failing cases\n" + string.Join("\n", failures.Take(25));

    /// <summary>What is wrong with the answer to a malformed request, or null.</summary>
    private static async Task<string?> FaultOf(HttpResponseMessage response, bool mustFail)
    {
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        if (status >= 500 || status < 400 && mustFail)
        {
            return $"answered {status}: {text}";
        }
        if (status < 400)
        {
            return null;
        }
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"answered {status} as {response.Content.Headers.ContentType}: {text}";
        }
        try
        {
            var problem = JsonNode.Parse(text)!;
            if (problem["status"]?.GetValue<int>() != status || string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>())
                || string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()))
            {
                return $"answered {status} with a problem lacking status, title or detail: {text}";
            }
        }
        catch (JsonException)
        {
            return $"answered {status} with a body that is not JSON: {text}";
        }
        return ErrorText.InternalPart(text) is { } leak ? $"answered {status} with internal text '{leak}': {text}" : null;
    }

    /// <summary>
    /// Sends a frame of an unknown type that names the case, and returns the frames that came before its error
    /// (those the case made the socket answer); null when the socket closed or stopped answering.
    /// </summary>
    private static async Task<List<JsonNode>?> AnswersUntilProbeAsync(ChatSocket socket, int caseNumber)
    {
        var probe = $"fuzz.probe.{caseNumber}";
        await socket.SendAsync(new { type = probe });
        var frames = new List<JsonNode>();
        try
        {
            while (true)
            {
                var frame = await socket.NextAsync(_ => true, TimeSpan.FromSeconds(5));
                if (frame["code"]?.GetValue<string>() == "unknown_type" && frame["message"]!.GetValue<string>().Contains($"'{probe}'", StringComparison.Ordinal))
                {
                    return frames;
                }
                frames.Add(frame);
            }
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}

public sealed class PostgresFuzzTests(PostgresApp app, ITestOutputHelper output) : FuzzTests(app, output), IClassFixture<PostgresApp>;

public sealed class SqliteFuzzTests(SqliteApp app, ITestOutputHelper output) : FuzzTests(app, output), IClassFixture<SqliteApp>;
