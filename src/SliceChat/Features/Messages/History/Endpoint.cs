using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.History;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/messages";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("RoomHistory").WithTags("Messages").RequireAuthorization()
            .WithSummary("A page of a conversation's messages, ascending by seq");

    public static async Task<Results<Ok<HistoryResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Guid id, [AsParameters] PageQuery query, CurrentUser user, ChatroomAccess access, MessageHistory history, CancellationToken ct)
    {
        if (HistoryPage.Validate(query) is { } invalid)
        {
            return invalid;
        }
        var room = await access.FindAsync(id, user.Id, ct);
        if (room is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        if (!room.IsMember)
        {
            return Problems.Forbidden("You are not a member of this chatroom.");
        }
        return TypedResults.Ok(await HistoryPage.LoadAsync(history, id, query, ct));
    }
}
