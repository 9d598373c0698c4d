using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using SliceChat.Infrastructure.Realtime;
using SliceChat.Infrastructure.Security;
using SliceChat.Infrastructure.Slices;

namespace SliceChat.Features.Realtime.Socket;

/// <summary>An <c>auth</c> frame: a fresh access token of the same user extends the socket past its first token's expiry.</summary>
public sealed class AuthHandler(SocketClient client, IOptionsMonitor<JwtBearerOptions> bearer, SessionRevocation revocation)
{
    public async Task HandleAsync(string token)
    {
        var parameters = bearer.Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token, parameters);
        var principal = validation.IsValid ? CurrentUser.FromPrincipal(new ClaimsPrincipal(validation.ClaimsIdentity)) : null;
        if (principal is null || principal.Id != client.User.Id
            || !await revocation.IsActiveAsync(principal.SessionId, principal.Id, client.Connection.Aborted))
        {
            client.Reply(SocketFrames.Error("invalid_token", "The token is invalid, expired, revoked or of another user."));
            return;
        }
        client.Connection.Reauthenticate(principal.SessionId, ((JsonWebToken)validation.SecurityToken).ValidTo);
    }
}
