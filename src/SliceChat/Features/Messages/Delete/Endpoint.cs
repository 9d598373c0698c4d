using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.Delete;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/messages/{id:guid}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete(Route, Handle).WithName("DeleteMessage").WithTags("Messages").RequireAuthorization()
            .WithSummary("Delete one's own message: its content goes, its seq stays");

    public static async Task<Results<NoContent, ProblemHttpResult>> Handle(Guid id, CurrentUser user, ChatDbContext db, ChatEvents events, CancellationToken ct)
    {
        var (message, check) = await AuthoredMessage.FindAsync(db, id, user.Id, ct);
        if (check == AuthorCheck.NotAuthor)
        {
            return Problems.Forbidden("Only the author deletes a message.");
        }
        if (message is null)
        {
            return Problems.NotFound("No such message.");
        }
        var deletedAt = Clock.Now();
        var deleted = await db.Messages.Where(m => m.Id == message.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, "").SetProperty(m => m.DeletedAt, deletedAt), ct);
        if (deleted == 0)
        {
            return Problems.NotFound("No such message.");
        }
        await events.PublishAsync(message.ChatroomId, ChatEvents.MessageDeleted, await db.Messages.Where(m => m.Id == message.Id).Responses(db).SingleAsync(ct));
        return TypedResults.NoContent();
    }
}
