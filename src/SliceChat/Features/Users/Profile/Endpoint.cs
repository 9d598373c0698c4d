using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Profile;

public sealed record Request
{
    [RouteParam]
    public Guid Id { get; init; }
}

public sealed record Response(Guid Id, string Username, DateTimeOffset CreatedAt);

public sealed class Endpoint(ChatDbContext db) : Endpoint<Request, Results<Ok<Response>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.User);
        Summary(s => s.Summary = "A user's public profile (never the email)");
    }

    public override async Task<Results<Ok<Response>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == request.Id && u.DeletedAt == null)
            .Select(Mapper.Projection)
            .FirstOrDefaultAsync(ct);
        return user is null ? Problems.NotFound("No such user.") : TypedResults.Ok(user);
    }
}
