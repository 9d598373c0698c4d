using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.History;

public sealed record Request : HistoryPageRequest
{
    [RouteParam]
    public Guid Id { get; init; }
}

public sealed class Validator : HistoryPageValidator<Request>;

public sealed class Endpoint(ChatroomAccess access, MessageHistory history) : Endpoint<Request, Results<Ok<MessagePage>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.ChatroomMessages);
        Summary(s => s.Summary = "A page of a room's messages, ascending by seq (before_seq: older; after_seq: newer)");
    }

    public override async Task<Results<Ok<MessagePage>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        // One query for a member's page; only an empty one (no access, or nothing in that range) needs the access check.
        var page = await request.LoadAsMemberAsync(history, request.Id, ct);
        if (page.Items.Count > 0)
        {
            return TypedResults.Ok(page);
        }
        var room = await access.FindAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        if (!room.IsMember)
        {
            return Problems.Forbidden("You are not a member of this chatroom.");
        }
        return TypedResults.Ok(page);
    }
}
