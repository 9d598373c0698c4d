using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Logout;

public sealed record Request
{
    [FromClaim(Claims.SessionId)]
    public Guid SessionId { get; init; }
}

public sealed class Endpoint(LoginSessions sessions) : Endpoint<Request, NoContent>
{
    public override void Configure()
    {
        Post(ApiRoutes.Logout);
        Summary(s => s.Summary = "Revoke this login session everywhere: its access tokens, refresh token and sockets");
    }

    public override async Task<NoContent> ExecuteAsync(Request request, CancellationToken ct)
    {
        await sessions.RevokeAsync([request.SessionId], ct);
        return TypedResults.NoContent();
    }
}
