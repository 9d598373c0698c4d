using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Tests.Support;

/// <summary>A test client socket: frames are read in the background into a queue the test awaits.</summary>
public sealed class ChatSocket : IAsyncDisposable
{
    private readonly WebSocket socket;
    private readonly Channel<JsonNode> frames = Channel.CreateUnbounded<JsonNode>();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task reader;
    private readonly bool autoRead;

    private ChatSocket(WebSocket socket, bool autoRead)
    {
        this.socket = socket;
        this.autoRead = autoRead;
        reader = autoRead ? Task.Run(ReadLoopAsync) : Task.CompletedTask;
    }

    public WebSocket Socket => socket;

    /// <summary>Over the in-memory test server.</summary>
    public static async Task<ChatSocket> ConnectAsync(AppFactory app, string path, string token)
    {
        var client = app.Server.CreateWebSocketClient();
        client.ConfigureRequest = r => r.Headers.Authorization = $"Bearer {token}";
        var socket = await client.ConnectAsync(new Uri(app.Server.BaseAddress, path), CancellationToken.None);
        return new ChatSocket(socket, autoRead: true);
    }

    /// <summary>Over real TCP to a Kestrel instance; the token goes in the query string, as browsers send it.</summary>
    public static Task<ChatSocket> ConnectKestrelAsync(AppFactory app, string path, string token, bool autoRead = true, int? receiveBufferBytes = null) =>
        ConnectAsync(KestrelAddress(app, "ws"), path, token, autoRead, receiveBufferBytes);

    /// <summary>Over real TCP to <paramref name="server"/> (ws://host:port); the token goes in the query string, as browsers send it.</summary>
    public static async Task<ChatSocket> ConnectAsync(Uri server, string path, string token, bool autoRead = true, int? receiveBufferBytes = null)
    {
        var socket = new ClientWebSocket();
        if (receiveBufferBytes is { } size)
        {
            socket.Options.SetBuffer(size, 4096);
        }
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        await socket.ConnectAsync(new Uri(server, $"{path}{separator}token={token}"), CancellationToken.None);
        return new ChatSocket(socket, autoRead);
    }

    /// <summary>Over real TCP, once the server has said <c>ready</c>.</summary>
    public static async Task<ChatSocket> ReadyKestrelAsync(AppFactory app, string path, string token)
    {
        var socket = await ConnectKestrelAsync(app, path, token);
        await socket.NextAsync("ready");
        return socket;
    }

    public static async Task DisposeAllAsync(IEnumerable<ChatSocket> sockets)
    {
        foreach (var socket in sockets)
        {
            await socket.DisposeAsync();
        }
    }

    /// <summary>The HTTP status a refused handshake answered with.</summary>
    public static async Task<int> HandshakeStatusAsync(AppFactory app, string path, string? token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var query = token is null ? "" : $"?token={token}";
        try
        {
            await socket.ConnectAsync(new Uri(KestrelAddress(app, "ws"), path + query), CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        return (int)socket.HttpStatusCode;
    }

    public static Uri KestrelAddress(AppFactory app, string scheme)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new UriBuilder(address) { Scheme = scheme, Host = "127.0.0.1" }.Uri;
    }

    public Task SendAsync(object frame) =>
        SendTextAsync(JsonSerializer.Serialize(frame, frame.GetType(), SliceServices.JsonOptions));

    public Task SendTextAsync(string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next frame that satisfies <paramref name="match"/>; frames before it are skipped.</summary>
    public async Task<JsonNode> NextAsync(Func<JsonNode, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                var frame = await frames.Reader.ReadAsync(cts.Token);
                if (match(frame))
                {
                    return frame;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"No matching frame within {timeout ?? TimeSpan.FromSeconds(10)} (closed: {(closed.Task.IsCompleted ? closed.Task.Result : null)}).");
        }
    }

    public Task<JsonNode> NextAsync(string type, TimeSpan? timeout = null) => NextAsync(f => f["type"]?.GetValue<string>() == type, timeout);

    /// <summary>The frames that arrive within <paramref name="quiet"/>, without waiting past it.</summary>
    public async Task<List<JsonNode>> DrainAsync(TimeSpan quiet)
    {
        var list = new List<JsonNode>();
        while (true)
        {
            using var cts = new CancellationTokenSource(quiet);
            try
            {
                list.Add(await frames.Reader.ReadAsync(cts.Token));
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                return list;
            }
        }
    }

    /// <summary>The close code the server sent, once the socket has closed.</summary>
    public async Task<WebSocketCloseStatus?> ClosedAsync(TimeSpan? timeout = null) =>
        await closed.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));

    public bool IsClosed => closed.Task.IsCompleted;

    /// <summary>For a socket that did not read: read everything now, until the close frame.</summary>
    public async Task<(int Frames, WebSocketCloseStatus? Status)> ReadToCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        var count = 0;
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return (count, socket.CloseStatus);
                }
                if (result.EndOfMessage)
                {
                    count++;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            return (count, socket.CloseStatus);
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length).ToArraySegment(), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        closed.TrySetResult(socket.CloseStatus);
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                        }
                        return;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage);
                frames.Writer.TryWrite(JsonNode.Parse(buffer.AsSpan(0, length))!);
            }
        }
        catch (Exception)
        {
            closed.TrySetResult(socket.CloseStatus);
        }
        finally
        {
            frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
            }
        }
        if (autoRead)
        {
            await Task.WhenAny(reader, Task.Delay(2000));
        }
        socket.Abort();
        socket.Dispose();
    }
}

internal static class MemoryExtensions
{
    public static ArraySegment<byte> ToArraySegment(this Memory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(memory, out var segment) ? segment : throw new InvalidOperationException();
}
