using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.DmHistory;

public sealed record Request : HistoryPageRequest
{
    [RouteParam]
    public Guid UserId { get; init; }
}

public sealed class Validator : HistoryPageValidator<Request>;

public sealed class Endpoint(ChatDbContext db, MessageHistory history) : Endpoint<Request, Results<Ok<MessagePage>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.DirectHistory);
        Summary(s => s.Summary = "A page of the direct conversation with a user; empty if the pair never talked");
    }

    public override async Task<Results<Ok<MessagePage>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        if (!await db.Users.AnyAsync(u => u.Id == request.UserId, ct))
        {
            return Problems.NotFound("No such user.");
        }
        var key = Chatroom.DirectKeyOf(request.CallerId, request.UserId);
        var chatroomId = await db.Chatrooms.Where(c => c.DirectKey == key).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
        return TypedResults.Ok(chatroomId is { } id ? await request.LoadAsync(history, id, ct) : new MessagePage([], false));
    }
}
