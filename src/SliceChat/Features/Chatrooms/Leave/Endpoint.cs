using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Leave;

public sealed record Request : ChatroomRequest;

public sealed class Endpoint(ChatroomAccess access, Membership membership) : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.LeaveChatroom);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s => s.Summary = "Leave a room; an owner who leaves hands the room to its longest-standing member");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        if (!room.IsMember)
        {
            return Problems.NotFound("You are not a member of this chatroom.");
        }
        await membership.RemoveAsync(request.Id, request.CallerId, ct);
        return TypedResults.NoContent();
    }
}
