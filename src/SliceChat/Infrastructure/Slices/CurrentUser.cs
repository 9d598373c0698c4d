using System.Security.Claims;
using System.Reflection;

namespace SliceChat.Infrastructure.Slices;

/// <summary>The authenticated caller, read once from the access token's claims.</summary>
public sealed record CurrentUser(Guid Id, string Username, Guid SessionId)
{
    public static CurrentUser? FromPrincipal(ClaimsPrincipal principal)
    {
        var sub = principal.FindFirst("sub")?.Value;
        var sid = principal.FindFirst("sid")?.Value;
        var name = principal.FindFirst("name")?.Value;
        return Guid.TryParse(sub, out var id) && Guid.TryParse(sid, out var sessionId) && name is not null
            ? new CurrentUser(id, name, sessionId)
            : null;
    }

    public static ValueTask<CurrentUser?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        ValueTask.FromResult(FromPrincipal(context.User));
}
