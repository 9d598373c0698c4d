using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.Edit;

public sealed record Request : CallerRequest
{
    [RouteParam]
    public Guid Id { get; init; }
    public string? Content { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.Content).ValidContent();
}

public sealed class Endpoint(AuthoredMessages messages) : Endpoint<Request, Results<Ok<MessageResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Patch(ApiRoutes.Message);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s =>
        {
            s.Summary = "Edit one's own message";
            s.ExampleRequest = new Request { Content = "Hello, room (edited)" };
        });
    }

    public override async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var (outcome, message) = await messages.ChangeAsync(request.Id, request.CallerId, request.Content!, delete: false, ct);
        return outcome switch
        {
            AuthoredChange.Done => TypedResults.Ok(message),
            AuthoredChange.NotAuthor => Problems.Forbidden("Only the author edits a message."),
            _ => Problems.NotFound("No such message."),
        };
    }
}
