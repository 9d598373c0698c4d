using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Conversations.MarkRead;

public sealed record Request(long? Seq);

public sealed class Validator : AbstractValidator<Request>
{
    public Validator() => RuleFor(r => r.Seq).NotNull().GreaterThanOrEqualTo(ReadMarkers.MinSeq);
}

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms/{id:guid}/read";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("MarkRead").WithTags("Conversations").RequireAuthorization().WithValidation<Request>()
            .WithSummary("Move the caller's read marker forward (never past the newest message)");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Handle(
        Guid id, Request request, CurrentUser user, ReadMarkers markers, CancellationToken ct) =>
        await markers.MarkAsync(id, user.Id, request.Seq!.Value, ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("No such chatroom, or you are not a member.");
}
