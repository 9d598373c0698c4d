using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Conversations.MarkRead;

public sealed record Request : ChatroomRequest
{
    public long? Seq { get; init; }
}

public sealed class Validator : Validator<Request>
{
    public Validator() => RuleFor(r => r.Seq).NotNull().GreaterThanOrEqualTo(ReadMarkers.MinSeq);
}

public sealed class Endpoint(ChatroomAccess access, ReadMarkers markers) : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Post(ApiRoutes.ReadMarker);
        Options(b => b.RateLimited(RateLimitPolicies.Writes));
        Summary(s =>
        {
            s.Summary = "Move the caller's read marker forward (never past the newest message)";
            s.ExampleRequest = new Request { Seq = 42 };
        });
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var room = await access.FindAsync(request.Id, request.CallerId, ct);
        if (room is null)
        {
            return Problems.ChatroomNotFound();
        }
        // A membership that ends between the check and the write is as good as none.
        return room.IsMember && await markers.MarkAsync(request.Id, request.CallerId, request.Seq!.Value, ct)
            ? TypedResults.NoContent()
            : Problems.Forbidden("You are not a member of this chatroom.");
    }
}
