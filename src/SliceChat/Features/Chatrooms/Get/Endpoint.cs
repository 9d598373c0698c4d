using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Get;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}";

    public static string RouteFor(Guid id) => $"/api/v1/chatrooms/{id}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("GetChatroom").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("A room visible to the caller");

    public static async Task<Results<Ok<RoomResponse>, ProblemHttpResult>> Handle(Guid id, CurrentUser user, ChatroomAccess access, ChatDbContext db, CancellationToken ct)
    {
        if (await access.FindGroupAsync(id, user.Id, ct) is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        return TypedResults.Ok(await db.Responses(db.Chatrooms.Where(r => r.Id == id)).SingleAsync(ct));
    }
}
