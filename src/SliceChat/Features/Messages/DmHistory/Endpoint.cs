using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.DmHistory;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/messages/dm/{userId:guid}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("DirectHistory").WithTags("Messages").RequireAuthorization()
            .WithSummary("A page of the direct conversation with a user; empty if the pair never talked");

    public static async Task<Results<Ok<HistoryResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Guid userId, [AsParameters] PageQuery query, CurrentUser user, ChatDbContext db, MessageHistory history, CancellationToken ct)
    {
        if (HistoryPage.Validate(query) is { } invalid)
        {
            return invalid;
        }
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct))
        {
            return Problems.NotFound("No such user.");
        }
        var key = Chatroom.DirectKeyOf(user.Id, userId);
        var chatroomId = await db.Chatrooms.Where(c => c.DirectKey == key).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
        return TypedResults.Ok(chatroomId is { } id ? await HistoryPage.LoadAsync(history, id, query, ct) : HistoryResponse.Empty);
    }
}
