using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Messages.Delete;

public sealed record Request : CallerRequest
{
    [RouteParam]
    public Guid Id { get; init; }
}

public sealed class Endpoint(AuthoredMessages messages) : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete(ApiRoutes.Message);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s => s.Summary = "Delete one's own message: its content goes, its seq stays");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var (outcome, _) = await messages.ChangeAsync(request.Id, request.CallerId, content: "", delete: true, ct);
        return outcome switch
        {
            AuthoredChange.Done => TypedResults.NoContent(),
            AuthoredChange.NotAuthor => Problems.Forbidden("Only the author deletes a message."),
            _ => Problems.NotFound("No such message."),
        };
    }
}
