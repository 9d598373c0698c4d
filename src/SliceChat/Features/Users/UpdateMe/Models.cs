using FastEndpoints;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Users.UpdateMe;

public sealed record Request : CallerRequest
{
    [FromClaim(Claims.SessionId)]
    public Guid SessionId { get; init; }

    public string? Username { get; init; }
    public string? Email { get; init; }
    public string? Password { get; init; }
    public string? CurrentPassword { get; init; }
}
