using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.AddMember;

public sealed record Request : ChatroomRequest
{
    public Guid? UserId { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.UserId).NotNull().NotEqual(Guid.Empty);
}

public sealed class Endpoint(ChatroomAccess access, Membership membership, ChatDbContext db)
    : Endpoint<Request, Results<Created<MemberResponse>, Ok<MemberResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.Members);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s =>
        {
            s.Summary = "Add a user to a room: any member of a public room, only the owner of a private one";
            s.Description = "201 with the new membership; 200 with the existing one when the user already is a member.";
        });
    }

    public override async Task<Results<Created<MemberResponse>, Ok<MemberResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
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

        var alreadyMember = await db.Members.AnyAsync(m => m.ChatroomId == request.Id && m.UserId == userId, ct);
        if (!alreadyMember && !await membership.AddAsync(request.Id, userId, MemberRole.Member, ct))
        {
            return Problems.ChatroomNotFound();
        }
        var member = await db.MemberResponses(m => m.ChatroomId == request.Id && m.UserId == userId, showReadMarkers: true, request.CallerId).SingleAsync(ct);
        // Idempotent: adding a member again answers 200 with the membership as it stands.
        return alreadyMember ? TypedResults.Ok(member) : TypedResults.Created(ApiRoutes.Fill(ApiRoutes.Members, request.Id), member);
    }
}
