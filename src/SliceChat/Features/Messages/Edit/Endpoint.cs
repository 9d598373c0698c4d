using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.Edit;

public sealed record Request(string? Content);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator() => RuleFor(r => r.Content).ValidContent();
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/messages/{id:guid}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPatch(Route, Handle).WithName("EditMessage").WithTags("Messages").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Edit one's own message");

    public static async Task<Results<Ok<MessageResponse>, ValidationProblem, ProblemHttpResult>> Handle(
        Guid id, Request request, CurrentUser user, ChatDbContext db, ChatEvents events, CancellationToken ct)
    {
        var (message, check) = await AuthoredMessage.FindAsync(db, id, user.Id, ct);
        if (check == AuthorCheck.NotAuthor)
        {
            return Problems.Forbidden("Only the author edits a message.");
        }
        if (message is null)
        {
            return Problems.NotFound("No such message.");
        }
        // Conditional: an edit racing a delete must not bring the content back.
        var editedAt = Clock.Now();
        var edited = await db.Messages.Where(m => m.Id == message.Id && m.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Content, request.Content!).SetProperty(m => m.EditedAt, editedAt), ct);
        if (edited == 0)
        {
            return Problems.NotFound("No such message.");
        }
        var response = await db.Messages.Where(m => m.Id == message.Id).Responses(db).SingleAsync(ct);
        await events.PublishAsync(message.ChatroomId, ChatEvents.MessageUpdated, response);
        return TypedResults.Ok(response);
    }
}
