using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.AddMember;

public sealed record Request(Guid? UserId);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator() => RuleFor(r => r.UserId).NotNull().NotEqual(Guid.Empty);
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/members";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("AddMember").WithTags("Chatrooms").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Add a user to a room: any member of a public room, only the owner of a private one");

    public static async Task<Results<Created<MemberResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Guid id, Request request, CurrentUser user, ChatroomAccess access, Membership membership, ChatDbContext db, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(id, user.Id, ct);
        if (room is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        if (!room.IsMember || (room.Room.IsPrivate && !room.IsOwner))
        {
            return Problems.Forbidden(room.Room.IsPrivate ? "Only the owner adds members to a private room." : "Only members add others to a room.");
        }
        var userId = request.UserId!.Value;
        if (!await db.Users.AnyAsync(u => u.Id == userId && u.DeletedAt == null, ct))
        {
            return Problems.NotFound("No such user.");
        }

        var alreadyMember = await db.Members.AnyAsync(m => m.ChatroomId == id && m.UserId == userId, ct);
        if (!alreadyMember && !await membership.AddAsync(id, userId, MemberRole.Member, ct))
        {
            return Problems.NotFound("No such chatroom.");
        }
        // Idempotent: adding a member again answers the same 201 with the membership as it stands.
        var member = await db.MemberResponses(m => m.ChatroomId == id && m.UserId == userId).SingleAsync(ct);
        return TypedResults.Created(Members.Endpoint.RouteFor(id), member);
    }
}
