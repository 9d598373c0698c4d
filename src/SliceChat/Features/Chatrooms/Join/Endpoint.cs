using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Join;

public sealed record Request : ChatroomRequest;

public sealed class Endpoint(ChatroomAccess access, Membership membership, ChatDbContext db) : Endpoint<Request, Results<Ok<RoomResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.JoinChatroom);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s => s.Summary = "Join a public room (idempotent)");
    }

    public override async Task<Results<Ok<RoomResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(request.Id, request.CallerId, ct);
        if (room is null || (!room.IsMember && !await membership.AddAsync(request.Id, request.CallerId, MemberRole.Member, ct)))
        {
            return Problems.ChatroomNotFound();
        }
        return TypedResults.Ok(await db.RoomResponseAsync(request.Id, ct));
    }
}
