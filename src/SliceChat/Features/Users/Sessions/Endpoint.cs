using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.Sessions;

public sealed record Request : CallerRequest
{
    [FromClaim(Claims.SessionId)]
    public Guid SessionId { get; init; }
}

public sealed record Response(Guid Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, string? UserAgent, bool Current);

public sealed class Endpoint(LoginSessions sessions) : Endpoint<Request, Ok<List<Response>>>
{
    public override void Configure()
    {
        Get(ApiRoutes.Sessions);
        Summary(s =>
        {
            s.Summary = "The caller's live login sessions, newest first";
            s.Description = "current marks the session of the token that asks; last_used_at is its last login or refresh.";
        });
    }

    public override async Task<Ok<List<Response>>> ExecuteAsync(Request request, CancellationToken ct)
    {
        var live = await sessions.Live(request.CallerId).AsNoTracking()
            .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id)
            .Select(s => new Response(s.Id, s.CreatedAt, s.LastUsedAt, s.UserAgent, s.Id == request.SessionId))
            .ToListAsync(ct);
        return TypedResults.Ok(live);
    }
}
