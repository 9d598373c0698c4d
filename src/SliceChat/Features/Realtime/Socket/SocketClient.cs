using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>The socket a frame came in on and the user it belongs to; replies go out on the socket's queue.</summary>
public sealed record SocketClient(SocketConnection Connection, CurrentUser User)
{
    public void Reply(ReadOnlyMemory<byte> frame) => Connection.Enqueue(frame);
}
