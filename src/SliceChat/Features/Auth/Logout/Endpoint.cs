using Microsoft.AspNetCore.Http.HttpResults;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Auth.Logout;

public sealed class Endpoint : IEndpoint
{
    public const string Route = "/api/v1/auth/logout";

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Route, Handle).WithName("Logout").WithTags("Auth").RequireAuthorization()
            .WithSummary("Revoke this login session everywhere: its access tokens, refresh token and sockets");

    public static async Task<NoContent> Handle(CurrentUser user, LoginSessions sessions, CancellationToken ct)
    {
        await sessions.RevokeAsync([user.SessionId], ct);
        return TypedResults.NoContent();
    }
}
