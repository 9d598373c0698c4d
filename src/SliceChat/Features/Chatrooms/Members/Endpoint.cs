using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Members;

public sealed record Request : ChatroomRequest;

public sealed class Endpoint(ChatroomAccess access, ChatDbContext db) : Endpoint<Request, Results<Ok<List<MemberResponse>>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Members);
        Summary(s => s.Summary = "Members of a visible room (never their emails; read markers only for members)");
    }

    public override async Task<Results<Ok<List<MemberResponse>>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        // Who has read how far is for fellow members, not for anyone browsing a public room.
        return TypedResults.Ok(await db.MemberResponses(m => m.ChatroomId == request.Id, showReadMarkers: room.IsMember, request.CallerId).ToListAsync(ct));
    }
}
