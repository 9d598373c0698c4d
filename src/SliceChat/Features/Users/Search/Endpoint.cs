using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SliceChat.Infrastructure.Limits;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Search;

public sealed record SearchQuery(string? Query, int? Limit);

public sealed record Response(Guid Id, string Username);

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/users";
    private const int DefaultLimit = 20;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("SearchUsers").WithTags("Users").RequireAuthorization()
            .WithSummary("Users whose name starts with the query, to find DM partners");

    public static async Task<Results<Ok<List<Response>>, ValidationProblem>> Handle(
        [AsParameters] SearchQuery query, ChatDbContext db, IOptions<LimitsOptions> limits, CancellationToken ct)
    {
        var max = limits.Value.MaxSearchResults;
        var limit = query.Limit ?? Math.Min(DefaultLimit, max);
        if (limit < 1 || limit > max)
        {
            return Problems.Invalid("limit", $"limit must be between 1 and {max}.");
        }
        var prefix = UserRules.Normalize(query.Query ?? "");
        if (prefix.Length > UserRules.UsernameMax)
        {
            return Problems.Invalid("query", $"query must be at most {UserRules.UsernameMax} characters.");
        }
        var users = await db.Users.AsNoTracking()
            .Where(u => u.DeletedAt == null && u.NormalizedUsername.StartsWith(prefix))
            .OrderBy(u => u.NormalizedUsername)
            .Take(limit)
            .Select(u => new Response(u.Id, u.Username))
            .ToListAsync(ct);
        return TypedResults.Ok(users);
    }
}
