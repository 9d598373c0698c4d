using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.RemoveMember;

public sealed record Request : ChatroomRequest
{
    /// <summary>A member's id, or <c>me</c>.</summary>
    [RouteParam]
    public string UserId { get; init; } = "";
}

public sealed class Endpoint(ChatroomAccess access, Membership membership, ChatDbContext db) : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public const string Me = "me";

    public override void Configure()
    {
        Delete(ApiRoutes.Member);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s => s.Summary = "The owner removes a member; 'me' (or one's own id) leaves");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        Guid target;
        if (request.UserId == Me)
        {
            target = request.CallerId;
        }
        else if (!Guid.TryParse(request.UserId, out target))
        {
            return Problems.NotFound("No such member.");
        }

        var room = await access.FindGroupAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        if (target != request.CallerId && !room.IsOwner)
        {
            return Problems.Forbidden("Only the owner removes members.");
        }
        if (!await db.Members.AnyAsync(m => m.ChatroomId == request.Id && m.UserId == target, ct))
        {
            return Problems.NotFound("No such member.");
        }
        await membership.RemoveAsync(request.Id, target, ct);
        return TypedResults.NoContent();
    }
}
