using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.Members;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/members";

    public static string RouteFor(Guid id) => $"/api/v1/chatrooms/{id}/members";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("ListMembers").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("Members of a visible room (never their emails)");

    public static async Task<Results<Ok<List<MemberResponse>>, ProblemHttpResult>> Handle(Guid id, CurrentUser user, ChatroomAccess access, ChatDbContext db, CancellationToken ct)
    {
        if (await access.FindGroupAsync(id, user.Id, ct) is null)
        {
            return Problems.NotFound("No such chatroom.");
        }
        var members = await db.MemberResponses(m => m.ChatroomId == id).ToListAsync(ct);
        return TypedResults.Ok(members);
    }
}
