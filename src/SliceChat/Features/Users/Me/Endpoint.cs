using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Accounts;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Me;

public sealed record Request : CallerRequest;

public sealed class Endpoint(ChatDbContext db) : Endpoint<Request, Results<Ok<UserResponse>, ProblemHttpResult>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Me, ApiRoutes.AuthMe);
        Summary(s => s.Summary = "The caller's account (the only view that shows its email)");
    }

    public override async Task<Results<Ok<UserResponse>, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == request.CallerId && u.DeletedAt == null, ct);
        return user is null ? Problems.Unauthorized("The account no longer exists.") : TypedResults.Ok(UserResponse.From(user));
    }
}
