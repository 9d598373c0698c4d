using System.Security.Claims;

namespace SliceChat.Infrastructure.Slices;

/// <summary>The access token's claims that slices bind with <c>[FromClaim]</c>.</summary>
public static class Claims
{
    public const string UserId = "sub", Username = "name", SessionId = "sid", ExpiresAt = "exp";
}

/// <summary>The authenticated caller, read from the access token's claims (the socket and token checks use it).</summary>
public sealed record CurrentUser(Guid Id, string Username, Guid SessionId)
{
    public static CurrentUser? FromPrincipal(ClaimsPrincipal principal)
    {
        var sub = principal.FindFirst(Claims.UserId)?.Value;
        var sid = principal.FindFirst(Claims.SessionId)?.Value;
        var name = principal.FindFirst(Claims.Username)?.Value;
        return Guid.TryParse(sub, out var id) && Guid.TryParse(sid, out var sessionId) && name is not null
            ? new CurrentUser(id, name, sessionId)
            : null;
    }

    /// <summary>The caller as a principal with only the claims slices bind, <paramref name="expiresAt"/> the token's <c>exp</c>.</summary>
    public ClaimsPrincipal ToPrincipal(string expiresAt, string authenticationType) => new(new ClaimsIdentity(
        [new Claim(Claims.UserId, Id.ToString()), new Claim(Claims.Username, Username), new Claim(Claims.SessionId, SessionId.ToString()), new Claim(Claims.ExpiresAt, expiresAt)],
        authenticationType, nameType: Claims.Username, roleType: "role"));
}

/// <summary>A request made by the signed-in caller: their id binds from the access token.</summary>
public abstract record CallerRequest
{
    [FastEndpoints.FromClaim(Claims.UserId)]
    public Guid CallerId { get; init; }
}

/// <summary>A caller's request about the conversation in the route's <c>{id}</c>.</summary>
public abstract record ChatroomRequest : CallerRequest
{
    [FastEndpoints.RouteParam]
    public Guid Id { get; init; }
}
