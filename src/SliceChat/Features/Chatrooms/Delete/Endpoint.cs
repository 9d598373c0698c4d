using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Attachments;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Delete;

public sealed record Request : ChatroomRequest;

public sealed class Endpoint(ChatroomAccess access, ChatEvents events, ChatDbContext db, AttachmentCleanup attachments) : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete(ApiRoutes.Chatroom);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s => s.Summary = "Delete a room with its members and messages (owner only)");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        if (!room.IsOwner)
        {
            return Problems.Forbidden("Only the owner deletes a room.");
        }
        // Members, messages and their attachments go with the room (cascading foreign keys); then the attachments' files.
        await attachments.DeleteOfRoomAsync(request.Id, () => db.Chatrooms.Where(r => r.Id == request.Id).ExecuteDeleteAsync(ct), ct);
        await events.ChatroomDeletedAsync(request.Id);
        return TypedResults.NoContent();
    }
}
