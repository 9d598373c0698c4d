using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.RemoveMember;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/members/{userId}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete(Route, Handle).WithName("RemoveMember").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("The owner removes a member; 'me' (or one's own id) leaves");

    public static async Task<Results<NoContent, ProblemHttpResult>> Handle(
        Guid id, string userId, CurrentUser user, ChatroomAccess access, Membership membership, ChatDbContext db, CancellationToken ct)
    {
        Guid target;
        if (userId == "me")
        {
            target = user.Id;
        }
        else if (!Guid.TryParse(userId, out target))
        {
            return Problems.NotFound("No such member.");
        }

        var room = await access.FindGroupAsync(id, user.Id, ct);
        if (room is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        if (target != user.Id && !room.IsOwner)
        {
            return Problems.Forbidden("Only the owner removes members.");
        }
        if (!await db.Members.AnyAsync(m => m.ChatroomId == id && m.UserId == target, ct))
        {
            return Problems.NotFound("No such member.");
        }
        await membership.RemoveAsync(id, target, ct);
        return TypedResults.NoContent();
    }
}
