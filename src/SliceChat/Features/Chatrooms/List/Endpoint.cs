using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.List;

public sealed record ListQuery(string? Scope, int? Limit, Guid? Before);

public sealed record Response(List<RoomResponse> Items, bool HasMore);

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/chatrooms";
    public const int DefaultLimit = 50, MaxLimit = 100;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet(Route, Handle).WithName("ListChatrooms").WithTags("Chatrooms").RequireAuthorization()
            .WithSummary("Rooms I am in (scope=joined) or discoverable public rooms (scope=public), newest first");

    public static async Task<Results<Ok<Response>, ValidationProblem>> Handle([AsParameters] ListQuery query, CurrentUser user, ChatDbContext db, CancellationToken ct)
    {
        var scope = query.Scope ?? "joined";
        if (scope is not ("joined" or "public"))
        {
            return Problems.Invalid("scope", "scope must be 'joined' or 'public'.");
        }
        var limit = query.Limit ?? DefaultLimit;
        if (limit is < 1 or > MaxLimit)
        {
            return Problems.Invalid("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        var rooms = db.Chatrooms.AsNoTracking().Where(r => r.Kind == ChatroomKind.Group);
        rooms = scope == "public"
            ? rooms.Where(r => !r.IsPrivate)
            : rooms.Where(r => db.Members.Any(m => m.ChatroomId == r.Id && m.UserId == user.Id));
        if (query.Before is { } before)
        {
            // Ids are time-ordered (UUID v7): the keyset is the id itself.
            rooms = rooms.Where(r => r.Id.CompareTo(before) < 0);
        }
        var page = await db.Responses(rooms.OrderByDescending(r => r.Id).Take(limit + 1)).ToListAsync(ct);
        var hasMore = page.Count > limit;
        return TypedResults.Ok(new Response(page.Take(limit).ToList(), hasMore));
    }
}
