using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Get;

public sealed record Request : ChatroomRequest;

public sealed class Endpoint(ChatroomAccess access, ChatDbContext db) : Endpoint<Request, Results<Ok<RoomResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Chatroom);
        Summary(s => s.Summary = "A room visible to the caller");
    }

    public override async Task<Results<Ok<RoomResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct) =>
        await access.FindGroupAsync(request.Id, request.CallerId, ct) is null
            ? Problems.ChatroomNotFound()
            : TypedResults.Ok(await db.RoomResponseAsync(request.Id, ct));
}
