using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using SliceChat.Features;

namespace SliceChat.Tests.Support;

/// <summary>
/// A room client as a real one behaves behind a load balancer: when its socket closes (1001 from a stopping
/// instance, or a broken link) it connects again, asks for what came after the last seq it saw with <c>sync</c>,
/// and sends again, with the same client_message_id, what it sent and has not seen stored.
/// </summary>
public sealed class ReconnectingClient : IAsyncDisposable
{
    private readonly Uri server;
    private readonly Guid room;
    private readonly string token;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, string> unacknowledged = new(); // client_message_id -> content
    private readonly Lock gate = new();
    private readonly List<long> seqs = [];
    private readonly HashSet<long> seen = [];
    private long contiguous;
    private readonly Task loop;
    private ChatSocket? socket;
    private TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ReconnectingClient(Uri server, Guid room, string token)
    {
        this.server = server;
        this.room = room;
        this.token = token;
        loop = Task.Run(RunAsync);
    }

    /// <summary>How many times the socket was opened again after it closed.</summary>
    public int Reconnects { get; private set; }

    /// <summary>The seqs of message.created events, in the order they arrived (over every socket).</summary>
    public IReadOnlyList<long> Seqs
    {
        get
        {
            lock (gate)
            {
                return [.. seqs];
            }
        }
    }

    /// <summary>
    /// The highest seq up to which the client has every message: what it syncs after. A live event that arrives
    /// between a new socket's ready and the replay of its sync may come before the replay and again in it, so
    /// like any client it puts messages in place by seq.
    /// </summary>
    public long LastSeq
    {
        get
        {
            lock (gate)
            {
                return contiguous;
            }
        }
    }

    public int Unacknowledged => unacknowledged.Count;

    public Task Connected => connected.Task;

    /// <summary>Sends on the socket now (if one is open); it is sent again after a reconnect until it is seen stored.</summary>
    public async Task SendAsync(string content, string clientMessageId)
    {
        unacknowledged[clientMessageId] = content;
        if (socket is { } open)
        {
            try
            {
                await open.SendAsync(new { content, client_message_id = clientMessageId });
            }
            catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The socket is going; the reconnect sends it again.
            }
        }
    }

    /// <summary>Sends every unacknowledged message again.</summary>
    public async Task ResendAsync()
    {
        foreach (var (id, content) in unacknowledged.ToArray())
        {
            await SendAsync(content, id);
        }
    }

    private async Task RunAsync()
    {
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            ChatSocket opened;
            try
            {
                opened = await ChatSocket.ConnectAsync(server, ApiRoutes.Fill(ApiRoutes.RoomSocket, room), token);
                await opened.NextAsync("ready", TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or HttpRequestException or OperationCanceledException)
            {
                await Task.Delay(200);
                continue;
            }
            if (!first)
            {
                Reconnects++;
                await opened.SendAsync(new { type = "sync", chatroom_id = room, after_seq = LastSeq });
            }
            first = false;
            socket = opened;
            connected.TrySetResult();
            if (Reconnects > 0)
            {
                await ResendAsync();
            }
            await ReadUntilClosedAsync(opened);
            socket = null;
            connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
            await opened.DisposeAsync();
        }
    }

    private async Task ReadUntilClosedAsync(ChatSocket opened)
    {
        while (!stop.IsCancellationRequested)
        {
            JsonNode frame;
            try
            {
                frame = await opened.NextAsync(_ => true, TimeSpan.FromSeconds(1));
            }
            catch (TimeoutException)
            {
                if (opened.IsClosed)
                {
                    return;
                }
                continue;
            }
            if (frame["type"]?.GetValue<string>() == "message.created")
            {
                lock (gate)
                {
                    var seq = frame["seq"]!.GetValue<long>();
                    seqs.Add(seq);
                    seen.Add(seq);
                    while (seen.Contains(contiguous + 1))
                    {
                        contiguous++;
                    }
                }
                if (frame["client_message_id"]?.GetValue<string>() is { } id)
                {
                    unacknowledged.TryRemove(id, out _);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAny(loop, Task.Delay(5000));
        if (socket is { } open)
        {
            await open.DisposeAsync();
        }
        stop.Dispose();
    }
}
