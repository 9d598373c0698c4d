using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

public sealed record Request : CallerRequest
{
    /// <summary>Set on a room socket's route; a user socket has none.</summary>
    [RouteParam]
    public Guid? ChatroomId { get; init; }

    [FromClaim(Claims.Username)]
    public string Username { get; init; } = "";

    [FromClaim(Claims.SessionId)]
    public Guid SessionId { get; init; }

    /// <summary>The access token's expiry (unix seconds): the socket closes with 4401 then, unless an <c>auth</c> frame extends it.</summary>
    [FromClaim(Claims.ExpiresAt)]
    public long ExpiresAt { get; init; }
}

/// <summary>
/// The WebSocket endpoints: a GET that accepts the upgrade. Everything that can refuse a socket (token, room
/// visibility, membership, the user's <c>Limits:SocketsPerUser</c>) answers before the upgrade, as plain HTTP problem details.
/// </summary>
public sealed class Endpoint(CoalescedRoomAccess access, SocketSlots slots, TimeProvider time) : Endpoint<Request, Results<EmptyHttpResult, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.UserSocket, ApiRoutes.RoomSocket, ApiRoutes.RoomSocketAlias);
        Summary(s =>
        {
            s.Summary = "WebSocket: /ws/chat carries every conversation of the user, /ws/chatrooms/{chatroom_id} one room";
            s.Description = "Token by Authorization header or ?token=. The frames are described on the docs page.";
        });
    }

    public override async Task<Results<EmptyHttpResult, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        if (!HttpContext.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadRequest("This endpoint only speaks WebSocket.");
        }
        long? checkedAt = null;
        if (request.ChatroomId is { } chatroomId)
        {
            checkedAt = time.GetTimestamp();
            var room = await access.FindAsync(chatroomId, request.CallerId, ct);
            if (room is null)
            {
                return Problems.ChatroomNotFound();
            }
            if (!room.IsMember)
            {
                return Problems.Forbidden("You are not a member of this chatroom.");
            }
        }
        await using var slot = await slots.TryClaimAsync(request.CallerId);
        if (slot is null)
        {
            return Problems.TooManyRequests(HttpContext, SocketSlots.RetryAfter, $"You have {slots.Cap} sockets open, the most allowed; close one");
        }
        using var session = ActivatorUtilities.CreateInstance<SocketSession>(HttpContext.RequestServices);
        await session.RunAsync(HttpContext, new CurrentUser(request.CallerId, request.Username, request.SessionId),
            DateTimeOffset.FromUnixTimeSeconds(request.ExpiresAt),
            request.ChatroomId is null ? SocketScope.User : SocketScope.Room, request.ChatroomId, checkedAt, slot);
        return TypedResults.Empty;
    }
}
