using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Leave;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/leave";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("LeaveChatroom").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("Leave a room; an owner who leaves hands the room to its longest-standing member");

    public static async Task<Results<NoContent, ProblemHttpResult>> Handle(Guid id, CurrentUser user, ChatroomAccess access, Membership membership, CancellationToken ct)
    {
        var room = await access.FindGroupAsync(id, user.Id, ct);
        if (room is null || !room.IsMember)
        {
            return Problems.NotFound(room is null ? "No such chatroom." : "You are not a member of this chatroom.");
        }
        await membership.RemoveAsync(id, user.Id, ct);
        return TypedResults.NoContent();
    }
}
