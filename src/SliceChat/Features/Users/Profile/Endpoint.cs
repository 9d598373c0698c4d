using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Profile;

public sealed record Response(Guid Id, string Username, DateTimeOffset CreatedAt);

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/users/{id:guid}";

    public static string RouteFor(Guid id) => $"/api/v1/users/{id}";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("GetUser").WithTags("Users").RequireAuthorization()
            .WithSummary("A user's public profile (never the email)");

    public static async Task<Results<Ok<Response>, ProblemHttpResult>> Handle(Guid id, ChatDbContext db, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == id && u.DeletedAt == null)
            .Select(u => new Response(u.Id, u.Username, u.CreatedAt))
            .FirstOrDefaultAsync(ct);
        return user is null ? Problems.NotFound("No such user.") : TypedResults.Ok(user);
    }
}
