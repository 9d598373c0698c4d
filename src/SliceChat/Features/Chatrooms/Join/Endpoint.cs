using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Join;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/join";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("JoinChatroom").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("Join a public room (idempotent)");

    public static async Task<Results<Ok<RoomResponse>, ProblemHttpResult>> Handle(
        Guid id, CurrentUser user, ChatroomAccess access, Membership membership, ChatDbContext db, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(id, user.Id, ct);
        if (room is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        if (!room.IsMember && !await membership.AddAsync(room.Room.Id, user.Id, MemberRole.Member, ct))
        {
            return Problems.NotFound("No such chatroom.");
        }
        return TypedResults.Ok(await db.Responses(db.Chatrooms.Where(r => r.Id == id)).SingleAsync(ct));
    }
}
