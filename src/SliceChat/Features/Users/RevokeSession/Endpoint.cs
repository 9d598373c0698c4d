using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.RevokeSession;

public sealed record Request : CallerRequest
{
    [RouteParam]
    public Guid Id { get; init; }
}

public sealed class Endpoint(LoginSessions sessions) : Endpoint<Request, Results<NoContent, ProblemHttpResult>>
{
    public override void Configure()
    {
        Delete(ApiRoutes.Session);
        Summary(s => s.Summary = "Revoke one of the caller's login sessions, as logout does, on every instance");
    }

    public override async Task<Results<NoContent, ProblemHttpResult>> ExecuteAsync(Request request, CancellationToken ct)
    {
        if (!await sessions.Live(request.CallerId).AnyAsync(s => s.Id == request.Id, ct))
        {
            return Problems.NotFound("No such live session of yours.");
        }
        await sessions.RevokeAsync([request.Id], ct);
        return TypedResults.NoContent();
    }
}
