using FastEndpoints;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Conversations;
using SliceChat.Infrastructure.Persistence;
using SliceChat.Infrastructure.Persistence.Entities;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Chatrooms.List;

public sealed record Request : CallerRequest
{
    /// <summary><c>joined</c> (default): rooms I am in; <c>public</c>: discoverable public rooms.</summary>
    [QueryParam]
    public string? Scope { get; init; }
    [QueryParam]
    public int? Limit { get; init; }
    /// <summary>The id of the last room of the previous page.</summary>
    [QueryParam]
    public Guid? Before { get; init; }
}

public sealed record Response(List<RoomResponse> Items, bool HasMore);

public sealed class Validator : Validator<Request>
{
    public Validator()
    {
        RuleFor(r => r.Scope).Must(s => s is null or Endpoint.Joined or Endpoint.Public).WithMessage("scope must be 'joined' or 'public'.");
        RuleFor(r => r.Limit).ValidLimit(Endpoint.MaxLimit);
    }
}

public sealed class Endpoint(ChatDbContext db) : Endpoint<Request, Ok<Response>>
{
    public const string Joined = "joined", Public = "public";
    public const int DefaultLimit = 50, MaxLimit = 100;

    public override void Configure()
    {
        Get(ApiRoutes.Chatrooms);
        Summary(s => s.Summary = "Rooms I am in (scope=joined) or discoverable public rooms (scope=public), newest first");
    }

    public override async Task<Ok<Response>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var limit = request.Limit ?? DefaultLimit;
        var rooms = db.Chatrooms.AsNoTracking().Where(r => r.Kind == ChatroomKind.Group);
        rooms = request.Scope == Public
            ? rooms.Where(r => !r.IsPrivate)
            : rooms.Where(r => db.Members.Any(m => m.ChatroomId == r.Id && m.UserId == request.CallerId));
        if (request.Before is { } before)
        {
            // Ids are time-ordered (UUID v7): the keyset is the id itself.
            rooms = rooms.Where(r => r.Id.CompareTo(before) < 0);
        }
        var page = await db.Responses(rooms.OrderByDescending(r => r.Id).Take(limit + 1)).ToListAsync(ct);
        return TypedResults.Ok(new Response(page.Take(limit).ToList(), page.Count > limit));
    }
}
