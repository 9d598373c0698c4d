using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Mute;

public sealed record Request : ChatroomRequest
{
    public bool? Muted { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.Muted).NotNull();
}

public sealed class Endpoint(ChatroomAccess access, ChatDbContext db) : Endpoint<Request, Results<Ok<MemberResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Patch(ApiRoutes.Membership);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s =>
        {
            s.Summary = "Mute or unmute a conversation for the caller: a muted conversation sends no offline notifications";
            s.Description = "Any conversation the caller is a member of, direct or group; 404 when it is not visible, 403 when visible but not a member.";
        });
    }

    public override async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        var muted = request.Muted!.Value;
        var mine = db.Members.Where(m => m.ChatroomId == request.Id && m.UserId == request.CallerId);
        if (!room.IsMember || await mine.ExecuteUpdateAsync(s => s.SetProperty(m => m.Muted, muted), ct) == 0)
        {
            return Problems.Forbidden("You are not a member of this conversation.");
        }
        return TypedResults.Ok(await db.MemberResponses(m => m.ChatroomId == request.Id && m.UserId == request.CallerId, showReadMarkers: true,
            request.CallerId).SingleAsync(ct));
    }
}
