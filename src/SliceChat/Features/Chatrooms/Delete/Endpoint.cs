using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Delete;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete(Route, Handle).WithName("DeleteChatroom").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("Delete a room with its members and messages (owner only)");

    public static async Task<Results<NoContent, ProblemHttpResult>> Handle(Guid id, CurrentUser user, ChatroomAccess access, ChatEvents events, ChatDbContext db, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(id, user.Id, ct);
        if (room is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        if (!room.IsOwner)
        {
            return Problems.Forbidden("Only the owner deletes a room.");
        }
        // Members and messages go with the room (cascading foreign keys).
        await db.Chatrooms.Where(r => r.Id == id).ExecuteDeleteAsync(ct);
        await events.ChatroomDeletedAsync(id);
        return TypedResults.NoContent();
    }
}
