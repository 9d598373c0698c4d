using FastEndpoints;
using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.LogoutAll;

public sealed record Request : CallerRequest;

public sealed class Endpoint(LoginSessions sessions) : Endpoint<Request, NoContent>
{
    public override void Configure()
    {
        Post(ApiRoutes.LogoutAll);
        Summary(s => s.Summary = "Revoke every login session of the user, this one included, on every instance");
    }

    public override async Task<NoContent> ExecuteAsync(Request request, CancellationToken ct)
    {
        await sessions.RevokeAllOfUserAsync(request.CallerId, exceptSessionId: null, ct);
        return TypedResults.NoContent();
    }
}
