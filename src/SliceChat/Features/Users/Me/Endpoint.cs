using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Me;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/users/me";
    public const string AliasRoute = "/api/v1/auth/me";

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(Route, Handle).WithName("GetMe").WithTags("Users").RequireAuthorization().WithSummary("The caller's account");
        app.MapGet(AliasRoute, Handle).WithName("GetMeAlias").WithTags("Auth").RequireAuthorization().WithSummary("The caller's account (alias)");
    }

    public static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Handle(CurrentUser current, ChatDbContext db, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == current.Id && u.DeletedAt == null, ct);
        return user is null ? Problems.Unauthorized("The account no longer exists.") : TypedResults.Ok(UserResponse.From(user));
    }
}
