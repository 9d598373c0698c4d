using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
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
        message.Content = request.Content!;
        message.EditedAt = Clock.Now();
        await db.SaveChangesAsync(ct);
        var response = MessageMapper.From(message, user.Username);
        await events.PublishAsync(message.ChatroomId, ChatEvents.MessageUpdated, response);
        return TypedResults.Ok(response);
    }
}
