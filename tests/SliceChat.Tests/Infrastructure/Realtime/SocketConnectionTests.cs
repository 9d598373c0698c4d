using System.Net.WebSockets;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SliceChat.Infrastructure.Operations;
using SliceChat.Infrastructure.Realtime;

namespace SliceChat.Tests.Infrastructure.Realtime;

/// <summary>The bounded outbound queue of one socket, with no writer draining it (a client that does not read).</summary>
public sealed class SocketConnectionTests
{
    private const int Capacity = 8;
    private static readonly ReadOnlyMemory<byte> Frame = "{}"u8.ToArray();
    private static readonly AppMetrics Metrics = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private static SocketConnection Connection() => new(
        WebSocket.CreateFromStream(new MemoryStream(), new WebSocketCreationOptions { IsServer = true }),
        Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.MaxValue, SocketScope.User, null, Capacity, TimeSpan.FromSeconds(1),
        Metrics, NullLogger.Instance);

    [Fact]
    public void HalfFull_DropsEphemeralFrames_KeepsTheRest()
    {
        using var socket = Connection();
        for (var i = 0; i < Capacity / 2; i++)
        {
            socket.Enqueue(Frame, ephemeral: true).ShouldBeTrue();
        }
        socket.Enqueue(Frame, ephemeral: true).ShouldBeFalse();
        socket.Enqueue(Frame).ShouldBeTrue();
        socket.Queued.ShouldBe(Capacity / 2 + 1);
        socket.IsClosing.ShouldBeFalse();
    }

    [Fact]
    public void Full_ClosesWith1013_AndTakesNothingMore()
    {
        using var socket = Connection();
        for (var i = 0; i < Capacity; i++)
        {
            socket.Enqueue(Frame).ShouldBeTrue();
        }
        socket.Enqueue(Frame).ShouldBeFalse();
        socket.IsClosing.ShouldBeTrue();
        ((int?)socket.CloseStatus).ShouldBe(1013);
        socket.Enqueue(Frame).ShouldBeFalse();
        socket.Queued.ShouldBe(Capacity);
    }
}
