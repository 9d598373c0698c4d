using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>
/// The WebSocket endpoints. Everything that can refuse a socket (token, room visibility, membership)
/// answers before the upgrade, as plain HTTP problem details.
/// </summary>
public sealed class Endpoint : IEndpoint
{
    public const string UserRoute = "/ws/chat";
    public const string RoomRoute = "/ws/chatrooms/{id:guid}";
    public const string RoomAliasRoute = "/api/v1/ws/chatrooms/{id:guid}";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(UserRoute, HandleUser).WithName("UserSocket").WithTags("Realtime").RequireAuthorization()
            .WithSummary("WebSocket carrying every conversation of the user (token by header or ?token=)");
        app.MapGet(RoomRoute, HandleRoom).WithName("RoomSocket").WithTags("Realtime").RequireAuthorization()
            .WithSummary("WebSocket scoped to one room");
        app.MapGet(RoomAliasRoute, HandleRoom).WithName("RoomSocketAlias").WithTags("Realtime").RequireAuthorization()
            .WithSummary("WebSocket scoped to one room (alias)");
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> HandleUser(HttpContext http, CurrentUser user)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadRequest("This endpoint only speaks WebSocket.");
        }
        using var session = Session(http);
        await session.RunAsync(http, user, ExpiresAt(http), SocketScope.User, null);
        return TypedResults.Empty;
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> HandleRoom(Guid id, HttpContext http, CurrentUser user, ChatroomAccess access)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return Problems.BadRequest("This endpoint only speaks WebSocket.");
        }
        var room = await access.FindAsync(id, user.Id, http.RequestAborted);
        if (room is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        if (!room.IsMember)
        {
            return Problems.Forbidden("You are not a member of this chatroom.");
        }
        using var session = Session(http);
        await session.RunAsync(http, user, ExpiresAt(http), SocketScope.Room, id);
        return TypedResults.Empty;
    }

    private static SocketSession Session(HttpContext http) => ActivatorUtilities.CreateInstance<SocketSession>(http.RequestServices);

    private static DateTimeOffset ExpiresAt(HttpContext http) =>
        DateTimeOffset.FromUnixTimeSeconds(long.Parse(http.User.FindFirst("exp")!.Value, CultureInfo.InvariantCulture));
}
